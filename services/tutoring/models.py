"""Tutoring's tables: tutors, time off, bookings, consultations, study plans, calendar tokens.

The rules that must hold under concurrency live here as constraints:

- **No slot is booked twice.** Every meeting a tutor has (a consultation now, a paid session
  next) holds one row in ``tutor_bookings`` with a unique ``(tutor_id, starts_at)``: two
  concurrent requests for one slot cannot both commit. The buffer between *different* starts
  is the domain's rule (:func:`services.tutoring.domain.bookable_slots`), and it holds under
  concurrency because booking locks the tutor's row (``SELECT ... FOR UPDATE``) first, so one
  tutor's bookings are decided one after another. Cancelling deletes the booking row, which
  frees the slot.
- **One open consultation per student**: a partial unique index on ``consultations``.
- **One row per plan version**: unique ``(plan_id, version)``.
- **No hour is spent twice.** A student's hours with one tutor are one ``credits`` row
  (purchased / used / refunded); a check constraint keeps ``used + refunded <= purchased``, and
  drawing an hour is one conditional ``UPDATE``, so two concurrent bookings cannot both take
  the last hour. A session holds its slot with the same ``tutor_bookings`` row as a
  consultation (``kind = 'session'``).
- **A reminder per start time**: ``sessions.reminder_sent_for`` is written in the same
  transaction as the ``session.reminder_due`` event, so a restarted worker never repeats it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import make_base

Base = make_base()

OPEN_CONSULTATION = "status = 'booked'"


class Tutor(Base):
    """A tutor's profile and booking settings; ``id`` is the identity user id."""

    __tablename__ = "tutors"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    bio: Mapped[str] = mapped_column(Text, default="")
    exams: Mapped[list[str]] = mapped_column(JSON, default=list)
    time_zone: Mapped[str] = mapped_column(String(64), default="America/New_York")
    session_rate_minor: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    photo_url: Mapped[str | None] = mapped_column(String(500))
    availability: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """``{"weekly": [...], "overrides": [...]}`` as the API takes it, replaced as a whole."""
    consultation_minutes: Mapped[int] = mapped_column(Integer, default=30)
    session_minutes: Mapped[int] = mapped_column(Integer, default=60)
    buffer_minutes: Mapped[int] = mapped_column(Integer, default=15)
    min_notice_hours: Mapped[int] = mapped_column(Integer, default=24)
    horizon_days: Mapped[int] = mapped_column(Integer, default=28)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class TimeOff(Base):
    __tablename__ = "time_off"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tutor_id: Mapped[str] = mapped_column(ForeignKey("tutors.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    created_at: Mapped[datetime]


class TutorBooking(Base):
    """One meeting that occupies the tutor's time (any kind); the double-booking guard."""

    __tablename__ = "tutor_bookings"
    __table_args__ = (UniqueConstraint("tutor_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    tutor_id: Mapped[str] = mapped_column(ForeignKey("tutors.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(20))
    ref_id: Mapped[str] = mapped_column(String(36), unique=True)


class Consultation(Base):
    __tablename__ = "consultations"
    __table_args__ = (
        Index(
            "uq_consultations_one_open_per_student",
            "student_id",
            unique=True,
            postgresql_where=text(OPEN_CONSULTATION),
            sqlite_where=text(OPEN_CONSULTATION),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    student_id: Mapped[str] = mapped_column(String(64), index=True)
    student_email: Mapped[str] = mapped_column(String(254))
    student_name: Mapped[str] = mapped_column(String(200))
    student_time_zone: Mapped[str] = mapped_column(String(64))
    tutor_id: Mapped[str] = mapped_column(ForeignKey("tutors.id"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20))
    intake: Mapped[dict[str, Any]] = mapped_column(JSON)
    ics_sequence: Mapped[int] = mapped_column(Integer, default=0)
    cancelled_by: Mapped[str | None] = mapped_column(String(10))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    strengths: Mapped[str | None] = mapped_column(Text)
    weaknesses: Mapped[str | None] = mapped_column(Text)
    goals: Mapped[str | None] = mapped_column(Text)
    assessed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class StudyPlanRow(Base):
    """A student's plan from one consultation; its content lives in the versions."""

    __tablename__ = "study_plans"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    consultation_id: Mapped[str] = mapped_column(ForeignKey("consultations.id"), unique=True)
    student_id: Mapped[str] = mapped_column(String(64), index=True)
    tutor_id: Mapped[str] = mapped_column(ForeignKey("tutors.id"), index=True)
    exam: Mapped[str] = mapped_column(String(20))
    exam_date: Mapped[date] = mapped_column(Date)
    latest_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class StudyPlanVersion(Base):
    """One published version, stored as ``study_plan.to_dict`` JSON; never changed after."""

    __tablename__ = "study_plan_versions"
    __table_args__ = (UniqueConstraint("plan_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("study_plans.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]


class CalendarToken(Base):
    """The unguessable secret in a student's feed URL (a calendar app cannot send a token)."""

    __tablename__ = "calendar_tokens"

    student_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]


class Package(Base):
    """Hours of sessions with one tutor, bought through payments (``package:<id>``)."""

    __tablename__ = "packages"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    student_id: Mapped[str] = mapped_column(String(64), index=True)
    student_email: Mapped[str] = mapped_column(String(254))
    student_name: Mapped[str] = mapped_column(String(200))
    tutor_id: Mapped[str] = mapped_column(ForeignKey("tutors.id"), index=True)
    hours: Mapped[int] = mapped_column(Integer)
    amount_minor: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20))
    """``pending_payment`` → ``paid`` (→ ``refunded``); ``cancelled`` if no checkout opened."""
    payment_id: Mapped[str | None] = mapped_column(String(64))
    refunded_minor: Mapped[int] = mapped_column(Integer, default=0)
    refunded_hours: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Credits(Base):
    """A student's hours with one tutor: what was bought, spent on sessions, and refunded."""

    __tablename__ = "credits"
    __table_args__ = (
        CheckConstraint(
            "used >= 0 AND refunded >= 0 AND used + refunded <= purchased",
            name="hours_never_overspent",
        ),
    )

    student_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tutor_id: Mapped[str] = mapped_column(ForeignKey("tutors.id"), primary_key=True)
    purchased: Mapped[int] = mapped_column(Integer, default=0)
    used: Mapped[int] = mapped_column(Integer, default=0)
    refunded: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime]


class TutoringSession(Base):
    """A paid 1:1 session; it holds its slot with a ``tutor_bookings`` row while booked."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    student_id: Mapped[str] = mapped_column(String(64), index=True)
    student_email: Mapped[str] = mapped_column(String(254))
    student_name: Mapped[str] = mapped_column(String(200))
    student_time_zone: Mapped[str] = mapped_column(String(64))
    tutor_id: Mapped[str] = mapped_column(ForeignKey("tutors.id"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), index=True)
    ics_sequence: Mapped[int] = mapped_column(Integer, default=0)
    reschedules: Mapped[int] = mapped_column(Integer, default=0)
    cancelled_by: Mapped[str | None] = mapped_column(String(10))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    credit_returned: Mapped[bool | None]
    lesson_note: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[datetime | None]
    reminder_sent_for: Mapped[datetime | None]
    """The start time the last ``session.reminder_due`` was sent for (None: never)."""
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
