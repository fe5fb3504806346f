"""An outbox relay is woken by PostgreSQL's NOTIFY when events are committed, on the real
PostgreSQL and RabbitMQ.

Whether a notification was sent is read from a LISTEN connection up to a marker notification
sent after the use case: PostgreSQL delivers notifications in commit order, so whatever the use
case sent arrives before the marker, and "nothing arrived" needs no waiting for a timeout.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
import sqlalchemy as sa
from psycopg import sql

from services.identity.events import UserRegistered
from shared.bus.broker import Broker
from shared.bus.envelope import new_event
from shared.bus.handlers import Handlers
from shared.bus.outbox_listener import OutboxListener, listener_conninfo
from shared.db import Database, UnitOfWork, make_base, outbox_channel
from shared.runtime import Runtime
from shared.testing.fixtures import _url_for, publish_events, wait_for
from shared.worker import Loop, Worker

SERVICE = "probe"
Base = make_base()


@pytest.fixture
def probe_db(postgres: sa.Engine) -> Iterator[Database]:
    """A fresh PostgreSQL database with an outbox, dropped after the test."""
    name = f"t_wakeup_{uuid.uuid4().hex[:10]}"
    with postgres.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    db = Database(_url_for(name), metadata=Base.metadata)
    Base.metadata.create_all(db.engine)
    yield db
    db.dispose()
    with postgres.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def listening(probe_db: Database) -> Iterator[psycopg.Connection]:
    """A connection LISTENing on the probe's outbox channel and on another service's."""
    with psycopg.Connection.connect(listener_conninfo(probe_db), autocommit=True) as conn:
        for service in (SERVICE, "other"):
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(outbox_channel(service))))
        yield conn


def notifications(conn: psycopg.Connection, db: Database) -> list[psycopg.Notify]:
    """What ``conn`` was sent so far, read up to a marker sent now from another connection."""
    channel = outbox_channel(SERVICE)
    with psycopg.Connection.connect(listener_conninfo(db), autocommit=True) as other:
        other.execute("SELECT pg_notify(%s, 'marker')", (channel,))
    seen = []
    for notify in conn.notifies(timeout=10):
        if notify.payload == "marker":
            return seen
        seen.append(notify)
    raise AssertionError("the marker notification did not arrive within 10 s")


def record_registration(uow: UnitOfWork) -> None:
    uow.record(
        UserRegistered(
            user_id=str(uuid.uuid4()),
            email="ada@example.com",
            name="Ada Student",
            roles=["student"],
        )
    )


def unpublished(db: Database) -> int:
    outbox = db.tables.outbox
    with db.session() as s:
        return s.scalar(
            sa.select(sa.func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
        )


def test_a_commit_with_events_notifies_its_services_outbox_channel_only(probe_db, listening):
    with UnitOfWork(probe_db, producer=SERVICE) as uow:
        record_registration(uow)
        record_registration(uow)
        uow.commit()
    seen = notifications(listening, probe_db)
    assert [(n.channel, n.payload) for n in seen] == [(outbox_channel(SERVICE), "")]


def test_a_unit_of_work_that_rolls_back_notifies_nobody(probe_db, listening):
    with UnitOfWork(probe_db, producer=SERVICE) as uow:
        record_registration(uow)
    with UnitOfWork(probe_db, producer=SERVICE) as uow:
        record_registration(uow)
        uow.commit()
        record_registration(uow)
        uow.rollback()
    seen = notifications(listening, probe_db)
    assert len(seen) == 1  # the one commit in between


def test_a_commit_without_events_notifies_nobody(probe_db, listening):
    with UnitOfWork(probe_db, producer=SERVICE) as uow:
        uow.commit()
    assert notifications(listening, probe_db) == []


def test_events_applied_in_a_consumer_batch_notify_nobody(probe_db, listening):
    """The worker wakes its own relay after a batch's commit; NOTIFY is for other processes."""
    with probe_db.sessions() as batch:
        with UnitOfWork(probe_db, producer=SERVICE).join(batch) as uow:
            record_registration(uow)
            uow.commit()
        batch.commit()
    assert unpublished(probe_db) == 1
    assert notifications(listening, probe_db) == []


def test_on_sqlite_events_are_committed_without_notification_and_the_relay_polls(
    tmp_path, bus_settings
):
    db = Database(f"sqlite:///{tmp_path / 'probe.db'}", metadata=Base.metadata)
    Base.metadata.create_all(db.engine)
    try:
        with UnitOfWork(db, producer=SERVICE) as uow:
            record_registration(uow)
            uow.commit()
        assert unpublished(db) == 1
        worker = Worker(Runtime(SERVICE, db, Broker(bus_settings)), Handlers(SERVICE))
        assert worker.outbox_listener is None
        assert [t.name for t in worker.threads()] == ["relay"]
    finally:
        db.dispose()


