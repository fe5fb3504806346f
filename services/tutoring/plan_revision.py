"""Revising a study plan in flight: rebalance toward weak areas, or make up missed hours.

A plan made at the intake is a guess about the student; the self-assessments and the days
they check off are evidence. This module turns that evidence into a *proposal* (a
:class:`Revision`) that a person accepts or declines: it never changes a plan by itself. It
is pure (no Flask, database or broker), like :mod:`services.tutoring.study_plan`, whose
values, half-hour unit and rounding it reuses.

Over 400 lines on purpose: :func:`rebalance` and the recovery share the numbered rules below
and the helpers that keep a day's shape; each rule is one step of the same walk over the days.

Rules of :func:`rebalance` (tests in ``tests/test_plan_revision.py``):

1. **The past stays.** Days before ``start`` (tomorrow) are kept exactly.
2. **Each day keeps its shape.** From ``start`` every day keeps its kind and its total
   hours, so free days, rest days, checkpoints, the review stretch and the weekly budget are
   what they were. Only which areas fill the study and review days changes.
3. **Weights from the scores.** Each area's hours from ``start`` (study days and review days
   separately) are multiplied by ``150 - score`` (its latest percent correct), then shared
   out again in proportion with largest-remainder rounding to half hours. So an area at
   50 % gets 100/70, about 1.4 times the weight of the same hours at 80 %, and an area at
   100 % keeps a third of the weight of one at 0 %: no area is ever dropped. An area without
   a score counts as the mean of the scored areas (neutral). Scores for areas that are not
   in the plan are ignored.
4. **Weakest up, strongest down.** It follows that the weakest scored area keeps at least
   its previous hours and the strongest at most its previous hours (strictly more / less
   when the scores differ enough to move a half hour).
5. **Layout.** Study days are refilled by the plan's rotation (runs of about a day,
   interleaved, weakest area first); review days take the areas weakest first.
6. **Does it fit?** A rebalance is judged by :class:`~services.tutoring.study_plan.PlanDoesNotFit`'s
   rules on what is left: fewer than ``min_days`` days or fewer than ``min_total_hours``
   hours of study left means no proposal (``fits=False``), with a message that says what
   would fit and, if one exists, the first later exam date that would at the plan's pace.

Rules of :func:`recover`:

1. **The past stays.** Days up to ``today`` are kept exactly.
2. **What comes back.** The missed hours of each past day are split over that day's areas
   in proportion to its blocks, summed, and rounded to the nearest half hour (halves up).
   Hours missed on a checkpoint day are *not* made up as study: the self-assessment is taken
   later and recorded as a result (the "result missing" notice says so).
3. **Where it goes.** Only onto study and review days from tomorrow, never onto free, rest,
   checkpoint or exam days; earliest ISO week (Monday to Sunday) first, and within a week to
   the shortest day first (earliest on a tie), so the extra is spread, not piled up.
4. **The weekly ceiling.** No ISO week may end above 1.1 x ``weekly_hours``, counting all of
   that week's planned hours (its past days included). A week already above it (a review
   stretch has no free day) takes nothing and stays as it was.
5. **Does it fit?** If not every missed half hour finds room, there is no proposal
   (``fits=False``); the message says how much would fit and names the first later exam
   date at which a new plan at ``weekly_hours`` would have room for the hours left plus the
   missed ones (``None`` within three years).

Both are deterministic (exact fractions, fixed tie-breaks, no sets). Limits: the weights
trust one self-assessment per area, so a lucky or unlucky form moves hours; rebalancing
twice with the same scores moves hours twice (each starts from the current plan); hours
recovered may give a day more than two areas; recovery does not move free days or checkpoints.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

from services.tutoring.labels import area_label, day_text
from services.tutoring.study_plan import (
    MAX_WEEKLY_HOURS,
    SUGGESTION_HORIZON_DAYS,
    InvalidPlanRequest,
    PlanDay,
    PlanSettings,
    StudyBlock,
    StudyPlan,
    _budget,
    _fill,
    _fits,
    _hours_by_area,
    _hours_text,
    _is_date,
    _is_int,
    _largest_remainder,
    _layout,
    _rotation,
    _total_hours,
)

_UNITS_PER_HOUR = 2  # half hours, as in study_plan
_WORK = ("study", "review")  # the kinds whose hours belong to areas and may be reshared
#: Rule 3 of rebalance: an area's weight is its hours times (SCORE_BASE - score).
SCORE_BASE = 150
#: Rule 4 of recover: no ISO week above this times the weekly hours.
WEEKLY_CEILING = Fraction(11, 10)
_DAY_UNITS = 24 * _UNITS_PER_HOUR


@dataclass(frozen=True)
class Revision:
    """A proposed change to a plan, for a person to accept or decline; see the module rules."""

    plan: StudyPlan | None  # the proposed plan; None when it does not fit
    fits: bool
    message: str  # one plain sentence for people
    hours_before: dict[str, float]  # per area, from the start to the exam, in the old plan
    hours_after: dict[str, float]  # the same in the new plan ({} when it does not fit)
    suggested_exam_date: date | None  # when it does not fit: the first exam date that would


# --------------------------------------------------------------------------- shared


def _exact(value: float) -> Fraction:
    """A float as an exact fraction, snapped to what people type (scores, hours)."""
    return Fraction(value).limit_denominator(10_000)


def _hours_from(plan: StudyPlan, start: date) -> dict[str, float]:
    """Per area (every area of the plan, in its order), the hours of work days from ``start``."""
    later = _hours_by_area([d for d in plan.days if d.day >= start])
    return {area: later.get(area, 0.0) for area in plan.hours_by_area} | later


def _same_keys(before: Mapping[str, float], after: Mapping[str, float]) -> dict[str, float]:
    """``after`` in ``before``'s order and keys, so the two read as one before/after table."""
    return {area: after.get(area, 0.0) for area in before} | dict(after)


