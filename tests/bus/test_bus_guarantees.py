"""The bus's promises, each checked against the real PostgreSQL and RabbitMQ.

A small probe service (one table, one handler) stands in for any service: the guarantees
belong to ``shared/``, not to a particular service.
"""

from __future__ import annotations

import uuid

import kombu.exceptions
import pytest
import sqlalchemy as sa
from kombu import Producer
from sqlalchemy.orm import Mapped, mapped_column

from services.identity.events import UserRegistered
from shared.bus import dead_letters
from shared.bus.broker import Broker
from shared.bus.consumer import EventConsumer
from shared.bus.envelope import InvalidEvent, new_event
from shared.bus.handlers import Handlers
from shared.bus.relay import OutboxRelay
from shared.db import Database, make_base
from shared.runtime import Runtime
from shared.testing.fixtures import _url_for, wait_for

Base = make_base()


class Greeting(Base):
    __tablename__ = "greetings"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[str]


handlers = Handlers("probe")
calls: list[str] = []


@handlers.on("user.registered")
def greet(event, uow):
    calls.append(event.id)
    if event.data["name"] == "Poison Pill":
        raise RuntimeError("this handler cannot cope with that name")
    with uow:
        uow.session.add(Greeting(user_id=event.data["user_id"]))
        uow.commit()


@pytest.fixture
def probe(postgres, bus_settings):
    name = f"t_probe_{uuid.uuid4().hex[:10]}"
    with postgres.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    db = Database(_url_for(name), metadata=Base.metadata)
    Base.metadata.create_all(db.engine)
    broker = Broker(bus_settings)
    runtime = Runtime("probe", db, broker)
    consumer = EventConsumer("probe", handlers, runtime.uow, broker)
    consumer.open()
    relay = OutboxRelay("probe", db, broker)
    calls.clear()
    yield runtime, consumer, relay
    consumer.close()
    relay.close()
    db.dispose()
    with postgres.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def register(runtime: Runtime, name: str = "Ada Student") -> str:
    user_id = str(uuid.uuid4())
    with runtime.uow() as uow:
        uow.record(
            UserRegistered(user_id=user_id, email="ada@example.com", name=name, roles=["student"])
        )
        uow.commit()
    return user_id


def greetings(runtime: Runtime) -> list[str]:
    with runtime.db.session() as s:
        return list(s.scalars(sa.select(Greeting.user_id)))


def drain(consumer: EventConsumer, relay: OutboxRelay, seconds: float = 1.0) -> None:
    relay.relay_once()
    consumer.poll(seconds)


def test_an_event_committed_while_the_broker_is_unreachable_waits_in_the_outbox(
    probe, bus_settings
):
    runtime, consumer, _ = probe
    user_id = register(runtime)
    dead = Broker(
        bus_settings.__class__(
            **{**bus_settings.__dict__, "url": "amqp://guest:guest@127.0.0.1:1//"}
        )
    )
    offline_relay = OutboxRelay("probe", runtime.db, dead)
    with pytest.raises(kombu.exceptions.OperationalError, match="refused"):
        offline_relay.relay_once()
    assert offline_relay.backlog()[0] == 1
    assert greetings(runtime) == []
    outbox = runtime.db.tables.outbox
    with runtime.db.session() as s:  # the backlog says why it waits
        attempts, error = s.execute(sa.select(outbox.c.attempts, outbox.c.last_error)).one()
    assert attempts == 1 and "refused" in error

    back_online = OutboxRelay("probe", runtime.db, runtime.broker)
    assert back_online.relay_once() == 1
    wait_for(lambda: consumer.poll(0.2) or greetings(runtime), message="the greeting")
    assert greetings(runtime) == [user_id]
    assert back_online.backlog()[0] == 0
    back_online.close()


def test_a_use_case_that_does_not_commit_publishes_nothing(probe):
    runtime, _, relay = probe
    with runtime.uow() as uow:
        uow.record(UserRegistered(user_id="u1", email="a@example.com", name="A", roles=["student"]))
    assert relay.relay_once() == 0


def test_the_same_event_delivered_twice_is_applied_once(probe):
    runtime, consumer, relay = probe
    user_id = register(runtime)
    outbox = runtime.db.tables.outbox
    relay.relay_once()
    with runtime.db.session() as s, s.begin():  # as if the relay crashed before its commit
        s.execute(sa.update(outbox).values(published_at=None))
    assert relay.relay_once() == 1
    wait_for(lambda: consumer.poll(0.3) == 0 and len(calls) >= 1, message="both deliveries")
    assert greetings(runtime) == [user_id]
    assert len(calls) == 1  # the second copy was recognised by the inbox before the handler ran


