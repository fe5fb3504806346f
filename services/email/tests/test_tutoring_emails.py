"""Tutoring events become emails: consultation invites and cancellations with a calendar file for
both people, a thank-you after the consultation, and the study plan's announcement.

Each test publishes the event on the test bus as tutoring's relay would, lets the email service
consume it, runs the delivery loop and reads what arrived at the SMTP server. The consultation
is on 10 March 2026 at 14:00 UTC: New York is already on summer time (10:00 EDT), London not
yet (14:00 GMT), so each recipient's wall clock is checked across a DST difference.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

from icalendar import Calendar

from services.email.tests.conftest import PUBLIC_URL, link_in, past_the_inbox
from services.email.tests.test_enrollment_emails import html, text
from services.email.tests.test_transactional import deliveries, publish
from services.email.use_cases import tutoring
from shared.bus.envelope import Event, new_event, typed
from shared.calendar import stable_uid
from shared.testing.fixtures import pump

CONSULTATION_ID = str(uuid.uuid4())
UID = stable_uid("consultation", CONSULTATION_ID)
STUDENT = "ada@example.com"
TUTOR = "rao@preceptor.test"


def meeting_event(type_: str, **fields: Any) -> Event:
    data = {
        "consultation_id": CONSULTATION_ID,
        "student_id": str(uuid.uuid4()),
        "student_email": STUDENT,
        "student_name": "Ada Lovelace",
        "student_timezone": "America/New_York",
        "tutor_id": str(uuid.uuid4()),
        "tutor_email": TUTOR,
        "tutor_name": "Dr Rao",
        "tutor_timezone": "Europe/London",
        "starts_at": datetime(2026, 3, 10, 14, 0, tzinfo=UTC),
        "ends_at": datetime(2026, 3, 10, 14, 45, tzinfo=UTC),
        "ics_uid": UID,
        "ics_sequence": 0,
        **fields,
    }
    return new_event(type_, data, "tutoring")


def booked(**fields: Any) -> Event:
    return meeting_event("consultation.booked", **fields)


def cancelled(by: str, reason: str = "Unwell, sorry") -> Event:
    return meeting_event("consultation.cancelled", ics_sequence=1, cancelled_by=by, reason=reason)


def by_recipient(messages: list) -> dict[str, Any]:
    return {m["To"]: m for m in messages}


def calendar_of(message, filename: str) -> tuple[Calendar, Any]:
    """The attached calendar file, parsed, and its one event."""
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == filename
    assert attachment.get_content_type() == "text/calendar"
    calendar = Calendar.from_ical(attachment.get_content())
    [event] = calendar.walk("VEVENT")
    assert attachment.get_param("method") == str(calendar["METHOD"])
    return calendar, event


def assert_local_start(event, zone: str, wall_clock: datetime) -> None:
    assert event["DTSTART"].params["TZID"] == zone
    start = event.decoded("DTSTART")
    assert str(start.tzinfo) == zone
    assert start.replace(tzinfo=None) == wall_clock


def test_a_booking_mails_the_student_and_the_tutor_each_an_invite_in_their_own_zone(
    email_service, deliver
):
    event = booked()
    publish(email_service, event)
    pump(email_service)
    rows = {r.kind: r for r in deliveries(email_service)}
    assert set(rows) == {"consultation_booked_student", "consultation_booked_tutor"}
    assert rows["consultation_booked_student"].to_address == STUDENT
    assert rows["consultation_booked_tutor"].to_address == TUTOR
    for row in rows.values():  # the row alone rebuilds the email after a restart
        [stored] = json.loads(row.attachments)
        assert stored["filename"] == "invite.ics"

    mail = by_recipient(deliver(2))
    student, tutor = mail[STUDENT], mail[TUTOR]

    assert student["Subject"] == "Your initial consultation with Dr Rao is booked"
    for part in (text(student), html(student)):
        assert "Tuesday 10 March 2026, 10:00 to 10:45 New York time (EDT)" in part
        for thing in ("exam date", "score reports", "hours a week", "weakest"):
            assert thing in part
    assert link_in(student, f"{PUBLIC_URL}/my/") == f"{PUBLIC_URL}/my/tutoring"

    assert tutor["Subject"] == "New consultation: Ada Lovelace"
    link = link_in(tutor, f"{PUBLIC_URL}/tutor/consultations/")
    assert link == f"{PUBLIC_URL}/tutor/consultations/{CONSULTATION_ID}"
    assert link in html(tutor)
    for part in (text(tutor), html(tutor)):
        assert "Tuesday 10 March 2026, 14:00 to 14:45 London time (GMT)" in part
        assert STUDENT in part

    for message, zone, wall_clock in (
        (student, "America/New_York", datetime(2026, 3, 10, 10, 0)),
        (tutor, "Europe/London", datetime(2026, 3, 10, 14, 0)),
    ):
        calendar, vevent = calendar_of(message, "invite.ics")
        assert calendar["METHOD"] == "REQUEST"
        assert str(vevent["UID"]) == UID
        assert vevent["SEQUENCE"] == 0
        assert_local_start(vevent, zone, wall_clock)
        assert str(vevent["ORGANIZER"]) == f"mailto:{TUTOR}"
        assert str(vevent["ATTENDEE"]) == f"mailto:{STUDENT}"
        assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == [zone]
        assert "List-Unsubscribe" not in message  # about a booking: nothing to leave


def test_the_invite_is_also_inline_so_outlook_offers_accept_and_decline(email_service, deliver):
    publish(email_service, booked())
    pump(email_service)
    for message in deliver(2):
        body = message.get_body(("related", "html", "plain"))
        alternative = next(p for p in message.iter_parts() if p.is_multipart())
        types = [p.get_content_type() for p in alternative.iter_parts()]
        assert types == ["text/plain", "text/html", "text/calendar"]
        inline = list(alternative.iter_parts())[2]
        assert inline.get_param("method") == "REQUEST"
        assert str(Calendar.from_ical(inline.get_content()).walk("VEVENT")[0]["UID"]) == UID
        assert body.get_content_type() == "text/html"


def test_a_booking_delivered_twice_mails_each_person_once(email_service, deliver):
    event = booked()
    publish(email_service, event, times=2)
    pump(email_service)
    assert len(deliveries(email_service)) == 2
    assert sorted(m["To"] for m in deliver(2)) == sorted([STUDENT, TUTOR])
    assert len(deliver()) == 2  # nothing else was queued or is due


def test_a_booking_applied_twice_past_the_inbox_still_queues_two_emails(email_service):
    event = booked()
    for _ in range(2):  # as if the inbox had failed: the (event_id, kind) constraint holds
        tutoring.consultation_booked(past_the_inbox(email_service, event), typed(event))
    assert len(deliveries(email_service)) == 2


def test_a_cancellation_by_the_tutor_sends_both_a_cancel_for_the_same_calendar_entry(
    email_service, deliver
):
    publish(email_service, booked())
    pump(email_service)
    deliver(2)
    publish(email_service, cancelled(by="tutor"))
    pump(email_service)
    mail = by_recipient(deliver(4)[2:])
    student, tutor = mail[STUDENT], mail[TUTOR]

    assert student["Subject"] == "Your consultation with Dr Rao is cancelled"
    assert tutor["Subject"] == "Consultation cancelled: Ada Lovelace"
    for part in (text(student), html(student)):
        assert "Dr Rao" in part and "cancelled" in part
        assert "You cancelled" not in part
        assert "Unwell, sorry" in part
        assert "Tuesday 10 March 2026, 10:00 to 10:45 New York time (EDT)" in part
    assert "Dr Rao cancelled your initial consultation." in text(student)
    assert "You cancelled the initial consultation with Ada Lovelace" in text(tutor)
    assert "You cancelled" in html(tutor)
    assert link_in(student, f"{PUBLIC_URL}/my/") == f"{PUBLIC_URL}/my/tutoring"

    for message, zone, wall_clock in (
        (student, "America/New_York", datetime(2026, 3, 10, 10, 0)),
        (tutor, "Europe/London", datetime(2026, 3, 10, 14, 0)),
    ):
        calendar, vevent = calendar_of(message, "cancellation.ics")
        assert calendar["METHOD"] == "CANCEL"
        assert str(vevent["UID"]) == UID
        assert vevent["SEQUENCE"] == 1  # the event's sequence, past the invite's 0
        assert vevent["STATUS"] == "CANCELLED"
        assert_local_start(vevent, zone, wall_clock)


def test_a_cancellation_by_the_student_names_the_student_to_the_tutor(email_service, deliver):
    event = cancelled(by="student", reason="")
    publish(email_service, event, times=2)
    pump(email_service)
    assert sorted(r.kind for r in deliveries(email_service)) == [
        "consultation_cancelled_student",
        "consultation_cancelled_tutor",
    ]
    mail = by_recipient(deliver(2))
    assert "You cancelled" in text(mail[STUDENT])
    assert "Ada Lovelace cancelled their initial consultation with you" in text(mail[TUTOR])
    assert "Reason" not in text(mail[TUTOR])  # no reason given, no empty line for it
    assert len(deliver()) == 2


def test_a_completed_consultation_thanks_the_student_and_points_to_booking_sessions(
    email_service, deliver
):
    event = new_event(
        "consultation.completed",
        {
            "consultation_id": CONSULTATION_ID,
            "student_id": str(uuid.uuid4()),
            "student_email": STUDENT,
            "student_name": "Ada Lovelace",
            "tutor_id": str(uuid.uuid4()),
            "tutor_name": "Dr Rao",
        },
        "tutoring",
    )
    publish(email_service, event, times=2)
    pump(email_service)
    [message] = deliver(1)
    assert message["To"] == STUDENT
    assert message["Subject"] == "Thanks for your consultation"
    link = link_in(message, f"{PUBLIC_URL}/my/")
    assert link == f"{PUBLIC_URL}/my/tutoring"
    assert link in html(message)
    for part in (text(message), html(message)):
        assert "Dr Rao is preparing your study plan" in part
        assert "book your tutoring sessions" in part
    assert not list(message.iter_attachments())
    assert len(deliver()) == 1


def plan_published(version: int) -> Event:
    return new_event(
        "study_plan.published",
        {
            "plan_id": str(uuid.uuid4()),
            "version": version,
            "student_id": str(uuid.uuid4()),
            "student_email": STUDENT,
            "student_name": "Ada Lovelace",
            "tutor_name": "Dr Rao",
            "exam": "step1",  # as tutoring sends it: the slug
            "exam_date": date(2026, 6, 15),
        },
        "tutoring",
    )


def test_a_published_study_plan_names_the_exam_and_its_date_and_links_to_tutoring(
    email_service, deliver
):
    publish(email_service, plan_published(1))
    pump(email_service)
    [message] = deliver(1)
    assert message["Subject"] == "Your study plan is ready"
    link = link_in(message, f"{PUBLIC_URL}/my/")
    assert link == f"{PUBLIC_URL}/my/tutoring"
    assert link in html(message)
    for part in (text(message), html(message)):
        assert "USMLE Step 1" in part and "step1" not in part
        assert "15 June 2026" in part
        assert "Your study plan from" in part


def test_a_revised_study_plan_says_which_version_is_ready(email_service, deliver):
    publish(email_service, plan_published(2))
    pump(email_service)
    [message] = deliver(1)
    for part in (text(message), html(message)):
        assert "Dr Rao revised your study plan: version 2 is ready" in part


def test_an_unknown_time_zone_falls_back_to_utc_instead_of_losing_the_emails(email_service):
    event = booked(student_timezone="Mars/Olympus_Mons")
    tutoring.consultation_booked(past_the_inbox(email_service, event), typed(event))
    rows = {r.kind: r for r in deliveries(email_service)}
    student = rows["consultation_booked_student"]
    assert "Tuesday 10 March 2026, 14:00 to 14:45 UTC" in student.text_body
    assert "London time (GMT)" in rows["consultation_booked_tutor"].text_body