def _units(hours: float) -> int:
    """Whole half hours in ``hours`` (rounded down; the rest stays where it was)."""
    return math.floor(hours * _UNITS_PER_HOUR + 1e-9)


def _with_days(plan: StudyPlan, days: list[PlanDay]) -> StudyPlan:
    return StudyPlan(
        exam_date=plan.exam_date,
        days=tuple(days),
        hours_by_area=_hours_by_area(days),
        total_hours=_total_hours(days),
        warnings=plan.warnings,
    )


def _changes_text(before: Mapping[str, float], after: Mapping[str, float]) -> str:
    """``Renal 10 h → 14 h, Cardiology 12 h → 9 h``: most gained first, most lost last."""
    moved = [
        (after.get(a, 0.0) - h, i, a)
        for i, (a, h) in enumerate(before.items())
        if not math.isclose(after.get(a, 0.0), h, abs_tol=1e-6)
    ]
    moved.sort(key=lambda m: (-m[0], m[1]))
    return ", ".join(
        f"{area_label(a)} {_hours_text(before[a])} h → {_hours_text(after.get(a, 0.0))} h"
        for _, _, a in moved
    )


def _first_exam_date(
    today: date, after: date, weekly_hours: float, settings: PlanSettings, needed: float
) -> date | None:
    """The first exam date after ``after`` where a new plan from tomorrow has ``needed`` h."""
    if weekly_hours <= 0:
        return None
    for extra in range(1, SUGGESTION_HORIZON_DAYS + 1):
        candidate = after + timedelta(days=extra)
        if (candidate - today).days > SUGGESTION_HORIZON_DAYS:
            return None
        if not _fits(today, candidate, weekly_hours, settings):  # type: ignore[arg-type]
            continue
        budget = _budget(_layout(today, candidate, settings), weekly_hours, settings)  # type: ignore[arg-type]
        if budget.study_hours >= needed:
            return candidate
    return None


def _no_fit(before: dict[str, float], message: str, suggested: date | None) -> Revision:
    return Revision(None, False, message, before, {}, suggested)


# --------------------------------------------------------------------------- rebalance


def _clean_scores(area_scores: Mapping[str, float]) -> dict[str, Fraction]:
    if not isinstance(area_scores, Mapping):
        raise InvalidPlanRequest("Area scores map areas to percent correct", field="area_scores")
    scores: dict[str, Fraction] = {}
    for area, score in area_scores.items():
        if isinstance(score, bool) or not isinstance(score, int | float) or not 0 <= score <= 100:
            raise InvalidPlanRequest(
                f"The score for {area_label(area)} is a percent from 0 to 100", field="area_scores"
            )
        scores[str(area)] = _exact(score)
    return scores


