"""The broker crashes and restarts in the middle of a stream of sign-ups and enrollments: no
event is lost, none is applied twice.

The suite runs on a RabbitMQ node of this test's own (the shared one is never stopped), with
quorum queues on disk as in production. Students keep registering and enrolling over HTTP
while the broker goes down and comes back: the outbox keeps every event the services commit,
the relays publish them once the broker is back, the consumers reconnect by themselves, and
each consuming service applies every event exactly once.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter

import pytest
import requests
import sqlalchemy as sa

from services.email.models import Delivery
from shared.config import BusSettings
from shared.testing.fixtures import wait_for
from tests.e2e.people import PASSWORD, admin_credentials, api_login

STUDENTS = 10
RESTART_AFTER = 3
"""Enrollments made before the broker goes down; the rest are made while it is down or
coming back."""


@pytest.fixture
def bus_settings(private_rabbitmq) -> BusSettings:
    """The suite's bus on the private node (a fresh exchange and queue names per test)."""
    tag = uuid.uuid4().hex[:10]
    return BusSettings(
        url=private_rabbitmq.url,
        exchange=f"fault.{tag}",
        queue_prefix=f"fault.{tag}.",
        max_attempts=3,
        retry_delay_ms=100,
    )


def enroll(school: dict, number: int) -> str:
    """A new student registers, signs in and takes a free seat; their address."""
    email = f"student{number:02d}@example.com"
    r = requests.post(
        f"{school['identity'].url}/api/users",
        json={"email": email, "password": PASSWORD, "name": f"Student {number}"},
        timeout=30,
    )
    assert r.status_code == 202, r.text
    r = requests.post(
        f"{school['enrollment'].url}/api/enrollments",
        headers=api_login(_Urls(school), email),
        json={"course_slug": "usmle-step-1-prep", "promo_code": "FULLRIDE"},
        timeout=30,
    )
    assert r.status_code == 201 and r.json()["status"] == "active", r.text
    return email


class _Urls:
    """What ``tests.e2e.people`` expects of a school: ``identity.url``."""

    def __init__(self, school: dict) -> None:
        self.identity = school["identity"]


def inbox(svc) -> Counter:
    table = svc.runtime.db.tables.inbox
    with svc.runtime.db.engine.connect() as conn:
        return Counter(conn.scalars(sa.select(table.c.type)))


def unpublished(svc) -> int:
    table = svc.runtime.db.tables.outbox
    with svc.runtime.db.engine.connect() as conn:
        return conn.scalar(
            sa.select(sa.func.count()).select_from(table).where(table.c.published_at.is_(None))
        )


def deliveries(email_svc) -> Counter:
    with email_svc.runtime.db.engine.connect() as conn:
        return Counter(conn.execute(sa.select(Delivery.to_address, Delivery.kind)).all())


def test_a_broker_restart_during_enrollments_loses_nothing_and_applies_nothing_twice(
    services, private_rabbitmq, smtp_server
):
    school = {
        "identity": services("identity", serve=True),
        "enrollment": services("enrollment", serve=True),
        "email": services("email"),
        "testimonials": services("testimonials"),
    }
    for svc in school.values():
        svc.start_worker()
    r = requests.post(
        f"{school['enrollment'].url}/api/admin/promo-codes",
        headers=api_login(_Urls(school), *admin_credentials()),
        json={"code": "FULLRIDE", "kind": "percent", "value": 100},
        timeout=30,
    )
    assert r.status_code == 201, r.text

    enrolled: list[str] = []
    errors: list[BaseException] = []
    restart_now = threading.Event()

    def stream() -> None:
        try:
            for number in range(STUDENTS):
                enrolled.append(enroll(school, number))
                if len(enrolled) == RESTART_AFTER:
                    restart_now.set()
        except BaseException as exc:  # reported by the test thread below
            errors.append(exc)
            restart_now.set()

    students = threading.Thread(target=stream, daemon=True)
    students.start()
    assert restart_now.wait(timeout=60)
    private_rabbitmq.kill()  # a crash, not a polite stop: nothing is flushed on the way out
    private_rabbitmq.start()
    students.join(timeout=120)
    assert not errors, errors
    assert len(enrolled) == STUDENTS

    email, testimonials = school["email"], school["testimonials"]
    wait_for(
        lambda: (
            inbox(email)["enrollment.activated"] == STUDENTS
            and inbox(email)["user.registered"] == STUDENTS
            and inbox(testimonials)["enrollment.activated"] == STUDENTS
        ),
        timeout=90,
        interval=0.2,
        message=f"every event after the restart (email {inbox(email)}, "
        f"testimonials {inbox(testimonials)}; broker log {private_rabbitmq.log_tail(500)})",
    )
    assert unpublished(school["identity"]) == unpublished(school["enrollment"]) == 0
    # Each event was committed once by its producer ...
    assert len(school["identity"].recorded("user.registered")) == STUDENTS
    assert len(school["enrollment"].recorded("enrollment.activated")) == STUDENTS
    # ... and applied once by each consumer: one welcome and one course welcome per student.
    sent = deliveries(email)
    for address in enrolled:
        assert sent[(address, "welcome")] == 1, sent
        assert sent[(address, "course_welcome")] == 1, sent
    assert sum(sent.values()) == 2 * STUDENTS
