"""The delivery loop against a real SMTP server that goes away and comes back."""

from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from datetime import timedelta

import sqlalchemy as sa

from services.email import delivery, domain
from services.email.delivery import Deliveries, send_all_due, send_due
from services.email.models import Delivery
from services.email.tests.conftest import past_the_inbox
from services.email.tests.test_transactional import registered
from services.email.use_cases import accounts
from shared.bus.envelope import typed
from shared.db import utcnow


def queue_welcome(svc, email: str = "ada@example.com") -> str:
    event = registered(email)
    accounts.welcome(past_the_inbox(svc, event), typed(event))
    return event.id


def the_delivery(svc) -> Delivery:
    with svc.runtime.db.session() as s:
        return s.scalars(sa.select(Delivery)).one()


def set_delivery(svc, **values) -> None:
    with svc.runtime.db.session() as s, s.begin():
        s.execute(sa.update(Delivery).values(**values))


def test_a_delivery_waits_with_backoff_while_smtp_is_down_and_goes_once_it_is_back(
    email_service, smtp_server
):
    queue_welcome(email_service)
    smtp_server.stop()
    assert send_due(email_service.runtime) == 0
    waiting = the_delivery(email_service)
    assert waiting.status == "queued"
    assert waiting.attempts == 1
    assert "connect" in waiting.last_error
    assert waiting.next_attempt_at >= utcnow() + timedelta(seconds=25)

    smtp_server.start()
    assert send_due(email_service.runtime) == 0  # not due yet: the backoff is respected
    assert smtp_server.messages() == []

    assert send_due(email_service.runtime, now=waiting.next_attempt_at) == 1
    [message] = smtp_server.wait_for(1)
    sent = the_delivery(email_service)
    assert sent.status == "sent"
    assert sent.attempts == 2
    assert sent.sent_at is not None
    assert message["Message-ID"] == f"<{sent.id}@preceptor.localhost>"


def test_backoff_grows_and_the_eighth_failure_gives_up(email_service, smtp_server):
    queue_welcome(email_service)
    smtp_server.stop()
    moments = []
    now = utcnow()
    for _ in range(domain.MAX_ATTEMPTS):
        send_due(email_service.runtime, now=now)
        row = the_delivery(email_service)
        if row.next_attempt_at is None:
            break
        moments.append(row.next_attempt_at - now)
        now = row.next_attempt_at
    gaps = [m.total_seconds() for m in moments]
    assert gaps == sorted(gaps) and gaps[0] < gaps[-1]
    final = the_delivery(email_service)
    assert final.status == "failed"
    assert final.attempts == domain.MAX_ATTEMPTS
    assert len(gaps) == domain.MAX_ATTEMPTS - 1


def test_a_delivery_stuck_in_sending_is_retried_after_ten_minutes(email_service, smtp_server):
    queue_welcome(email_service)
    set_delivery(email_service, status="sending", claimed_at=utcnow() - timedelta(minutes=5))
    assert send_due(email_service.runtime) == 0  # its worker may still be sending it

    set_delivery(email_service, claimed_at=utcnow() - timedelta(minutes=11))
    assert send_due(email_service.runtime) == 1
    assert len(smtp_server.wait_for(1)) == 1
    assert the_delivery(email_service).status == "sent"


def test_a_delivery_locked_by_another_worker_is_skipped_not_sent_twice(email_service, smtp_server):
    queue_welcome(email_service)
    with email_service.runtime.db.session() as other, other.begin():
        other.scalars(sa.select(Delivery).with_for_update()).one()  # another worker's claim
        assert send_due(email_service.runtime) == 0
    assert send_due(email_service.runtime) == 1
    assert len(smtp_server.wait_for(1)) == 1


def test_one_batch_uses_one_smtp_connection_for_every_email(email_service, smtp_server, caplog):
    for n in range(5):
        queue_welcome(email_service, f"student{n}@example.com")
    caplog.set_level(logging.INFO, logger="mail.log")
    assert send_due(email_service.runtime) == 5
    messages = smtp_server.wait_for(5)
    connections = [r for r in caplog.records if r.getMessage().endswith("handling connection")]
    assert len(connections) == 1
    assert sorted(m["To"] for m in messages) == [f"student{n}@example.com" for n in range(5)]


def test_a_pile_of_due_emails_goes_out_through_several_loops_each_email_once(
    email_service, smtp_server, caplog
):
    addresses = [f"student{n:02d}@example.com" for n in range(45)]
    for address in addresses:
        queue_welcome(email_service, address)
    caplog.set_level(logging.INFO, logger="mail.log")
    assert send_all_due(email_service.runtime) == 45
    messages = smtp_server.wait_for(45)
    assert sorted(str(m["To"]) for m in messages) == addresses  # each once
    connections = [r for r in caplog.records if r.getMessage().endswith("handling connection")]
    assert len(connections) > 1  # a pile is not sent down one connection, one by one
    with email_service.runtime.db.session() as s:
        statuses = set(s.scalars(sa.select(Delivery.status)))
    assert statuses == {"sent"}


@contextmanager
def delivery_loop(svc, every: float = 30.0):
    """The worker's delivery loop in a thread; it polls only every ``every`` seconds, so what
    arrives sooner came from the wake-up."""
    stop, wakeup = threading.Event(), threading.Event()
    loop = threading.Thread(target=Deliveries(svc.runtime).run, args=(stop, wakeup, every))
    loop.start()
    try:
        yield wakeup
    finally:
        stop.set()
        wakeup.set()
        loop.join(timeout=10)
    assert not loop.is_alive()


def test_the_worker_loop_sends_at_the_wake_up_over_a_connection_kept_open(
    email_service, smtp_server, caplog
):
    caplog.set_level(logging.INFO, logger="mail.log")
    with delivery_loop(email_service) as wakeup:
        time.sleep(0.2)  # the loop's first look is over: it now waits 30 s or for the wake-up
        queue_welcome(email_service, "first@example.com")
        wakeup.set()
        smtp_server.wait_for(1, timeout=5)
        queue_welcome(email_service, "second@example.com")
        wakeup.set()
        messages = smtp_server.wait_for(2, timeout=5)
    assert sorted(str(m["To"]) for m in messages) == ["first@example.com", "second@example.com"]
    connections = [r for r in caplog.records if r.getMessage().endswith("handling connection")]
    assert len(connections) == 1


def test_a_connection_the_server_dropped_while_idle_is_replaced_before_the_next_email(
    email_service, smtp_server, monkeypatch
):
    monkeypatch.setattr(delivery, "CHECK_AFTER", 0.0)  # check the connection before each email
    with delivery_loop(email_service) as wakeup:
        time.sleep(0.2)
        queue_welcome(email_service, "first@example.com")
        wakeup.set()
        smtp_server.wait_for(1, timeout=5)
        smtp_server.stop()  # closes the loop's open connection
        smtp_server.start()
        queue_welcome(email_service, "second@example.com")
        wakeup.set()
        messages = smtp_server.wait_for(2, timeout=5)
    assert sorted(str(m["To"]) for m in messages) == ["first@example.com", "second@example.com"]
    with email_service.runtime.db.session() as s:
        rows = s.execute(sa.select(Delivery.status, Delivery.attempts)).all()
    assert rows == [("sent", 1), ("sent", 1)]  # no failed try, no backoff