def _pace(plan: StudyPlan, start: date) -> float:
    """The plan's hours per week from ``start`` to the exam (free days count as days)."""
    days = [d for d in plan.days if start <= d.day < plan.exam_date]
    return 7 * _total_hours(days) / len(days) if days else 0.0


def rebalance(
    plan: StudyPlan,
    start: date,
    area_scores: Mapping[str, float],
    settings: PlanSettings = PlanSettings(),
) -> Revision:
    """Share the work from ``start`` out again toward the weaker areas (module rules 1-6)."""
    if not _is_date(start):
        raise InvalidPlanRequest("The start is a calendar date", field="start")
    scores = _clean_scores(area_scores)
    areas = list(plan.hours_by_area)
    before = _hours_from(plan, start)
    today = start - timedelta(days=1)
    left = sum(before.values())
    away = (plan.exam_date - today).days
    if away < settings.min_days:
        earliest = today + timedelta(days=settings.min_days)
        return _no_fit(
            before,
            f"The exam on {day_text(plan.exam_date, year=True)} is {max(away, 0)} day(s) away, too close "
            f"to rebalance (that needs at least {settings.min_days} days): keep the plan as it "
            f"is, or move the exam to {day_text(earliest, year=True)} or later",
            earliest,
        )
    if left < settings.min_total_hours:
        pace = _pace(plan, start)
        later = _first_exam_date(
            today, plan.exam_date, pace, settings, float(settings.min_total_hours)
        )
        option = (
            f"move the exam to {day_text(later, year=True)} or later for a new plan"
            if later
            else "ask your tutor about more hours a week"
        )
        return _no_fit(
            before,
            f"Only {_hours_text(left)} h of study are left before the exam on "
            f"{day_text(plan.exam_date, year=True)}, fewer than the {settings.min_total_hours} h a "
            f"rebalance needs: keep the plan as it is, or {option}",
            later,
        )

    scored = [scores[a] for a in areas if a in scores]
    if not scored:
        return Revision(
            plan,
            True,
            "None of the scored areas is in this plan, so the hours stay as they are",
            before,
            dict(before),
            None,
        )
    if len(set(scored)) < 2:
        # Unscored areas count as the mean (rule 3): one score, or equal ones, compare nothing.
        return Revision(
            plan,
            True,
            "Rebalancing compares areas, and the scored areas of this plan do not differ: "
            "the plan stays as it is",
            before,
            dict(before),
            None,
        )
    mean = sum(scored, Fraction(0)) / len(scored)
    score = {a: scores.get(a, mean) for a in areas}
    order = sorted(areas, key=lambda a: (score[a], areas.index(a)))  # weakest first
    factor = {a: SCORE_BASE - score[a] for a in areas}

    later_days = [d for d in plan.days if d.day >= start]
    new_blocks: dict[date, tuple[StudyBlock, ...]] = {}
    for kind in _WORK:
        days = [d for d in later_days if d.kind == kind]
        if not days:
            continue
        old = dict.fromkeys(order, Fraction(0))
        for d in days:
            for block in d.blocks:
                old[block.area] = old.get(block.area, Fraction(0)) + _exact(block.hours)
        caps = [_units(d.hours) for d in days]
        names = list(old)
        shares = _shares(names, old, sum(caps), factor, scores)
        if kind == "study":
            queue = _rotation(names, shares, max(caps))
        else:
            queue = [[a, u] for a, u in zip(names, shares, strict=True) if u > 0]
        for d, blocks in zip(days, _fill(caps, queue), strict=True):
            new_blocks[d.day] = _keep_the_rest(d, blocks)

    days = [replace(d, blocks=new_blocks[d.day]) if d.day in new_blocks else d for d in plan.days]
    revised = _with_days(plan, days)
    after = _same_keys(before, _hours_from(revised, start))
    changes = _changes_text(before, after)
    if not changes:
        return Revision(
            plan,
            True,
            "The area scores are too close to move a half hour: the plan stays as it is",
            before,
            dict(before),
            None,
        )
    return Revision(
        revised,
        True,
        f"From {day_text(start)} to the exam, more time for weaker areas and less for "
        f"stronger ones, with every day keeping its hours: {changes}",
        before,
        after,
        None,
    )