def test_a_failing_handler_is_retried_then_dead_lettered_while_others_flow(probe):
    runtime, consumer, relay = probe
    register(runtime, name="Poison Pill")
    healthy = register(runtime)
    relay.relay_once()
    # max_attempts=3 in tests, retry delays of 100 ms and 400 ms through the delay queues
    wait_for(
        lambda: consumer.poll(0.2) == 0 and len(calls) >= 4,
        timeout=20,
        message="three tries of the poison event",
    )
    assert greetings(runtime) == [healthy]
    letters = dead_letters.list_dead_letters(runtime.broker, "probe")
    assert len(letters) == 1
    assert letters[0].attempts == 3
    assert "cannot cope" in letters[0].error
    assert letters[0].type == "user.registered"
    # listing leaves the letter where it was
    assert len(dead_letters.list_dead_letters(runtime.broker, "probe")) == 1


def test_replay_delivers_a_dead_letter_again(probe):
    runtime, consumer, relay = probe
    register(runtime, name="Poison Pill")
    relay.relay_once()
    wait_for(
        lambda: (
            dead_letters.list_dead_letters(runtime.broker, "probe")
            if consumer.poll(0.3) == 0
            else None
        ),
        timeout=20,
        message="the dead letter",
    )
    calls.clear()
    assert dead_letters.replay(runtime.broker, "probe") == 1
    assert dead_letters.list_dead_letters(runtime.broker, "probe") == []
    wait_for(
        lambda: consumer.poll(0.2) == 0 and len(calls) >= 3,
        timeout=20,
        message="a fresh set of tries of the replayed event",
    )
    assert len(calls) == 3  # replay starts the count again: all three tries ran
    letters = dead_letters.list_dead_letters(runtime.broker, "probe")
    assert len(letters) == 1 and letters[0].attempts == 3


def test_an_event_outside_the_catalogue_is_refused_at_publish():
    with pytest.raises(InvalidEvent, match="unknown event type"):
        new_event("user.teleported", {"user_id": "u1"}, "probe")
    with pytest.raises(InvalidEvent, match="email"):
        new_event(
            "user.registered",
            {"user_id": "u1", "email": "not-an-email", "name": "A", "roles": ["student"]},
            "probe",
        )
    with pytest.raises(InvalidEvent, match="not in the catalogue"):
        new_event(
            "user.registered",
            {
                "user_id": "u1",
                "email": "a@example.com",
                "name": "A",
                "roles": ["student"],
                "shoe_size": 44,
            },
            "probe",
        )


def test_an_event_outside_the_catalogue_is_refused_at_consume(probe):
    runtime, consumer, _ = probe
    with runtime.broker.connection() as conn:
        runtime.broker.declare_exchange(conn)
        Producer(conn.channel()).publish(
            f'{{"id": "{uuid.uuid4()}", "type": "user.registered", "version": 1, "occurred_at": '
            '"2026-01-01T00:00:00+00:00", "producer": "rogue", "correlation_id": "c", '
            '"data": {"user_id": "u1"}}',
            exchange=runtime.broker.exchange,
            routing_key="user.registered",
            content_type="application/json",
        )
    wait_for(lambda: consumer.poll(0.3), message="the rogue event")
    assert calls == []
    letters = dead_letters.list_dead_letters(runtime.broker, "probe")
    assert len(letters) == 1 and "InvalidEvent" in letters[0].error


def test_a_batch_whose_commit_fails_is_delivered_again_and_applied_once(probe, monkeypatch):
    runtime, consumer, relay = probe
    first, second = register(runtime), register(runtime)
    relay.relay_once()
    real_sessions = runtime.db.sessions

    def session_whose_commit_fails():
        session = real_sessions()
        monkeypatch.setattr(session, "commit", lambda: (_ for _ in ()).throw(OSError("db gone")))
        return session

    monkeypatch.setattr(runtime.db, "sessions", session_whose_commit_fails)
    with pytest.raises(OSError, match="db gone"):
        wait_for(lambda: consumer.poll(0.3), message="the batch")
    assert len(calls) == 2 and greetings(runtime) == []  # applied, then rolled back: no ack
    monkeypatch.setattr(runtime.db, "sessions", real_sessions)
    consumer.close()  # what the worker does after an error: the broker delivers both again

    wait_for(lambda: consumer.poll(0.3) == 0 and len(greetings(runtime)) == 2, message="again")
    assert sorted(greetings(runtime)) == sorted([first, second])
    assert len(calls) == 4
    consumer.poll(0.5)
    assert len(greetings(runtime)) == 2
