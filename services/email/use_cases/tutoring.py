"""Tutoring's events become emails: consultations, study plans, packages, paid sessions and
their day-before reminders.

Where both people are told, one commit queues both emails, each on its reader's clock, with a
calendar invite or cancellation that tutoring's UID and sequence keep on one calendar entry.
"""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo

from services.email import audiences, compose, domain, reader_zones
from services.email.domain import Kind
from services.email.messages import format_money, render
from services.tutoring.events import (
    ConsultationBooked,
    ConsultationCancelled,
    ConsultationCompleted,
    MeetingFacts,
    PackagePurchased,
    SendSessionReminder,
    SessionBooked,
    SessionCancelled,
    SessionCompleted,
    StudyPlanPublished,
)
from shared import calendar, clock, config
from shared.bus.handlers import handles
from shared.db import UnitOfWork

# --- tutoring: consultations and study plans ----------------------------------------------


@handles(ConsultationBooked)
def consultation_booked(uow: UnitOfWork, event: ConsultationBooked) -> None:
    """Both people get a confirmation with a METHOD:REQUEST invite, each in their own zone.

    One commit queues both, so the student is never told of a meeting the tutor does not know.
    """
    student_zone, tutor_zone = compose.zones(event)
    tutoring_url = compose.tutoring_url()
    consultation_url = _consultation_url(event.consultation_id)
    student = {
        "name": event.student_name,
        "tutor_name": event.tutor_name,
        "when": compose.meeting_time(event, student_zone),
        "tutoring_url": tutoring_url,
    }
    tutor = {
        "name": event.tutor_name,
        "student_name": event.student_name,
        "student_email": event.student_email,
        "when": compose.meeting_time(event, tutor_zone),
        "consultation_url": consultation_url,
    }
    student_meeting = compose.meeting(event, tutoring_url)
    tutor_meeting = compose.meeting(event, consultation_url)
    compose.queue_to_each(
        uow,
        {
            Kind.CONSULTATION_BOOKED_STUDENT: (
                event.student_email,
                render(
                    Kind.CONSULTATION_BOOKED_STUDENT,
                    student,
                    (compose.invite(student_meeting, student_zone),),
                ),
            ),
            Kind.CONSULTATION_BOOKED_TUTOR: (
                event.tutor_email,
                render(
                    Kind.CONSULTATION_BOOKED_TUTOR,
                    tutor,
                    (compose.invite(tutor_meeting, tutor_zone),),
                ),
            ),
        },
    )


@handles(ConsultationCancelled)
def consultation_cancelled(uow: UnitOfWork, event: ConsultationCancelled) -> None:
    """Both people learn who cancelled; the METHOD:CANCEL (same UID, the event's sequence,
    which tutoring already bumped) removes the entry the invite made in their calendars."""
    student_zone, tutor_zone = compose.zones(event)
    by_student = event.cancelled_by == "student"
    shared_facts = {"reason": event.reason.strip()}
    student = {
        **shared_facts,
        "name": event.student_name,
        "tutor_name": event.tutor_name,
        "when": compose.meeting_time(event, student_zone),
        "by_you": by_student,
        "tutoring_url": compose.tutoring_url(),
    }
    tutor = {
        **shared_facts,
        "name": event.tutor_name,
        "student_name": event.student_name,
        "when": compose.meeting_time(event, tutor_zone),
        "by_you": not by_student,
        "consultation_url": _consultation_url(event.consultation_id),
    }
    meeting = compose.meeting(event, None)
    compose.queue_to_each(
        uow,
        {
            Kind.CONSULTATION_CANCELLED_STUDENT: (
                event.student_email,
                render(
                    Kind.CONSULTATION_CANCELLED_STUDENT,
                    student,
                    (compose.cancellation(meeting, student_zone),),
                ),
            ),
            Kind.CONSULTATION_CANCELLED_TUTOR: (
                event.tutor_email,
                render(
                    Kind.CONSULTATION_CANCELLED_TUTOR,
                    tutor,
                    (compose.cancellation(meeting, tutor_zone),),
                ),
            ),
        },
    )