def test_a_workers_relay_publishes_an_event_another_connection_committed_without_polling(
    probe_db, bus_settings, monkeypatch
):
    # A fallback poll far beyond the bound below: only the notification can be in time.
    monkeypatch.setattr("shared.worker.RELAY_FALLBACK_POLL", 30.0)
    worker = Worker(Runtime(SERVICE, probe_db, Broker(bus_settings)), Handlers(SERVICE))
    threads = worker.threads()
    for thread in threads:
        thread.start()
    try:
        assert worker.outbox_listener is not None
        wait_for(worker.outbox_listener.listening.is_set, message="the listener to LISTEN")
        # The relay's first looks (at start, and the one the listener asks for on connecting)
        # find nothing; after them it waits for a wakeup or for its 30 s fallback poll.
        time.sleep(0.5)
        with UnitOfWork(probe_db, producer=SERVICE) as uow:  # as the web process does
            record_registration(uow)
            uow.commit()
        wait_for(lambda: unpublished(probe_db) == 0, timeout=5, message="the event published")
    finally:
        worker.stop.set()
        for thread in threads:
            thread.join(timeout=10)
    assert not any(t.is_alive() for t in threads)


@pytest.fixture
def listener(probe_db: Database) -> Iterator[OutboxListener]:
    """An outbox listener running in its own thread, stopped (and checked stopped) after."""
    stop = threading.Event()
    listener = OutboxListener(SERVICE, probe_db, threading.Event(), stop)
    thread = threading.Thread(target=listener.run, daemon=True)
    thread.start()
    yield listener
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive(), "the listener did not stop"


def listener_backends(admin: sa.Engine, listener: OutboxListener) -> list[int]:
    database = listener.db.engine.url.database
    with admin.connect() as conn:
        return list(
            conn.scalars(
                sa.text(
                    "SELECT pid FROM pg_stat_activity"
                    " WHERE datname = :database AND application_name = :name"
                ),
                {"database": database, "name": listener.application_name},
            )
        )


def test_the_listener_reconnects_after_its_connection_is_terminated_and_wakes_again(
    postgres, probe_db, listener
):
    wait_for(listener.listening.is_set, message="the listener to LISTEN")
    assert listener.wakeup.wait(timeout=5)  # once after connecting: look for what was missed
    listener.wakeup.clear()
    [backend] = listener_backends(postgres, listener)

    with postgres.connect() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})

    # Back with a new connection, it wakes the relay once for what it may have missed...
    assert listener.wakeup.wait(timeout=15), "no wakeup after reconnecting"
    assert listener.listening.is_set()
    [again] = listener_backends(postgres, listener)
    assert again != backend
    listener.wakeup.clear()
    # ...and hears later commits.
    with UnitOfWork(probe_db, producer=SERVICE) as uow:
        record_registration(uow)
        uow.commit()
    assert listener.wakeup.wait(timeout=5), "a commit after the reconnect woke nobody"


def test_a_consumer_batch_wakes_the_relay_only_when_its_handlers_recorded_events(
    probe_db, bus_settings
):
    handlers = Handlers(SERVICE)

    @handlers.on("user.registered")
    def records_an_event(event, uow):
        with uow:
            record_registration(uow)
            uow.commit()

    @handlers.on("user.invited")
    def records_nothing(event, uow):
        with uow:
            uow.commit()

    broker = Broker(bus_settings)
    loop_wakeups: list[threading.Event] = []
    loop = Loop("probe-loop", lambda runtime, stop, wakeup: loop_wakeups.append(wakeup))
    worker = Worker(Runtime(SERVICE, probe_db, broker), handlers, [loop])
    [loop_thread] = [t for t in worker.threads() if t.name == "job:probe-loop"]
    loop_thread.run()  # hands this test the wakeup the worker gives its loop
    relay_wakeup, [loop_wakeup] = worker._relay_wakeup, loop_wakeups
    worker.consumer.open()  # declares the queue and its bindings before anything is published
    try:
        invited = new_event(
            "user.invited",
            {
                "user_id": str(uuid.uuid4()),
                "email": "tutor@example.com",
                "name": "Tina Tutor",
                "role": "tutor",
                "token": "t",
                "expires_at": datetime.now(UTC) + timedelta(days=7),
            },
            "identity",
        )
        publish_events(broker, invited)
        wait_for(lambda: worker.consumer.poll(0.5) or worker.consumer.processed, timeout=10)
        assert loop_wakeup.is_set() and not relay_wakeup.is_set()
        assert unpublished(probe_db) == 0

        loop_wakeup.clear()
        registered = new_event(
            "user.registered",
            {
                "user_id": str(uuid.uuid4()),
                "email": "ada@example.com",
                "name": "Ada Student",
                "roles": ["student"],
            },
            "identity",
        )
        publish_events(broker, registered)
        wait_for(lambda: worker.consumer.poll(0.5) or worker.consumer.processed >= 2, timeout=10)
        assert loop_wakeup.is_set() and relay_wakeup.is_set()
        assert unpublished(probe_db) == 1
    finally:
        worker.consumer.close()
