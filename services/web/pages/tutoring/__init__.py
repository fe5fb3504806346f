"""Tutoring for students: the tutors, a free consultation, their study plan, and paid sessions.

The tutoring service owns tutors, slots, consultations, plans, packages of hours and sessions;
these pages show what it answers in the reader's own time zone and pass their choices on. One
blueprint (``tutoring_pages``, in ``base``) whose routes live in one module per thing a student
does: browse ``tutors``, book ``consultations``, buy ``packages`` of hours, book and move
``sessions``, and see it all on ``my_tutoring``. Importing this package registers them all.
"""

from __future__ import annotations

from services.web.pages.tutoring import consultations, my_tutoring, packages, sessions, tutors
from services.web.pages.tutoring.base import (
    area_label,
    bp,
    by_time,
    exam_label,
    known_zone,
    plan_weeks,
    zone_choices,
    zone_context,
)

__all__ = [
    "area_label",
    "bp",
    "by_time",
    "consultations",
    "exam_label",
    "known_zone",
    "my_tutoring",
    "packages",
    "plan_weeks",
    "sessions",
    "tutors",
    "zone_choices",
    "zone_context",
]
