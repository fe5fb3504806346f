"""The two courses of issue 3: written after every migration if they are missing (idempotent)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from services.enrollment import domain
from services.enrollment.models import Course
from shared.db import utcnow

COURSES = (
    domain.new_course(
        slug="usmle-step-1-prep",
        title="USMLE Step 1 Prep",
        price_minor=149900,
        currency="USD",
        cycle_length_days=84,
        cadence_days=28,
        anchor_date=date(2026, 1, 5),
        seats_per_cycle=25,
        access_days=120,
        refund_window_days=14,
        published=True,
    ),
    domain.new_course(
        slug="usmle-step-2-ck-prep",
        title="USMLE Step 2 CK Prep",
        price_minor=129900,
        currency="USD",
        cycle_length_days=56,
        cadence_days=28,
        anchor_date=date(2026, 1, 12),
        seats_per_cycle=25,
        access_days=90,
        refund_window_days=14,
        published=True,
    ),
)

DESCRIPTIONS = {
    "usmle-step-1-prep": (
        "Twelve weeks through the Step 1 disciplines with weekly self-assessments, "
        "a realistic study plan and buffer days for the unexpected."
    ),
    "usmle-step-2-ck-prep": (
        "Eight weeks of clinical knowledge review by system, with timed question blocks "
        "and a progress check every two weeks."
    ),
}


def run(connection: Connection) -> None:
    session = Session(bind=connection)
    try:
        now = utcnow()
        for course in COURSES:
            if session.get(Course, course.slug) is None:
                session.add(
                    Course(
                        **{f: getattr(course, f) for f in course.__dataclass_fields__},
                        description=DESCRIPTIONS[course.slug],
                        created_at=now,
                        updated_at=now,
                    )
                )
        # The session joins the migration's connection; the caller commits.
        session.commit()
    finally:
        session.close()
