"""A worker SIGKILLed in the middle of a handler: the event is delivered again and applied once.

A real ``python -m services.email.worker`` process consumes a ``user.registered`` event from
RabbitMQ. The test holds a lock on the table the handler writes to, so the handler is caught
half-way (its transaction open, the message unacknowledged) when the process is killed. A new
worker then gets the same message from the broker and sends exactly one welcome email.
"""

from __future__ import annotations

import signal

import sqlalchemy as sa

from services.email.models import Delivery
from services.email.tests.test_campaign_crash import start_worker
from shared.bus.envelope import new_event
from shared.testing.fixtures import publish_events, wait_for
from tests.e2e.mail import mails_to


def publish(svc, event) -> None:
    publish_events(svc.runtime.broker, event)


def handler_blocked_on(engine: sa.Engine, table: str) -> bool:
    """Whether another session of this database is waiting for a lock on ``table``."""
    with engine.connect() as conn:
        return bool(
            conn.scalar(
                sa.text(
                    "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                    "WHERE NOT l.granted AND c.relname = :table"
                ),
                {"table": table},
            )
        )


def counts(svc) -> tuple[int, int]:
    inbox = svc.runtime.db.tables.inbox
    with svc.runtime.db.engine.connect() as conn:
        return (
            conn.scalar(sa.select(sa.func.count()).select_from(inbox)),
            conn.scalar(sa.select(sa.func.count()).select_from(Delivery)),
        )


def test_a_worker_killed_mid_handler_leaves_the_event_to_the_next_worker_who_applies_it_once(
    services, smtp_server, tmp_path
):
    email = services("email")
    email.consumer.close()  # only the worker processes below consume
    engine = email.runtime.db.engine
    log = tmp_path / "worker.log"
    event = new_event(
        "user.registered",
        {"user_id": "u-1", "email": "ada@example.com", "name": "Ada", "roles": ["student"]},
        "identity",
    )

    with engine.connect() as blocker:
        blocker.execute(sa.text("LOCK TABLE deliveries IN EXCLUSIVE MODE"))
        worker = start_worker(email, smtp_server, log)
        try:
            publish(email, event)
            wait_for(
                lambda: handler_blocked_on(engine, "deliveries") or worker.poll() is not None,
                timeout=30,
                message="the worker's handler to reach the locked table",
            )
            assert worker.poll() is None, log.read_text()[-2000:]
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
        blocker.rollback()
    assert worker.returncode == -signal.SIGKILL
    assert counts(email) == (0, 0)  # the half-done handler left nothing behind

    successor = start_worker(email, smtp_server, log)
    try:
        wait_for(
            lambda: mails_to(smtp_server, "ada@example.com"),
            timeout=30,
            message=f"the event to be delivered again ({log.read_text()[-2000:]})",
        )
        wait_for(lambda: counts(email) == (1, 1), message="the event applied once")
    finally:
        successor.terminate()
        successor.wait(timeout=20)
    assert len(mails_to(smtp_server, "ada@example.com")) == 1
    assert counts(email) == (1, 1)