@handles(ConsultationCompleted)
def consultation_completed(uow: UnitOfWork, event: ConsultationCompleted) -> None:
    context = {
        "name": event.student_name,
        "tutor_name": event.tutor_name,
        "tutoring_url": compose.tutoring_url(),
    }
    compose.queue_once(
        uow,
        Kind.CONSULTATION_COMPLETED,
        event.student_email,
        context,
        learn=lambda db: audiences.learn_consultation(db, event),
    )


@handles(StudyPlanPublished)
def study_plan_published(uow: UnitOfWork, event: StudyPlanPublished) -> None:
    context = {
        "name": event.student_name,
        "tutor_name": event.tutor_name,
        "version": event.version,
        "exam": domain.exam_name(event.exam),
        "exam_date": compose.day(event.exam_date),
        "tutoring_url": compose.tutoring_url(),
    }
    compose.queue_once(uow, Kind.STUDY_PLAN_PUBLISHED, event.student_email, context)


# --- tutoring: packages and paid sessions ------------------------------------------------


@handles(PackagePurchased)
def package_purchased(uow: UnitOfWork, event: PackagePurchased) -> None:
    """The receipt is also the student's news that the hours are there to book, so it goes
    out even for a package that cost nothing."""
    hours = event.hours
    context = {
        "name": event.student_name,
        "tutor_name": event.tutor_name,
        "hours": hours,
        "hours_label": _hours(hours),
        "amount": format_money(event.amount_minor, event.currency),
        "package_id": event.package_id,
        "tutoring_url": compose.tutoring_url(),
    }
    compose.queue_once(uow, Kind.PACKAGE_RECEIPT, event.student_email, context)


@handles(SessionBooked)
def session_booked(uow: UnitOfWork, event: SessionBooked) -> None:
    """Both people get a METHOD:REQUEST in their own zone. A move is the same UID with the
    higher sequence tutoring sent, so calendars shift the entry rather than add another."""
    moved = event.rescheduled
    student_zone, tutor_zone = compose.zones(event)
    student = {
        **_session_people(event),
        "name": event.student_name,
        "when": compose.meeting_time(event, student_zone),
        "moved": moved,
        "change": "was moved" if moved else "is booked",
        "tutoring_url": compose.tutoring_url(),
    }
    tutor = {
        **_session_people(event),
        "name": event.tutor_name,
        "when": compose.meeting_time(event, tutor_zone),
        "moved": moved,
        "change": "moved" if moved else "booked",
        "tutor_url": _tutor_url(),
    }
    compose.queue_to_each(
        uow,
        {
            Kind.SESSION_BOOKED_STUDENT: (
                event.student_email,
                render(
                    Kind.SESSION_BOOKED_STUDENT,
                    student,
                    (
                        compose.invite(
                            _session_meeting(event, compose.tutoring_url()), student_zone
                        ),
                    ),
                ),
            ),
            Kind.SESSION_BOOKED_TUTOR: (
                event.tutor_email,
                render(
                    Kind.SESSION_BOOKED_TUTOR,
                    tutor,
                    (compose.invite(_session_meeting(event, _tutor_url()), tutor_zone),),
                ),
            ),
        },
    )


@handles(SessionCancelled)
def session_cancelled(uow: UnitOfWork, event: SessionCancelled) -> None:
    """Both learn who cancelled, with a METHOD:CANCEL for the entry; the student also learns
    whether the hour came back or was forfeited by a late cancellation."""
    student_zone, tutor_zone = compose.zones(event)
    by_student = event.cancelled_by == "student"
    facts = {
        **_session_people(event),
        "reason": event.reason.strip(),
        "credit_returned": event.credit_returned,
    }
    student = {
        **facts,
        "name": event.student_name,
        "when": compose.meeting_time(event, student_zone),
        "by_you": by_student,
        "tutoring_url": compose.tutoring_url(),
    }
    tutor = {
        **facts,
        "name": event.tutor_name,
        "when": compose.meeting_time(event, tutor_zone),
        "by_you": not by_student,
        "tutor_url": _tutor_url(),
    }
    meeting = _session_meeting(event, None)
    compose.queue_to_each(
        uow,
        {
            Kind.SESSION_CANCELLED_STUDENT: (
                event.student_email,
                render(
                    Kind.SESSION_CANCELLED_STUDENT,
                    student,
                    (compose.cancellation(meeting, student_zone),),
                ),
            ),
            Kind.SESSION_CANCELLED_TUTOR: (
                event.tutor_email,
                render(
                    Kind.SESSION_CANCELLED_TUTOR,
                    tutor,
                    (compose.cancellation(meeting, tutor_zone),),
                ),
            ),
        },
    )


