"""How people read the tutoring domain's identifiers: areas, exams and days in sentences.

Areas and exams are stored as slugs (``hematology-oncology``, ``step2ck``) because they are
keys in URLs, JSON and events; a sentence a student or tutor reads names them as the USMLE
content outlines do. One place, so a proposal, a validation message and an email say the same.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from services.tutoring.domain import EXAMS, KNOWN_AREAS

AREA_LABELS = {
    **{area: area.replace("-", " ").capitalize() for area in KNOWN_AREAS},
    "hematology-oncology": "Hematology & oncology",
}
"""Every known area's label: the slug as words, capitalised, with "&" where the outline has it."""

EXAM_LABELS = {"step1": "USMLE Step 1", "step2ck": "USMLE Step 2 CK"}
assert set(EXAM_LABELS) == set(EXAMS)


def area_label(area: str) -> str:
    """``renal`` → ``Renal``; an area the school does not know yet reads as its words."""
    return AREA_LABELS.get(area) or area.replace("-", " ").capitalize()


def exam_label(exam: str) -> str:
    """``step1`` → ``USMLE Step 1``."""
    return EXAM_LABELS.get(exam, exam)


def exam_catalogue() -> list[dict[str, Any]]:
    """The exams students prepare for, each with the areas an intake, plan or result may name.

    Published (``GET /api/exams``) so the site lists and labels them from here, not from a copy.
    """
    areas = [{"slug": area, "label": area_label(area)} for area in KNOWN_AREAS]
    return [{"slug": exam, "label": exam_label(exam), "areas": areas} for exam in EXAMS]


def day_text(on: date, *, year: bool = False) -> str:
    """``Fri 4 Dec`` (``Fri 4 Dec 2026`` with ``year``): a date as a sentence says it."""
    text = f"{on:%a} {on.day} {on:%b}"
    return f"{text} {on.year}" if year else text
