"""Testimonials' tables: the stories, their edits, and what the service learned from events.

Rules that hold in the database, whatever the code does:

- **Nothing approved without consent**: a CHECK constraint ``status <> 'approved' OR
  consented_at IS NOT NULL``; and only an approved story is featured.
- **The original is kept**: ``original_display_name`` / ``original_story`` are written at
  submission and never changed; every staff edit adds a ``testimonial_revisions`` row.
- **Asked once per program**: ``testimonial_requests`` is unique per ``(user_id, program)``.
- **A session counts once**: ``completed_sessions`` is keyed by tutoring's session id.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import make_base

Base = make_base()


class Testimonial(Base):
    __tablename__ = "testimonials"
    __table_args__ = (
        CheckConstraint(
            "status <> 'approved' OR consented_at IS NOT NULL", name="approved_needs_consent"
        ),
        CheckConstraint("NOT featured OR status = 'approved'", name="featured_is_approved"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_1_to_5"),
        CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status_is_known"),
        Index("ix_testimonials_wall", "status", "featured", "position"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str | None] = mapped_column(String(64), index=True)
    email: Mapped[str] = mapped_column(String(254))
    request_id: Mapped[str | None] = mapped_column(
        ForeignKey("testimonial_requests.id"), unique=True
    )
    display_name: Mapped[str] = mapped_column(String(80))
    story: Mapped[str] = mapped_column(Text)
    original_display_name: Mapped[str] = mapped_column(String(80))
    original_story: Mapped[str] = mapped_column(Text)
    program: Mapped[str] = mapped_column(String(120), index=True)
    rating: Mapped[int] = mapped_column(Integer)
    consent: Mapped[bool] = mapped_column(Boolean)
    consent_version: Mapped[str | None] = mapped_column(String(20))
    consent_text: Mapped[str | None] = mapped_column(Text)
    consented_at: Mapped[datetime | None]
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    author_role: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10))
    featured: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int | None] = mapped_column(Integer)
    rejection_reason: Mapped[str | None] = mapped_column(String(30))
    rejection_note: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime]
    moderated_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class Revision(Base):
    """One staff edit: who, why, and the text before and after."""

    __tablename__ = "testimonial_revisions"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    testimonial_id: Mapped[str] = mapped_column(
        ForeignKey("testimonials.id", ondelete="CASCADE"), index=True
    )
    editor_id: Mapped[str] = mapped_column(String(64))
    editor_name: Mapped[str] = mapped_column(String(200))
    before_display_name: Mapped[str] = mapped_column(String(80))
    before_story: Mapped[str] = mapped_column(Text)
    after_display_name: Mapped[str] = mapped_column(String(80))
    after_story: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class VerifiedFact(Base):
    """User X is a real student of program P (learned from an event of ``source``)."""

    __tablename__ = "verified_facts"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    program: Mapped[str] = mapped_column(String(120), primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]


class Program(Base):
    """What a testimonial can be about: ``tutoring`` (seeded) and courses learned from events."""

    __tablename__ = "programs"

    program: Mapped[str] = mapped_column(String(120), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime]


class TestimonialRequest(Base):
    """A student asked for their story: at most once per user and program."""

    __tablename__ = "testimonial_requests"
    __table_args__ = (UniqueConstraint("user_id", "program"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200))
    program: Mapped[str] = mapped_column(String(120))
    trigger: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class CompletedSession(Base):
    """A completed tutoring session of a student, counted once whatever the redeliveries."""

    __tablename__ = "completed_sessions"

    session_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    completed_at: Mapped[datetime]