@handles(SessionCompleted)
def session_completed(uow: UnitOfWork, event: SessionCompleted) -> None:
    """The lesson note, kept as the tutor wrote it: blank lines part paragraphs, single line
    breaks stay line breaks. The event has no zone for the student, so the time is on the
    clock the student's account names (UTC if none)."""
    context = {
        "name": event.student_name,
        "tutor_name": event.tutor_name,
        "held_at": compose.when(
            event.starts_at, reader_zones.reader_zone(uow, event.student_email)
        ),
        "lesson_note": event.lesson_note.strip(),
        "note_paragraphs": _paragraphs(event.lesson_note),
        "tutoring_url": compose.tutoring_url(),
    }
    compose.queue_once(uow, Kind.SESSION_LESSON_NOTE, event.student_email, context)


@handles(SendSessionReminder)
def session_reminder_due(uow: UnitOfWork, event: SendSessionReminder) -> None:
    """The day-before reminder carries the invite again (same UID and sequence), so someone
    who missed or deleted the first one can still add the session to their calendar."""
    student_zone, tutor_zone = compose.zones(event)
    student = {
        **_session_people(event),
        "name": event.student_name,
        "when": compose.meeting_time(event, student_zone),
        "start_time": _start_time(event, student_zone),
        "tutoring_url": compose.tutoring_url(),
    }
    tutor = {
        **_session_people(event),
        "name": event.tutor_name,
        "when": compose.meeting_time(event, tutor_zone),
        "start_time": _start_time(event, tutor_zone),
        "tutor_url": _tutor_url(),
    }
    compose.queue_to_each(
        uow,
        {
            Kind.SESSION_REMINDER_STUDENT: (
                event.student_email,
                render(
                    Kind.SESSION_REMINDER_STUDENT,
                    student,
                    (
                        compose.invite(
                            _session_meeting(event, compose.tutoring_url()), student_zone
                        ),
                    ),
                ),
            ),
            Kind.SESSION_REMINDER_TUTOR: (
                event.tutor_email,
                render(
                    Kind.SESSION_REMINDER_TUTOR,
                    tutor,
                    (compose.invite(_session_meeting(event, _tutor_url()), tutor_zone),),
                ),
            ),
        },
    )


def _session_people(event: MeetingFacts) -> dict[str, Any]:
    return {"tutor_name": event.tutor_name, "student_name": event.student_name}


def _session_meeting(event: MeetingFacts, url: str | None) -> calendar.Meeting:
    return compose.meeting(
        event, url, what="tutoring session", description="1:1 USMLE tutoring session."
    )


def _start_time(event: MeetingFacts, zone: str) -> str:
    """``10:00 EDT``: the reader's wall clock, for a subject line."""
    start = event.starts_at.astimezone(ZoneInfo(zone))
    return f"{start:%H:%M} {clock.abbreviation(start)}"


def _hours(hours: int) -> str:
    return "1 hour" if hours == 1 else f"{hours} hours"


def _paragraphs(note: str) -> list[list[str]]:
    blocks = re.split(r"\n\s*\n", note.strip().replace("\r\n", "\n"))
    return [[line.rstrip() for line in block.split("\n")] for block in blocks if block.strip()]


def _tutor_url() -> str:
    return f"{config.public_url()}/tutor"


def _consultation_url(consultation_id: str) -> str:
    return f"{config.public_url()}/tutor/consultations/{consultation_id}"