def _shares(
    names: list[str],
    old: Mapping[str, Fraction],
    units: int,
    factor: Mapping[str, Fraction],
    scores: Mapping[str, Any],
) -> list[int]:
    """Half-hour units per area (in ``names`` order) out of ``units``.

    An area without a score is neutral: it keeps its own hours (whole half hours), since
    nothing says it needs more or less. The rest is shared among the scored areas by weight
    (old hours times ``SCORE_BASE`` minus the score), so a weak scored area gains what a strong one
    gives, and no rounding leftover is taken from an unscored area.
    """
    kept = {a: min(_units(float(old[a])), units) for a in names if a not in scores}
    left = max(units - sum(kept.values()), 0)
    scored = [a for a in names if a in scores]
    weights = [old[a] * factor[a] for a in scored]
    if sum(weights) > 0:
        given = dict(zip(scored, _largest_remainder(left, weights), strict=True))
    else:  # nothing scored here: every unit stays with the unscored areas, in proportion
        given = {}
        if left and kept:
            first = names[0] if names[0] in kept else next(iter(kept))
            kept[first] += left
    return [given.get(a, kept.get(a, 0)) for a in names]


def _keep_the_rest(day: PlanDay, blocks: tuple[StudyBlock, ...]) -> tuple[StudyBlock, ...]:
    """Blocks that add up to the day's old hours: hours under a half hour stay on the day."""
    rest = day.hours - sum(b.hours for b in blocks)
    if rest <= 1e-9:
        return blocks
    area = blocks[0].area if blocks else day.blocks[0].area
    merged = {b.area: b.hours for b in blocks}
    merged[area] = merged.get(area, 0.0) + rest
    return tuple(StudyBlock(a, h) for a, h in merged.items())


# --------------------------------------------------------------------------- recover


def _missed_by_area(
    plan: StudyPlan, today: date, missed: Mapping[date, float]
) -> tuple[dict[str, Fraction], bool]:
    """Rule 2: per area, the hours missed; and whether a checkpoint was missed."""
    if not isinstance(missed, Mapping):
        raise InvalidPlanRequest("Missed hours map past days to hours", field="missed")
    by_area: dict[str, Fraction] = {}
    checkpoint = False
    for on in missed:  # every key checked before sorting: a str among dates cannot sort
        if not _is_date(on) or on > today or not plan.days[0].day <= on <= plan.exam_date:
            raise InvalidPlanRequest(f"{on} is not a past day of this plan", field="missed")
    for on in sorted(missed):
        hours = missed[on]
        day = plan.day(on)
        if isinstance(hours, bool) or not isinstance(hours, int | float) or not hours >= 0:
            raise InvalidPlanRequest(f"{on}: missed hours are 0 or more", field="missed")
        if hours > day.hours + 1e-6:
            raise InvalidPlanRequest(
                f"{on}: {_hours_text(hours)} h missed of {_hours_text(day.hours)} h planned",
                field="missed",
            )
        if hours == 0 or day.hours == 0:
            continue
        if day.kind not in _WORK:
            checkpoint = checkpoint or day.kind == "checkpoint"
            continue
        total = _exact(day.hours)
        for block in day.blocks:
            part = _exact(hours) * _exact(block.hours) / total
            by_area[block.area] = by_area.get(block.area, Fraction(0)) + part
    return by_area, checkpoint


def _week(on: date) -> tuple[int, int]:
    year, week, _ = on.isocalendar()
    return year, week


