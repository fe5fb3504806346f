"""Paid tutoring becomes emails: the package receipt, session invites (and moves), cancellations
that say what became of the hour, the lesson note, and the day-before reminder.

Each test publishes the event on the test bus as tutoring's relay would, lets the email service
consume it, runs the delivery loop and reads what arrived at the SMTP server. The session is on
10 March 2026 at 14:00 UTC: New York is already on summer time (10:00 EDT), London not yet
(14:00 GMT), so each recipient's wall clock is checked across a DST difference.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from services.email.tests.conftest import PUBLIC_URL, link_in, past_the_inbox
from services.email.tests.test_enrollment_emails import html, text
from services.email.tests.test_transactional import deliveries, publish
from services.email.tests.test_tutoring_emails import (
    assert_local_start,
    by_recipient,
    calendar_of,
)
from services.email.use_cases import tutoring
from shared.bus.envelope import Event, new_event, typed
from shared.calendar import stable_uid
from shared.testing.fixtures import pump

SESSION_ID = str(uuid.uuid4())
UID = stable_uid("session", SESSION_ID)
STUDENT = "ada@example.com"
TUTOR = "rao@preceptor.test"
STUDENT_WHEN = "Tuesday 10 March 2026, 10:00 to 11:00 New York time (EDT)"
TUTOR_WHEN = "Tuesday 10 March 2026, 14:00 to 15:00 London time (GMT)"
ZONES = (
    (STUDENT, "America/New_York", datetime(2026, 3, 10, 10, 0)),
    (TUTOR, "Europe/London", datetime(2026, 3, 10, 14, 0)),
)


def session_event(type_: str, **fields: Any) -> Event:
    data = {
        "session_id": SESSION_ID,
        "student_id": str(uuid.uuid4()),
        "student_email": STUDENT,
        "student_name": "Ada Lovelace",
        "student_timezone": "America/New_York",
        "tutor_id": str(uuid.uuid4()),
        "tutor_email": TUTOR,
        "tutor_name": "Dr Rao",
        "tutor_timezone": "Europe/London",
        "starts_at": datetime(2026, 3, 10, 14, 0, tzinfo=UTC),
        "ends_at": datetime(2026, 3, 10, 15, 0, tzinfo=UTC),
        "ics_uid": UID,
        "ics_sequence": 0,
        **fields,
    }
    return new_event(type_, data, "tutoring")


def booked(**fields: Any) -> Event:
    return session_event("session.booked", **{"rescheduled": False, **fields})


def cancelled(by: str, credit_returned: bool, reason: str = "Unwell, sorry") -> Event:
    return session_event(
        "session.cancelled",
        ics_sequence=1,
        cancelled_by=by,
        credit_returned=credit_returned,
        reason=reason,
    )


def received(email_service, deliver, event: Event, count: int, times: int = 1) -> list:
    """Publish the event, let the service consume it and return the emails it sent."""
    before = len(deliver())
    publish(email_service, event, times=times)
    pump(email_service)
    return deliver(before + count)[before:]


# --- package.purchased ---------------------------------------------------------------------


def purchased() -> Event:
    return new_event(
        "package.purchased",
        {
            "package_id": "pkg-42",
            "student_id": str(uuid.uuid4()),
            "student_email": STUDENT,
            "student_name": "Ada Lovelace",
            "tutor_id": str(uuid.uuid4()),
            "tutor_name": "Dr Rao",
            "hours": 10,
            "amount_minor": 150000,
            "currency": "USD",
        },
        "tutoring",
    )


def test_a_purchased_package_sends_the_student_a_receipt_with_hours_tutor_and_amount(
    email_service, deliver
):
    [message] = received(email_service, deliver, purchased(), 1, times=2)
    assert message["To"] == STUDENT
    assert message["Subject"] == "Your receipt: 10 hours of tutoring with Dr Rao"
    for part in (text(message), html(message)):
        assert "10 hours" in part
        assert "Dr Rao" in part
        assert "$1,500.00" in part
        assert "pkg-42" in part
    link = link_in(message, f"{PUBLIC_URL}/my/")
    assert link == f"{PUBLIC_URL}/my/tutoring"
    assert link in html(message)
    assert not list(message.iter_attachments())
    assert "List-Unsubscribe" not in message
    assert [r.kind for r in deliveries(email_service)] == ["package_receipt"]


# --- session.booked ------------------------------------------------------------------------


def test_a_booked_session_mails_student_and_tutor_each_an_invite_in_their_own_zone(
    email_service, deliver
):
    mail = by_recipient(received(email_service, deliver, booked(), 2))
    student, tutor = mail[STUDENT], mail[TUTOR]
    assert sorted(r.kind for r in deliveries(email_service)) == [
        "session_booked_student",
        "session_booked_tutor",
    ]

    assert student["Subject"] == "Your tutoring session with Dr Rao is booked"
    assert tutor["Subject"] == "Session booked: Ada Lovelace"
    for part in (text(student), html(student)):
        assert STUDENT_WHEN in part
        assert "moved" not in part
    for part in (text(tutor), html(tutor)):
        assert TUTOR_WHEN in part
        assert "Ada Lovelace" in part
    assert link_in(student, f"{PUBLIC_URL}/my/") == f"{PUBLIC_URL}/my/tutoring"
    assert f"{PUBLIC_URL}/tutor" in text(tutor).splitlines()  # the tutor's dashboard

    for address, zone, wall_clock in ZONES:
        calendar, vevent = calendar_of(mail[address], "invite.ics")
        assert calendar["METHOD"] == "REQUEST"
        assert str(vevent["UID"]) == UID
        assert vevent["SEQUENCE"] == 0
        assert vevent["STATUS"] == "CONFIRMED"
        assert_local_start(vevent, zone, wall_clock)
        assert str(vevent["ORGANIZER"]) == f"mailto:{TUTOR}"
        assert str(vevent["ATTENDEE"]) == f"mailto:{STUDENT}"
        assert "tutoring session" in str(vevent["SUMMARY"])
        assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == [zone]


def test_a_moved_session_says_moved_and_keeps_the_uid_with_a_higher_sequence(
    email_service, deliver
):
    first = by_recipient(received(email_service, deliver, booked(), 2))
    moved = booked(
        rescheduled=True,
        ics_sequence=1,
        starts_at=datetime(2026, 3, 12, 15, 0, tzinfo=UTC),
        ends_at=datetime(2026, 3, 12, 16, 0, tzinfo=UTC),
    )
    second = by_recipient(received(email_service, deliver, moved, 2))

    assert second[STUDENT]["Subject"] == "Your tutoring session with Dr Rao was moved"
    assert second[TUTOR]["Subject"] == "Session moved: Ada Lovelace"
    for part in (text(second[STUDENT]), html(second[STUDENT])):
        assert "was moved to a new time" in part
        assert "Thursday 12 March 2026, 11:00 to 12:00 New York time (EDT)" in part
    assert "Your tutoring session with Ada Lovelace was moved" in text(second[TUTOR])
    assert "Thursday 12 March 2026, 15:00 to 16:00 London time (GMT)" in text(second[TUTOR])

    for address, zone, _ in ZONES:
        _, before = calendar_of(first[address], "invite.ics")
        calendar, after = calendar_of(second[address], "invite.ics")
        assert calendar["METHOD"] == "REQUEST"
        assert str(after["UID"]) == str(before["UID"]) == UID
        assert after["SEQUENCE"] > before["SEQUENCE"]
        local = {STUDENT: datetime(2026, 3, 12, 11, 0), TUTOR: datetime(2026, 3, 12, 15, 0)}
        assert_local_start(after, zone, local[address])


def test_a_booking_delivered_twice_mails_each_person_once(email_service, deliver):
    received(email_service, deliver, booked(), 2, times=2)
    assert len(deliveries(email_service)) == 2
    assert len(deliver()) == 2  # nothing else was queued or is due


def test_a_booking_applied_twice_past_the_inbox_still_queues_two_emails(email_service):
    event = booked()
    for _ in range(2):  # as if the inbox had failed: the (event_id, kind) constraint holds
        tutoring.session_booked(past_the_inbox(email_service, event), typed(event))
    assert len(deliveries(email_service)) == 2


# --- session.cancelled ---------------------------------------------------------------------


def test_a_tutor_cancellation_tells_both_and_the_student_that_the_hour_came_back(
    email_service, deliver
):
    event = cancelled(by="tutor", credit_returned=True)
    mail = by_recipient(received(email_service, deliver, event, 2, times=2))
    student, tutor = mail[STUDENT], mail[TUTOR]

    assert student["Subject"] == "Your tutoring session with Dr Rao is cancelled"
    assert tutor["Subject"] == "Session cancelled: Ada Lovelace"
    assert "Dr Rao cancelled your tutoring session." in text(student)
    assert "You cancelled the tutoring session with Ada Lovelace." in text(tutor)
    for part in (text(student), html(student)):
        assert "The hour was returned to your package" in part
        assert "forfeited" not in part
        assert "Unwell, sorry" in part
        assert STUDENT_WHEN in part
    assert TUTOR_WHEN in text(tutor)
    assert link_in(student, f"{PUBLIC_URL}/my/") == f"{PUBLIC_URL}/my/tutoring"

    for address, zone, wall_clock in ZONES:
        calendar, vevent = calendar_of(mail[address], "cancellation.ics")
        assert calendar["METHOD"] == "CANCEL"
        assert str(vevent["UID"]) == UID
        assert vevent["SEQUENCE"] == 1
        assert vevent["STATUS"] == "CANCELLED"
        assert_local_start(vevent, zone, wall_clock)
    assert len(deliveries(email_service)) == 2


def test_a_late_cancellation_by_the_student_says_the_hour_was_forfeited(email_service, deliver):
    event = cancelled(by="student", credit_returned=False, reason="")
    mail = by_recipient(received(email_service, deliver, event, 2))
    student, tutor = mail[STUDENT], mail[TUTOR]
    for part in (text(student), html(student)):
        assert "You cancelled your tutoring session with Dr Rao." in part
        assert "late cancellation" in part
        assert "the hour was forfeited and not returned" in part
        assert "returned to your package:" not in part
    assert "Ada Lovelace cancelled their tutoring session with you." in text(tutor)
    assert "Reason" not in text(tutor)  # no reason given, no empty line for it
    for address, _, _ in ZONES:
        calendar, _ = calendar_of(mail[address], "cancellation.ics")
        assert calendar["METHOD"] == "CANCEL"


def test_an_early_cancellation_by_the_student_says_the_hour_was_returned(email_service, deliver):
    event = cancelled(by="student", credit_returned=True)
    mail = by_recipient(received(email_service, deliver, event, 2))
    assert "You cancelled your tutoring session" in text(mail[STUDENT])
    assert "The hour was returned to your package" in text(mail[STUDENT])
    assert "forfeited" not in text(mail[STUDENT])


# --- session.completed ---------------------------------------------------------------------


def completed(note: str) -> Event:
    return new_event(
        "session.completed",
        {
            "session_id": SESSION_ID,
            "student_id": str(uuid.uuid4()),
            "student_email": STUDENT,
            "student_name": "Ada Lovelace",
            "tutor_id": str(uuid.uuid4()),
            "tutor_name": "Dr Rao",
            "starts_at": datetime(2026, 3, 10, 14, 0, tzinfo=UTC),
            "lesson_note": note,
        },
        "tutoring",
    )


def test_a_completed_session_mails_the_student_the_lesson_note(email_service, deliver):
    note = "Covered renal physiology.\nGood on acid-base.\n\nHomework: 40 UWorld <renal> Qs."
    [message] = received(email_service, deliver, completed(note), 1, times=2)
    assert message["To"] == STUDENT
    assert message["Subject"] == "Your lesson note from Dr Rao"
    assert note in text(message)
    assert "10 March 2026, 14:00 UTC" in text(message)
    body = html(message)
    assert "<p>Covered renal physiology.<br>Good on acid-base.</p>" in body
    assert "<p>Homework: 40 UWorld &lt;renal&gt; Qs.</p>" in body  # the note is escaped
    assert link_in(message, f"{PUBLIC_URL}/my/") == f"{PUBLIC_URL}/my/tutoring"
    assert not list(message.iter_attachments())
    assert [r.kind for r in deliveries(email_service)] == ["session_lesson_note"]


# --- session.reminder_due ------------------------------------------------------------------


def test_a_reminder_tells_each_person_the_local_time_tomorrow_with_the_invite_again(
    email_service, deliver
):
    event = session_event("session.reminder_due", ics_sequence=2)
    mail = by_recipient(received(email_service, deliver, event, 2, times=2))
    student, tutor = mail[STUDENT], mail[TUTOR]
    assert student["Subject"] == "Your session is tomorrow at 10:00 EDT"
    assert tutor["Subject"] == "Your session with Ada Lovelace is tomorrow at 14:00 GMT"
    assert "your tutoring session with Dr Rao is tomorrow at 10:00 EDT" in text(student)
    for part in (text(student), html(student)):
        assert "is tomorrow at 10:00 EDT" in part
        assert STUDENT_WHEN in part
    assert TUTOR_WHEN in text(tutor)
    assert sorted(r.kind for r in deliveries(email_service)) == [
        "session_reminder_student",
        "session_reminder_tutor",
    ]

    for address, zone, wall_clock in ZONES:
        calendar, vevent = calendar_of(mail[address], "invite.ics")
        assert calendar["METHOD"] == "REQUEST"
        assert str(vevent["UID"]) == UID
        assert vevent["SEQUENCE"] == 2  # the current sequence: the entry stays as it is
        assert_local_start(vevent, zone, wall_clock)
    assert len(deliver()) == 2
