"""Where a student's practice scores are heading, and when to warn that the exam is too close.

Pure (no Flask, database or broker); the progress page and the readiness warning call it.

**The estimate** (:func:`trend`). We draw the straight line that fits all of a student's
scores on one scale best (ordinary least squares: the line that makes the squared gaps
between the line and the scores as small as possible, with the date as the only input), and
read it off at the exam date. The result is kept within the scale (a percent score never
goes above 100 or below 0), and ``per_week`` is the line's slope, in points per week. At
least two results on different dates are needed; with fewer there is no line to draw.

**Its limits**, quoted on the page as :data:`LIMITS` (keep the two in step):

- It is a straight line. Real progress is rarely straight: gains usually come faster at the
  start and slow down as scores get near the top, so a line can promise too much.
- Few points make a shaky line. With two or three results one good or bad day moves the
  estimate a lot.
- Forms differ. Self-assessments are not equally hard, so a change of form can look like
  progress or a setback that is not there.
- It is not a prediction of the exam score or of passing; it only says where the line goes.

**The readiness warning** (:func:`readiness`) is deliberately simple: the two newest results
both have a passing mark, both are below it, and the exam is fewer than ``weeks`` weeks away.
Two results, not one, so one bad day does not raise an alarm; the warning only offers
options (a later exam date from :func:`later_exam_date`, a deferral, a session with the tutor).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from services.tutoring.study_plan import (
    SUGGESTION_HORIZON_DAYS,
    InvalidPlanRequest,
    PlanDoesNotFit,
    PlanSettings,
    _fits,
    _is_date,
    _is_int,
    generate_plan,
)

#: One sentence for people: what the estimate is (``Estimate.method``).
METHOD = (
    "A straight line drawn through all your scores on this scale (least squares), "
    "carried on to your exam date and kept within the scale."
)

#: The estimate's limits in words a student can read; the progress page shows this text.
LIMITS = (
    "This is a rough guide, not a prediction of your exam score or of passing. "
    "It is a straight line: it assumes you keep improving at the same steady rate, but "
    "gains usually slow down as scores get higher, so the line can promise too much. "
    "With only a few results, one unusually good or bad day moves the line a lot. "
    "Practice forms differ in difficulty, so a change of form can look like progress or a "
    "setback that is not really there."
)


@dataclass(frozen=True)
class Point:
    """One result on a scale: the day it was taken and its score."""

    taken_on: date
    score: float


@dataclass(frozen=True)
class Estimate:
    """Where the line through the points stands on ``on`` (the exam date); see the docstring."""

    on: date
    score: float  # the line's value on ``on``, kept within the scale, 2 decimals
    per_week: float  # the line's slope in points per week, 2 decimals (not clamped)
    points: int  # how many results the line was drawn through
    method: str


def trend(points: Sequence[Point], exam_date: date, low: float, high: float) -> Estimate | None:
    """The least-squares line through ``points`` read at ``exam_date``, clamped to [low, high].

    ``None`` with fewer than two distinct dates (no line to draw). Exact fractions, so the
    answer does not depend on the order of the points.
    """
    if not low < high:
        raise ValueError("low must be below high")
    if len({p.taken_on for p in points}) < 2:
        return None
    origin = min(p.taken_on for p in points)
    xs = [Fraction((p.taken_on - origin).days) for p in points]
    ys = [Fraction(p.score) for p in points]
    n = len(points)
    mean_x = sum(xs, Fraction(0)) / n
    mean_y = sum(ys, Fraction(0)) / n
    sxx = sum(((x - mean_x) ** 2 for x in xs), Fraction(0))
    sxy = sum(((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)), Fraction(0))
    slope = sxy / sxx  # sxx > 0: at least two distinct days
    at_exam = mean_y + slope * ((exam_date - origin).days - mean_x)
    clamped = min(max(at_exam, Fraction(low)), Fraction(high))
    return Estimate(
        on=exam_date,
        score=round(float(clamped), 2),
        per_week=round(float(slope * 7), 2),
        points=n,
        method=METHOD,
    )


def readiness(
    latest: Sequence[tuple[float, float | None]], exam_date: date, today: date, weeks: int
) -> bool:
    """Whether to warn: the two newest results both have a passing mark and are below it,
    and the exam is still ahead but fewer than ``weeks`` weeks away.

    ``latest`` is ``[(score, passing_score)]``, newest first; ``passing_score`` is ``None``
    for a form without a passing mark. An exam today or past gets no warning: the options
    it offers (a later date) no longer help.
    """
    if len(latest) < 2:
        return False
    newest = latest[:2]
    if any(passing is None or not score < passing for score, passing in newest):
        return False
    days = (exam_date - today).days
    return 0 < days < 7 * weeks


def later_exam_date(
    today: date,
    weekly_hours: int,
    areas: Sequence[str],
    weak_areas: Sequence[str],
    settings: PlanSettings,
    weeks: int,
    rest_days: int = 0,
    not_before: date | None = None,
) -> date | None:
    """The first exam date at least ``weeks`` weeks from ``today``, and on or after
    ``not_before``, for which a plan fits.

    The readiness warning passes ``not_before = exam_date + weeks weeks``: a student below
    passing needs real time to improve, and a date two days after the one they have (the
    first date ``weeks`` weeks from today can be just that) gives none.

    "Fits" is exactly :func:`~services.tutoring.study_plan.generate_plan` not raising
    :class:`PlanDoesNotFit`; ``None`` when no date within its suggestion horizon (three
    years) fits. Bad input (unknown weak area, ...) raises as ``generate_plan`` does.
    """
    if not _is_date(today):
        raise InvalidPlanRequest("Today is a calendar date", field="today")
    if not _is_int(weeks) or weeks < 0:
        raise InvalidPlanRequest("Weeks are a whole number, 0 or more", field="weeks")
    if not_before is not None and not _is_date(not_before):
        raise InvalidPlanRequest("Not before is a calendar date", field="not_before")
    first = today + timedelta(weeks=weeks)
    if not_before is not None and not_before > first:
        first = not_before
    try:  # also checks the input the way generate_plan does
        generate_plan(today, first, weekly_hours, areas, weak_areas, settings, rest_days)
        return first
    except PlanDoesNotFit:
        pass
    rested = today + timedelta(days=rest_days)
    for extra in range(1, SUGGESTION_HORIZON_DAYS + 1):
        candidate = first + timedelta(days=extra)
        if (candidate - today).days > SUGGESTION_HORIZON_DAYS:
            return None
        # _fits is generate_plan's own test, without building the days.
        if _fits(rested, candidate, weekly_hours, settings):
            return candidate
    return None
