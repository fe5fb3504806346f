"""Mail to a person prints times on their clock: the zone their account names (learned from
identity's events), labelled as every page labels it; UTC, plainly, for someone without one."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime

from services.email.tests.test_enrollment_emails import activated, enrollment_event, html, text
from services.email.tests.test_transactional import publish
from shared.bus.envelope import new_event
from shared.testing.fixtures import pump

USER_ID = str(uuid.uuid4())
PAID = datetime(2026, 1, 20, 15, 30, tzinfo=UTC)  # 21:00 in Kolkata, 10:30 in New York


def registered(time_zone: str | None):
    data = {
        "user_id": USER_ID,
        "email": "Ada@Example.com",
        "name": "Ada",
        "roles": ["student"],
        "time_zone": time_zone,
    }
    return new_event("user.registered", data, "identity")


def zone_changed(time_zone: str | None):
    data = {"user_id": USER_ID, "email": "ada@example.com", "time_zone": time_zone}
    return new_event("user.time_zone_changed", data, "identity")


def offer():
    return enrollment_event(
        "enrollment.waitlist_offered",
        offer_expires_at=PAID,
        amount_minor=149900,
        currency="USD",
    )


def test_a_receipt_to_a_student_in_kolkata_says_when_she_paid_on_her_clock(email_service, deliver):
    publish(email_service, registered("Asia/Kolkata"))
    pump(email_service)
    publish(email_service, dataclasses.replace(activated(), occurred_at=PAID))
    pump(email_service)

    receipt = next(m for m in deliver(3) if m["Subject"].startswith("Your receipt"))
    for part in (text(receipt), html(receipt)):
        assert "Tuesday 20 January 2026, 21:00 Kolkata time (IST)" in part
        assert "2 February 2026 to 27 April 2026" in part  # the cycle's dates stay dates
        assert "UTC" not in part


def test_a_changed_zone_moves_the_times_in_later_mail_and_no_zone_is_utc(email_service, deliver):
    publish(email_service, registered("Asia/Kolkata"))
    pump(email_service)
    publish(email_service, zone_changed("America/New_York"))
    pump(email_service)
    publish(email_service, offer())
    pump(email_service)
    publish(email_service, zone_changed(None))
    pump(email_service)
    publish(email_service, offer())
    pump(email_service)

    offers = [m for m in deliver(3) if m["Subject"].startswith("A seat opened up")]
    assert len(offers) == 2
    in_new_york, in_utc = sorted(offers, key=lambda m: "New York" not in text(m))
    assert "Tuesday 20 January 2026, 10:30 New York time (EST)" in text(in_new_york)
    assert "Tuesday 20 January 2026, 10:30 New York time (EST)" in html(in_new_york)
    assert "Tuesday 20 January 2026, 15:30 UTC" in text(in_utc)
