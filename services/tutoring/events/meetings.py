"""Tutoring's events about consultations, plans, packages and sessions.

Changing a class changes the wire (shared/bus/events.py): add optional fields first, and never
rename a routing key.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from shared.bus.events import (
    Currency,
    Email,
    NonNegative,
    Positive,
    command,
    event,
    record,
)

By = Literal["student", "tutor"]


@record
class MeetingFacts:
    """Who meets whom and when: enough for an email with a calendar invite, in both zones."""

    student_id: str
    student_email: Email
    student_name: str
    student_timezone: str
    tutor_id: str
    tutor_email: Email
    tutor_name: str
    tutor_timezone: str
    starts_at: datetime
    ends_at: datetime
    ics_uid: str
    ics_sequence: NonNegative


@event(
    "consultation.booked",
    producer="tutoring",
    description="""
A student booked their free initial consultation with a tutor (the intake is stored by
tutoring). The email service sends both of them a confirmation with a METHOD:REQUEST invite.
""",
)
class ConsultationBooked(MeetingFacts):
    consultation_id: str


@event(
    "consultation.cancelled",
    producer="tutoring",
    description="""
A booked consultation was cancelled by the student or the tutor; the slot is free again. The
email carries a METHOD:CANCEL with the same UID and a higher sequence.
""",
)
class ConsultationCancelled(MeetingFacts):
    consultation_id: str
    cancelled_by: By
    reason: str


@event(
    "consultation.completed",
    producer="tutoring",
    description="""
The tutor ran the consultation. The student may now book paid sessions; testimonials learns
the student is a verified tutoring student.
""",
)
class ConsultationCompleted:
    consultation_id: str
    student_id: str
    student_email: Email
    student_name: str
    tutor_id: str
    tutor_name: str


@event(
    "assessment.recorded",
    producer="tutoring",
    description="""
The tutor recorded (or revised) the assessment of a consultation: strengths, weaknesses, goals.
""",
)
class AssessmentRecorded:
    consultation_id: str
    student_id: str
    tutor_id: str


@event(
    "study_plan.published",
    producer="tutoring",
    description="""
A study plan version is ready for the student (the first one, or a tutor's revision).
""",
)
class StudyPlanPublished:
    plan_id: str
    version: Positive
    student_id: str
    student_email: Email
    student_name: str
    tutor_name: str
    exam: str
    exam_date: date


@event(
    "package.purchased",
    producer="tutoring",
    description="""
A student's payment for a package of tutoring hours went through; the hours are credited.
""",
)
class PackagePurchased:
    package_id: str
    student_id: str
    student_email: Email
    student_name: str
    tutor_id: str
    tutor_name: str
    hours: Positive
    amount_minor: NonNegative
    currency: Currency


@event(
    "session.booked",
    producer="tutoring",
    description="""
A paid 1:1 session was booked with one credit (or moved: ``rescheduled`` is true, the UID is
the same and the sequence higher, so calendars move the existing entry).
""",
)
class SessionBooked(MeetingFacts):
    session_id: str
    rescheduled: bool


@event(
    "session.cancelled",
    producer="tutoring",
    description="""
A session was cancelled. ``credit_returned`` says whether the hour went back to the student
(always when the tutor cancels; when the student cancels before the cut-off).
""",
)
class SessionCancelled(MeetingFacts):
    session_id: str
    cancelled_by: By
    credit_returned: bool
    reason: str


@event(
    "session.completed",
    producer="tutoring",
    description="""
The tutor finished a session and wrote the lesson note, which is emailed to the student.
""",
)
class SessionCompleted:
    session_id: str
    student_id: str
    student_email: Email
    student_name: str
    tutor_id: str
    tutor_name: str
    starts_at: datetime
    lesson_note: str


@command(
    "session.reminder_due",
    producer="tutoring",
    description="""
A booked session starts in about 24 hours; published once per session (and again only if it
is moved), whatever the worker restarts.
""",
)
class SendSessionReminder(MeetingFacts):
    session_id: str
