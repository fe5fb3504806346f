"""Enrollment events become the student's emails: receipt, welcome, offers, refunds, notices.

Each test publishes the event on the test bus as enrollment's relay would, lets the email
service consume it, runs the delivery loop and reads what arrived at the SMTP server.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from services.email.tests.conftest import PUBLIC_URL, link_in, past_the_inbox
from services.email.tests.test_transactional import deliveries, publish
from services.email.use_cases import enrollments
from shared.bus.envelope import Event, new_event, typed
from shared.testing.fixtures import pump

ENROLLMENT_ID = str(uuid.uuid4())


def enrollment_event(type_: str, **fields: Any) -> Event:
    data = {
        "enrollment_id": ENROLLMENT_ID,
        "student_id": str(uuid.uuid4()),
        "email": "ada@example.com",
        "name": "Ada",
        "course_slug": "usmle-step-1-prep",
        "course_title": "USMLE Step 1 Prep",
        "cycle_start": date(2026, 2, 2),
        **fields,
    }
    return new_event(type_, data, "enrollment")


def activated(amount_minor: int = 149900, currency: str = "USD") -> Event:
    return enrollment_event(
        "enrollment.activated",
        cycle_end=date(2026, 4, 27),
        access_ends_on=date(2026, 6, 1),
        amount_minor=amount_minor,
        currency=currency,
        payment_id="pay-7f3c" if amount_minor else None,
    )


def text(message) -> str:
    return message.get_body(("plain",)).get_content()


def html(message) -> str:
    return message.get_body(("html",)).get_content()


def by_subject(messages: list) -> dict[str, Any]:
    return {m["Subject"]: m for m in messages}


def test_a_paid_activation_sends_a_receipt_and_a_course_welcome(email_service, deliver):
    event = activated()
    publish(email_service, event)
    pump(email_service)
    rows = deliveries(email_service)
    assert sorted(r.kind for r in rows) == ["course_welcome", "enrollment_receipt"]
    assert {r.event_id for r in rows} == {event.id}

    mail = by_subject(deliver(2))
    assert set(mail) == {"Your receipt for USMLE Step 1 Prep", "Welcome to USMLE Step 1 Prep"}
    receipt = mail["Your receipt for USMLE Step 1 Prep"]
    assert receipt["To"] == "ada@example.com"
    for part in (text(receipt), html(receipt)):
        assert "$1,499.00" in part
        assert "USMLE Step 1 Prep" in part
        assert "2 February 2026 to 27 April 2026" in part
        assert "pay-7f3c" in part
        assert ENROLLMENT_ID in part

    welcome = mail["Welcome to USMLE Step 1 Prep"]
    for part in (text(welcome), html(welcome)):
        assert "Hello Ada" in part
        assert "2 February 2026 to 27 April 2026" in part
        assert "Access until" in part and "1 June 2026" in part
        assert "What to do next" in part
        assert f"{PUBLIC_URL}/my/enrollments" in part
    for message in mail.values():
        assert message.get_content_type() == "multipart/alternative"
        assert "List-Unsubscribe" not in message  # about a purchase: nothing to leave


def test_a_receipt_in_another_currency_shows_the_code_after_the_amount(email_service, deliver):
    publish(email_service, activated(129900, "EUR"))
    pump(email_service)
    receipt = by_subject(deliver(2))["Your receipt for USMLE Step 1 Prep"]
    assert "1,299.00 EUR" in text(receipt) and "1,299.00 EUR" in html(receipt)


def test_a_free_activation_sends_only_the_welcome(email_service, deliver):
    publish(email_service, activated(amount_minor=0))
    pump(email_service)
    assert [r.kind for r in deliveries(email_service)] == ["course_welcome"]
    [welcome] = deliver(1)
    assert welcome["Subject"] == "Welcome to USMLE Step 1 Prep"
    assert "$" not in text(welcome)


def test_an_activation_delivered_twice_sends_the_receipt_and_the_welcome_once(
    email_service, deliver
):
    event = activated()
    publish(email_service, event, times=2)
    pump(email_service)
    assert len(deliveries(email_service)) == 2
    assert len(deliver(2)) == 2
    assert len(deliver()) == 2  # nothing else was queued or is due


def test_an_activation_applied_twice_past_the_inbox_still_queues_two_emails(email_service):
    event = activated()
    for _ in range(2):  # as if the inbox had failed: the (event_id, kind) constraint holds
        enrollments.enrollment_activated(past_the_inbox(email_service, event), typed(event))
    assert sorted(r.kind for r in deliveries(email_service)) == [
        "course_welcome",
        "enrollment_receipt",
    ]


def test_an_expired_hold_links_back_to_the_course(email_service, deliver):
    publish(email_service, enrollment_event("enrollment.expired"))
    pump(email_service)
    [message] = deliver(1)
    assert message["Subject"] == "Your seat hold for USMLE Step 1 Prep expired"
    link = link_in(message, f"{PUBLIC_URL}/courses/")
    assert link == f"{PUBLIC_URL}/courses/usmle-step-1-prep"
    assert link in html(message)
    assert "2 February 2026" in text(message)


def test_a_waitlist_offer_links_to_checkout_and_says_until_when(email_service, deliver):
    event = enrollment_event(
        "enrollment.waitlist_offered",
        offer_expires_at=datetime(2026, 1, 20, 15, 30, tzinfo=UTC),
        amount_minor=149900,
        currency="USD",
    )
    publish(email_service, event)
    pump(email_service)
    [message] = deliver(1)
    assert message["Subject"] == "A seat opened up in USMLE Step 1 Prep"
    link = link_in(message, f"{PUBLIC_URL}/checkout/")
    assert link == f"{PUBLIC_URL}/checkout/{ENROLLMENT_ID}"
    for part in (text(message), html(message)):
        assert "20 January 2026, 15:30 UTC" in part
        assert "$1,499.00" in part
    assert link in html(message)


def test_a_refund_confirmation_shows_the_amount_refunded(email_service, deliver):
    event = enrollment_event("enrollment.refunded", amount_minor=74950, currency="USD")
    publish(email_service, event)
    pump(email_service)
    [message] = deliver(1)
    assert message["Subject"] == "Your refund for USMLE Step 1 Prep"
    for part in (text(message), html(message)):
        assert "$749.50" in part
        assert "USMLE Step 1 Prep" in part
    assert "List-Unsubscribe" not in message


def test_an_access_expiring_notice_names_the_last_day(email_service, deliver):
    event = enrollment_event("enrollment.access_expiring", access_ends_on=date(2026, 6, 1))
    publish(email_service, event)
    pump(email_service)
    [message] = deliver(1)
    assert message["Subject"] == "Your access to USMLE Step 1 Prep ends on 1 June 2026"
    assert "ends on 1 June 2026" in text(message)
    assert "1 June 2026" in html(message)


def test_a_deferral_confirms_the_new_cycle_dates(email_service, deliver):
    event = enrollment_event(
        "enrollment.deferred",
        cycle_start=date(2026, 3, 2),
        from_cycle_start=date(2026, 2, 2),
        access_ends_on=date(2026, 6, 29),
    )
    publish(email_service, event)
    pump(email_service)
    [message] = deliver(1)
    assert message["Subject"] == "Your USMLE Step 1 Prep seat moved to a new cycle"
    for part in (text(message), html(message)):
        assert "2 March 2026" in part  # the new start
        assert "29 June 2026" in part  # the new access end
        assert "2 February 2026" in part  # the cycle it moved from


@pytest.mark.parametrize(
    "event",
    [
        enrollment_event("enrollment.expired"),
        enrollment_event(
            "enrollment.waitlist_offered",
            offer_expires_at=datetime(2026, 1, 20, 15, 30, tzinfo=UTC),
            amount_minor=149900,
            currency="USD",
        ),
        enrollment_event("enrollment.refunded", amount_minor=149900, currency="USD"),
        enrollment_event("enrollment.access_expiring", access_ends_on=date(2026, 6, 1)),
        enrollment_event(
            "enrollment.deferred",
            from_cycle_start=date(2026, 1, 5),
            access_ends_on=date(2026, 6, 1),
        ),
    ],
    ids=lambda e: e.type,
)
def test_each_enrollment_event_delivered_twice_sends_its_email_once(email_service, deliver, event):
    publish(email_service, event, times=2)
    pump(email_service)
    assert len(deliveries(email_service)) == 1
    assert len(deliver(1)) == 1
    assert len(deliver()) == 1
