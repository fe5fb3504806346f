"""The exams, the areas of study, and the intake form a student fills in to book."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from services.tutoring.domain.errors import (
    InvalidIntake,
)
from services.tutoring.domain.zones import (
    is_int,
)

EXAMS = ("step1", "step2ck")

#: Disciplines and organ systems as the USMLE content outlines name them, as URL-safe slugs.
KNOWN_AREAS = (
    "anatomy",
    "behavioral-science",
    "biochemistry",
    "biostatistics",
    "cardiovascular",
    "dermatology",
    "endocrine",
    "ethics",
    "gastrointestinal",
    "genetics",
    "hematology-oncology",
    "immunology",
    "microbiology",
    "musculoskeletal",
    "neurology",
    "pathology",
    "pharmacology",
    "physiology",
    "psychiatry",
    "renal",
    "reproductive",
    "respiratory",
)

MAX_ATTEMPTS = 6
MIN_WEEKLY_HOURS = 1
MAX_WEEKLY_HOURS = 80
EXAM_HORIZON_YEARS = 2


@dataclass(frozen=True)
class Intake:
    """What a student tells us before a consultation; a study plan is built from it."""

    exam: str
    exam_date: date
    attempts: int
    weekly_hours: int
    weak_areas: tuple[str, ...]


def _years_later(day: date, years: int) -> date:
    """Same calendar date ``years`` later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def validate_intake(
    exam: str,
    exam_date: date,
    attempts: int,
    weekly_hours: int,
    weak_areas: Sequence[str],
    today: date,
) -> Intake:
    """Check the intake form and return it normalised, or raise :class:`InvalidIntake`.

    Fields are checked in form order (exam, exam_date, attempts, weekly_hours, weak_areas) and
    the *first* offending one is raised with ``field=`` set, so the message names one thing to
    fix. ``exam`` and areas are trimmed and lower-cased first; areas keep the student's order.
    The exam date must be strictly after ``today`` (the student's local date, which the
    service derives from their zone) and no later than two years from today: a plan to an exam
    today or in the past is meaningless, and a date years away is almost always a typo.
    """
    exam_slug = exam.strip().lower() if isinstance(exam, str) else exam
    if exam_slug not in EXAMS:
        raise InvalidIntake(f"Exam must be one of {', '.join(EXAMS)}", field="exam")
    if not isinstance(exam_date, date) or isinstance(exam_date, datetime):
        raise InvalidIntake("Exam date must be a calendar date", field="exam_date")
    if exam_date <= today:
        raise InvalidIntake("The exam date must be in the future", field="exam_date")
    if exam_date > _years_later(today, EXAM_HORIZON_YEARS):
        raise InvalidIntake(
            f"The exam date must be within {EXAM_HORIZON_YEARS} years", field="exam_date"
        )
    if not is_int(attempts) or not 0 <= attempts <= MAX_ATTEMPTS:
        raise InvalidIntake(f"Attempts so far must be 0-{MAX_ATTEMPTS}", field="attempts")
    if not is_int(weekly_hours) or not MIN_WEEKLY_HOURS <= weekly_hours <= MAX_WEEKLY_HOURS:
        raise InvalidIntake(
            f"Weekly hours must be {MIN_WEEKLY_HOURS}-{MAX_WEEKLY_HOURS}", field="weekly_hours"
        )
    if isinstance(weak_areas, str):
        raise InvalidIntake("Weak areas must be a list", field="weak_areas")
    areas: list[str] = []
    for raw in weak_areas:
        area = raw.strip().lower() if isinstance(raw, str) else raw
        if area not in KNOWN_AREAS:
            raise InvalidIntake(f"Unknown area {raw!r}", field="weak_areas")
        if area in areas:
            raise InvalidIntake(f"Area {area!r} is listed twice", field="weak_areas")
        areas.append(area)
    return Intake(exam_slug, exam_date, attempts, weekly_hours, tuple(areas))
