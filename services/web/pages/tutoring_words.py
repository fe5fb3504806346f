"""What tutoring calls things, and what people read: exams, areas, kinds of day, statuses.

The exams and areas come from tutoring (it decides which exist); the rest are words for
states and kinds the pages show.

Shared by the student's and the tutor's pages (kept apart from pages/tutoring/, which is
about its routes).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from services.web import clients


class _Catalogue:
    """The exams and areas as tutoring publishes them (``GET /api/exams``), kept for a while.

    Tutoring owns which exams and areas exist and what they are called; the site reads them
    and keeps the answer ten minutes (they change with a release, not per request). When
    tutoring cannot answer, the lists are empty and labels fall back to the slug's words.
    """

    TTL_SECONDS = 600.0

    def __init__(self) -> None:
        self._exams: list[dict[str, Any]] = []
        self._fetched: tuple[str, float] | None = None

    def exams(self) -> list[dict[str, Any]]:
        source = clients.tutoring.base_url
        fresh = self._fetched and self._fetched[0] == source
        if fresh and time.monotonic() - self._fetched[1] < self.TTL_SECONDS:
            return self._exams
        try:
            self._exams = clients.tutoring.exams()
        except (clients.ServiceError, clients.ServiceUnavailable):
            return self._exams if fresh else []
        self._fetched = (source, time.monotonic())
        return self._exams


CATALOGUE = _Catalogue()


class ExamChoices(Sequence[tuple[str, str]]):
    """``(slug, label)`` for every exam, in tutoring's order (``dict(EXAMS)`` maps slug to label)."""

    def _pairs(self) -> list[tuple[str, str]]:
        return [(e["slug"], e["label"]) for e in CATALOGUE.exams()]

    def __getitem__(self, index):  # type: ignore[override]
        return self._pairs()[index]

    def __len__(self) -> int:
        return len(self._pairs())


class AreaLabels(Mapping[str, str]):
    """Every area any exam names, slug to label, in tutoring's order."""

    def _labels(self) -> dict[str, str]:
        return {a["slug"]: a["label"] for e in CATALOGUE.exams() for a in e.get("areas") or []}

    def __getitem__(self, slug: str) -> str:
        return self._labels()[slug]

    def __iter__(self) -> Iterator[str]:
        return iter(self._labels())

    def __len__(self) -> int:
        return len(self._labels())


EXAMS = ExamChoices()
AREAS = AreaLabels()
"""Read from tutoring on use: what an intake offers and how a slug reads."""

DAY_KINDS = {
    "study": "Study",
    "free": "Free day",
    "checkpoint": "Checkpoint",
    "review": "Review",
    "exam": "Exam day",
    "rest": "Rest day",
}
FIXED_KINDS = ("exam", "rest")
"""Not edited by hand: the exam day follows the exam date, and a reset plan's rest is protected."""
CHECKABLE_KINDS = ("study", "checkpoint", "review")
"""Working days: the student says whether they did them (free, rest and exam days are not work)."""
EDITABLE_KINDS = ("study", "free", "checkpoint", "review")
"""The exam day is fixed by the exam date; no other day can become one."""

CONSULTATION_STATUSES = {
    "booked": "Booked",
    "completed": "Completed",
    "cancelled": "Cancelled",
    "no_show": "No-show",
    "no-show": "No-show",
}

COMMON_ZONES = (
    "UTC",
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Toronto",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Athens",
    "Africa/Cairo",
    "Africa/Lagos",
    "Asia/Dubai",
    "Asia/Karachi",
    "Asia/Kolkata",
    "Asia/Dhaka",
    "Asia/Manila",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
)
"""Offered when the browser does not say its zone; the reader's own zone is always added."""

SESSION_STATUSES = {"booked": "Booked", "completed": "Completed", "cancelled": "Cancelled"}
