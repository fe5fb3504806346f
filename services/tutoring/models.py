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
    Boolean,
    CheckConstraint,
    Date,
    Float,
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
from shared.purchases import LocalPayment

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
    weekly_hours: Mapped[int | None] = mapped_column(Integer)
    """The intake's weekly hours when the plan was made (the budget rebalancing keeps)."""
    starts_on: Mapped[date | None] = mapped_column(Date)
    """The plan's first day; results taken before it belong to no plan of this one."""
    reset: Mapped[bool] = mapped_column(Boolean, default=False)
    """A student after a failed attempt: the plan opens with a protected rest block."""
    targets: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """The student's target per scale (``{"percent": 70, "three_digit": 245}``)."""
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


class AssessmentForm(Base):
    """A practice assessment students take (NBME, UWorld, the free official questions...).

    A catalogue the admin keeps: scale, passing mark and default target are data, never
    constants in code, because the publishers change them. ``official`` marks the real exam,
    whose failed result starts the reset.
    """

    __tablename__ = "assessment_forms"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    exam: Mapped[str] = mapped_column(String(20))
    scale: Mapped[str] = mapped_column(String(20))
    """``percent`` (percent correct), ``three_digit`` (a three-digit score) or ``pass_fail``
    (0 fail, 1 pass: Step 1's official result reports nothing else)."""
    scale_min: Mapped[float] = mapped_column(Float)
    scale_max: Mapped[float] = mapped_column(Float)
    passing_score: Mapped[float | None] = mapped_column(Float)
    default_target: Mapped[float | None] = mapped_column(Float)
    official: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class AssessmentResult(Base):
    """One practice assessment a student took, recorded by them or their tutor."""

    __tablename__ = "assessment_results"
    __table_args__ = (Index("ix_assessment_results_plan_taken", "plan_id", "taken_on"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("study_plans.id", ondelete="CASCADE"))
    student_id: Mapped[str] = mapped_column(String(64), index=True)
    form_id: Mapped[str] = mapped_column(ForeignKey("assessment_forms.id"))
    taken_on: Mapped[date] = mapped_column(Date)
    score: Mapped[float] = mapped_column(Float)
    area_scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Percent correct per plan area, where the score report gives it."""
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_role: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime]


class PlanDayCheck(Base):
    """What the student says became of one plan day: done, partly done or missed.

    One row per day (the primary key): marking a day again replaces the answer.
    """

    __tablename__ = "plan_day_checks"

    plan_id: Mapped[str] = mapped_column(
        ForeignKey("study_plans.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    status: Mapped[str] = mapped_column(String(10))
    planned_hours: Mapped[float] = mapped_column(Float)
    """The day's hours in the version the student checked it against."""
    checked_by: Mapped[str] = mapped_column(String(64))
    checked_at: Mapped[datetime]


OPEN_PROPOSAL = "status = 'proposed'"


class PlanProposal(Base):
    """A proposed new plan version (a rebalance after a result, or a recovery after missed
    days) that changes nothing until it is accepted.

    At most one open proposal per plan and kind (a partial unique index): a newer one
    supersedes the older in the same transaction, so two open ones never disagree.
    """

    __tablename__ = "plan_proposals"
    __table_args__ = (
        Index(
            "uq_plan_proposals_one_open_per_kind",
            "plan_id",
            "kind",
            unique=True,
            postgresql_where=text(OPEN_PROPOSAL),
            sqlite_where=text(OPEN_PROPOSAL),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    plan_id: Mapped[str] = mapped_column(
        ForeignKey("study_plans.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(12))
    """``rebalance`` or ``recovery``."""
    base_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12))
    """``proposed`` → ``accepted`` / ``declined`` / ``superseded``."""
    fits: Mapped[bool] = mapped_column(Boolean)
    body: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The proposed plan (``study_plan.to_dict``); None when nothing fits."""
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Hours per area before and after, the message, a suggested exam date."""
    proposed_by: Mapped[str] = mapped_column(String(64))
    proposed_role: Mapped[str] = mapped_column(String(10))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class Reflection(Base):
    """A student's "identify your mistakes" answers before a consultation, after a failed
    attempt; the tutor reads them with the intake."""

    __tablename__ = "reflections"

    consultation_id: Mapped[str] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), primary_key=True
    )
    student_id: Mapped[str] = mapped_column(String(64), index=True)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ProgressNotice(Base):
    """A notice sent once: its key (``result_missing:<plan>:<day>``, ``digest:<student>:<week>``,
    ...) is the primary key, inserted in the transaction that records the event, so two
    workers or a restart can never send it twice."""

    __tablename__ = "progress_notices"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    created_at: Mapped[datetime]


class CalendarToken(Base):
    """The unguessable secret in a student's feed URL (a calendar app cannot send a token)."""

    __tablename__ = "calendar_tokens"

    student_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]


class Package(LocalPayment, Base):
    """Hours of sessions with one tutor, bought through payments (``package:<id>``).

    Its checkout and last payment status are kept on the row (``LocalPayment``), so reading a
    pending package does not ask payments.
    """

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