def _place(plan: StudyPlan, tomorrow: date, units: int, weekly_hours: int) -> dict[date, int]:
    """Rules 3-4: half hours added per day, earliest week first, shortest day first."""
    ceiling = WEEKLY_CEILING * weekly_hours
    week_hours: dict[tuple[int, int], Fraction] = {}
    for d in plan.days:
        week_hours[_week(d.day)] = week_hours.get(_week(d.day), Fraction(0)) + _exact(d.hours)
    open_days: dict[tuple[int, int], list[PlanDay]] = {}
    for d in plan.days:
        if d.day >= tomorrow and d.kind in _WORK:
            open_days.setdefault(_week(d.day), []).append(d)
    added: dict[date, int] = {}
    left = units
    for week, days in open_days.items():  # insertion order: earliest week first
        room = max(0, math.floor((ceiling - week_hours[week]) * _UNITS_PER_HOUR))
        length = {d.day: _exact(d.hours) * _UNITS_PER_HOUR for d in days}
        for _ in range(min(room, left)):
            fitting = [d for d in days if length[d.day] + 1 <= _DAY_UNITS]
            if not fitting:
                break
            pick = min(fitting, key=lambda d: (length[d.day], d.day))
            length[pick.day] += 1
            added[pick.day] = added.get(pick.day, 0) + 1
            left -= 1
        if left == 0:
            break
    return added


def recover(
    plan: StudyPlan,
    today: date,
    missed: Mapping[date, float],
    weekly_hours: int,
    settings: PlanSettings = PlanSettings(),
) -> Revision:
    """Make up the missed hours from tomorrow within the weekly ceiling (module rules 1-5)."""
    if not _is_date(today):
        raise InvalidPlanRequest("Today is a calendar date", field="today")
    if not _is_int(weekly_hours) or not 0 <= weekly_hours <= MAX_WEEKLY_HOURS:
        raise InvalidPlanRequest(
            f"Weekly hours are a whole number from 0 to {MAX_WEEKLY_HOURS}", field="weekly_hours"
        )
    tomorrow = today + timedelta(days=1)
    before = _hours_from(plan, tomorrow)
    by_area, checkpoint = _missed_by_area(plan, today, missed)
    total = sum(by_area.values(), Fraction(0))
    units = math.floor(total * _UNITS_PER_HOUR + Fraction(1, 2))
    if units == 0:
        why = (
            "A missed self-assessment is not made up as study: take it when you can and "
            "record the result; no study hours to add back"
            if checkpoint
            else "No study hours were missed: the plan stays as it is"
        )
        return Revision(plan, True, why, before, dict(before), None)

    names = list(by_area)
    shares = _largest_remainder(units, [by_area[a] for a in names])
    placed = _place(plan, tomorrow, units, weekly_hours)
    ceiling_text = (
        f"{_hours_text(float(WEEKLY_CEILING * weekly_hours))} h ({weekly_hours} h a week plus "
        "a tenth)"
    )
    if sum(placed.values()) < units:
        fit = sum(placed.values()) / _UNITS_PER_HOUR
        needed = sum(h for a, h in before.items()) + units / _UNITS_PER_HOUR
        later = _first_exam_date(today, plan.exam_date, weekly_hours, settings, needed)
        option = (
            f"moving the exam to {day_text(later, year=True)} or later would make room for them"
            if later
            else f"no later exam date within three years makes room at {weekly_hours} h/week"
        )
        return _no_fit(
            before,
            f"The {_hours_text(units / _UNITS_PER_HOUR)} h missed do not fit before the exam on "
            f"{day_text(plan.exam_date, year=True)} without a week above {ceiling_text}: only "
            f"{_hours_text(fit)} h would; {option}, or keep the plan as it is",
            later,
        )

    queue: list[list[Any]] = [[a, u] for a, u in zip(names, shares, strict=True) if u > 0]
    days = []
    for d in plan.days:
        extra = placed.get(d.day, 0)
        if not extra:
            days.append(d)
            continue
        hours = {b.area: b.hours for b in d.blocks}
        for block in _fill([extra], queue)[0]:
            hours[block.area] = hours.get(block.area, 0.0) + block.hours
        days.append(PlanDay(d.day, d.kind, tuple(StudyBlock(a, h) for a, h in hours.items())))
    revised = _with_days(plan, days)
    after = _same_keys(before, _hours_from(revised, tomorrow))
    spread = f"{day_text(min(placed))} to {day_text(max(placed))}"
    made_up = ", ".join(
        f"{area_label(a)} {_hours_text(u / _UNITS_PER_HOUR)} h"
        for a, u in zip(names, shares, strict=True)
        if u
    )
    return Revision(
        revised,
        True,
        f"The {_hours_text(units / _UNITS_PER_HOUR)} h missed ({made_up}) are added back on "
        f"study days from {spread}, with no week above {ceiling_text}",
        before,
        after,
        None,
    )
