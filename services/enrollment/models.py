"""Enrollment's tables: courses, seats per cycle, enrollments, promotion codes, waitlists.

The rules that must hold under concurrency live here as constraints: a cycle's ``taken`` seats
never exceed its ``capacity`` (CHECK), one seat row per cycle, one live enrollment per student
and course (partial unique index), one promotion redemption per enrollment, one waitlist place
per student and cycle.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
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
from shared.purchases import LocalPayment

Base = make_base()

LIVE_STATES = "status IN ('pending_payment', 'active')"


class Course(Base):
    __tablename__ = "courses"

    slug: Mapped[str] = mapped_column(String(60), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    price_minor: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    cycle_length_days: Mapped[int] = mapped_column(Integer)
    cadence_days: Mapped[int] = mapped_column(Integer)
    anchor_date: Mapped[date] = mapped_column(Date)
    seats_per_cycle: Mapped[int] = mapped_column(Integer)
    access_days: Mapped[int] = mapped_column(Integer)
    refund_window_days: Mapped[int] = mapped_column(Integer)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CycleSeats(Base):
    """The seat count of one cycle; created on first use, then only changed by conditional UPDATEs."""

    __tablename__ = "cycle_seats"
    __table_args__ = (
        UniqueConstraint("course_slug", "starts_on"),
        CheckConstraint("taken <= capacity", name="taken_within_capacity"),
        CheckConstraint("taken >= 0", name="taken_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    course_slug: Mapped[str] = mapped_column(ForeignKey("courses.slug", ondelete="CASCADE"))
    starts_on: Mapped[date] = mapped_column(Date)
    capacity: Mapped[int] = mapped_column(Integer)
    taken: Mapped[int] = mapped_column(Integer, default=0)


class Enrollment(LocalPayment, Base):
    __tablename__ = "enrollments"
    __table_args__ = (
        # One pending or active enrollment per student and course, even under concurrent requests.
        Index(
            "uq_enrollments_one_live_per_course",
            "student_id",
            "course_slug",
            unique=True,
            postgresql_where=text(LIVE_STATES),
            sqlite_where=text(LIVE_STATES),
        ),
        Index("ix_enrollments_status_hold", "status", "hold_expires_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    student_id: Mapped[str] = mapped_column(String(64), index=True)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200))
    course_slug: Mapped[str] = mapped_column(ForeignKey("courses.slug"), index=True)
    cycle_start: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))
    amount_minor: Mapped[int] = mapped_column(Integer)
    list_price_minor: Mapped[int | None] = mapped_column(Integer)
    """The course's price when the seat was offered, before any promotion code."""
    currency: Mapped[str] = mapped_column(String(3))
    promo_code: Mapped[str | None] = mapped_column(String(40))
    hold_expires_at: Mapped[datetime | None]
    access_ends_on: Mapped[date] = mapped_column(Date)
    deferrals_used: Mapped[int] = mapped_column(Integer, default=0)
    deferred_from: Mapped[date | None] = mapped_column(Date)
    paid_at: Mapped[datetime | None]
    payment_id: Mapped[str | None] = mapped_column(String(64))
    last_payment_error: Mapped[str | None] = mapped_column(Text)
    refund_request_id: Mapped[str | None] = mapped_column(String(36), unique=True)
    refund_requested_at: Mapped[datetime | None]
    refunded_minor: Mapped[int] = mapped_column(Integer, default=0)
    refunded_at: Mapped[datetime | None]
    """When payments confirmed the money went back (the enrollment became ``refunded``)."""
    from_waitlist: Mapped[bool] = mapped_column(Boolean, default=False)
    access_notice_sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class PromoCode(Base):
    __tablename__ = "promo_codes"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    value: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str | None] = mapped_column(String(3))
    course_slug: Mapped[str | None] = mapped_column(ForeignKey("courses.slug"))
    max_redemptions: Mapped[int | None] = mapped_column(Integer)
    per_student_limit: Mapped[int] = mapped_column(Integer, default=1)
    expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    redemptions: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Uses so far (one per row of ``promo_redemptions``), kept on the code's row so that the
    limit is one conditional UPDATE (``WHERE redemptions < max_redemptions``), which holds on
    SQLite too; counting the redemption rows under a lock did not (SQLite has no row locks)."""


class PromoRedemption(Base):
    """A code used by an enrollment; ``PromoCode.redemptions`` counts them against the limit."""

    __tablename__ = "promo_redemptions"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(ForeignKey("promo_codes.code"), index=True)
    enrollment_id: Mapped[str] = mapped_column(
        ForeignKey("enrollments.id", ondelete="CASCADE"), unique=True
    )
    student_id: Mapped[str] = mapped_column(String(64))
    discount_minor: Mapped[int] = mapped_column(Integer)
    redeemed_at: Mapped[datetime]


class WaitlistEntry(Base):
    __tablename__ = "waitlist_entries"
    __table_args__ = (
        UniqueConstraint("course_slug", "cycle_start", "student_id"),
        UniqueConstraint("course_slug", "cycle_start", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    course_slug: Mapped[str] = mapped_column(ForeignKey("courses.slug", ondelete="CASCADE"))
    cycle_start: Mapped[date] = mapped_column(Date)
    student_id: Mapped[str] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="waiting")
    """``waiting``, ``offered`` (an enrollment is held for them) or ``skipped``."""
    offered_enrollment_id: Mapped[str | None] = mapped_column(String(36))
    joined_at: Mapped[datetime]
    offered_at: Mapped[datetime | None]
