"""A student's study plan: a dated timeline from tomorrow to the exam, built from the intake.

The product's backbone (docs/architecture.md, the product's backbone) is the advice given to a student who failed Step 1: rest,
find what went wrong, get help, reset with a *realistic* plan, leave free days for the
unexpected, and check progress with regular assessments. This module turns that advice into
rules. It is pure (no Flask, database or broker): ``use_cases/study_plans.py`` stores each plan
as JSON via :func:`to_dict` and keeps the versions; a plan here is an immutable value.

Over 400 lines on purpose: the numbered rules below are one algorithm (each step feeds the
next: the budget, the days, the blocks, the checkpoints, the review stretch), and the plan's
values and its JSON form belong with it; split, a rule and its step would sit in two files.

Rules of :func:`generate_plan` (each one is a test in ``tests/test_study_plan.py``):

1. **Timeline.** The plan starts tomorrow and ends with the exam day. Day *n* is ``today + n``.
   The exam day is kind ``exam`` and carries no work: the exam is the work.
2. **Does it fit?** If the exam is fewer than ``min_days`` away, :class:`PlanDoesNotFit` names
   ``exam_date`` and the first date that would do. If the study hours before the exam (after
   the self-assessments) are below ``min_total_hours``, it names ``weekly_hours`` and says
   what weekly hours would fit and, if one exists, the first exam date that would (at very
   few hours none does: each extra fortnight adds less than its checkpoint takes). A plan that cannot work says so rather
   than cramming nonsense into the days that are left.
3. **Review stretch.** The last ``review_days`` days before the exam are ``review``: a final
   pass over every area, weak areas first, so the weakest material gets the freshest, most
   rested attention of the stretch. The stretch is unbroken (no free day in it): it is the
   taper before the exam.
4. **Free days.** Before the review stretch, every ``free_day_every``-th day (day 7, 14, ... at
   the default) is ``free``: no work. Free days are the buffer for the unexpected (illness, a
   bad week), and rest is part of the plan, not a failure of it.
5. **Checkpoints.** Every ``checkpoint_every_weeks`` weeks, the last working day of that
   period (at the defaults the day before a free day) is a ``checkpoint``: a timed
   self-assessment such as an NBME form, of a fixed :data:`CHECKPOINT_HOURS`. Only whole
   periods that end before the review stretch get one.
6. **Hours.** ``daily hours = weekly_hours / working days per week`` (6 when one day in 7 is
   free). The budget is ``daily hours x working days`` (study, checkpoint and review days);
   checkpoints take their fixed hours out of it and the rest, rounded down to half hours, is
   spread as evenly as possible over study and review days (days differ by 0.5 h at most).
7. **Weighting.** Each area weighs ``weak_weight`` if it is weak, 1.0 otherwise (no weak
   areas: all equal). The study-day hours and the review-day hours are each shared out in
   proportion with largest-remainder rounding to 0.5 h (ties go to the area listed first).
8. **Focus and rotation.** Each area's study hours are cut into runs of at least one day's
   hours; the runs are interleaved by smooth weighted round-robin, so a weak area (with about
   twice the hours) comes round about twice as often, and each study day touches at most two
   areas. If an area gets less than a day's hours, a day may have to mix three; the plan then
   carries a warning instead of silently breaking the hour totals.
9. **Determinism.** No randomness, no set ordering: the same input gives the same plan.
10. **Rest.** A reset plan (after a failed attempt) begins with ``rest_days`` days of kind
   ``rest``: no work at all, because the advice starts with rest. Rules 1-9 then apply from
   the day after the rest as if the plan started there: the budget counts only the days
   left, and :class:`PlanDoesNotFit` judges (and suggests) on what is left. No edit can
   change a rest day or make one (``plan_edits``). ``rest_days=0`` is the plan without rest.

``plan_edits.edit_plan`` applies a tutor's changes and ``plan_revision`` rebalances or
recovers; :class:`StudyPlan` validates itself on construction, so a plan in hand always
makes sense (ends on the exam day with no work on it, no negative hours, totals that add up).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any, Literal, get_args

from shared.errors import DomainError

# --------------------------------------------------------------------------- errors


class PlanDoesNotFit(DomainError):
    title = "The study plan does not fit before the exam"


class InvalidPlanRequest(DomainError):
    title = "The study plan request makes no sense"


class InvalidStudyPlan(DomainError):
    title = "The study plan is not valid"


# --------------------------------------------------------------------------- values

DayKind = Literal["study", "free", "checkpoint", "review", "exam", "rest"]
DAY_KINDS: tuple[str, ...] = get_args(DayKind)

#: A full NBME self-assessment is four 75-minute sections (about 5 h with breaks); the
#: tutor reviews the results with the student in a session, not on this day.
CHECKPOINT_HOURS = 5.0
#: The block label on a checkpoint day; it is not a subject area and is not in hours_by_area.
CHECKPOINT_LABEL = "Self-assessment"
#: Beyond about 14 h a day a plan stops being realistic; refuse rather than schedule burnout.
MAX_WEEKLY_HOURS = 100
#: More than this per day in a plan is suspicious enough to warn about.
LONG_DAY_HOURS = 10.0
#: How far ahead we look for an exam date that would fit, when suggesting one.
SUGGESTION_HORIZON_DAYS = 3 * 365

_UNIT = 0.5  # hours are planned in half hours


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_date(value: object) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


@dataclass(frozen=True)
class PlanSettings:
    """The rhythm of a plan; the defaults are the school's advice, a tutor may tune them."""

    free_day_every: int = 7
    checkpoint_every_weeks: int = 2
    review_days: int = 7
    weak_weight: float = 2.0
    min_days: int = 14
    min_total_hours: int = 20

    def __post_init__(self) -> None:
        # free_day_every=1 would make every day free; a plan without free days breaks the
        # advice the product is built on, so there is no "off" value.
        minimums = {
            "free_day_every": 2,
            "checkpoint_every_weeks": 1,
            "review_days": 0,
            "min_days": 2,
            "min_total_hours": 1,
        }
        for name, least in minimums.items():
            value = getattr(self, name)
            if not _is_int(value) or value < least:
                raise InvalidPlanRequest(
                    f"{name} must be a whole number of at least {least}", field=name
                )
        weight = self.weak_weight
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not weight >= 1:
            # A weak area weighted below a strong one would be backwards.
            raise InvalidPlanRequest(
                "weak_weight must be a number of at least 1", field="weak_weight"
            )


@dataclass(frozen=True)
class StudyBlock:
    """Some hours on one area (or the self-assessment) within a day."""

    area: str
    hours: float


@dataclass(frozen=True)
class PlanDay:
    """One calendar day of the plan and what to do on it."""

    day: date
    kind: DayKind
    blocks: tuple[StudyBlock, ...] = ()

    @property
    def hours(self) -> float:
        return sum(block.hours for block in self.blocks)


@dataclass(frozen=True)
class StudyPlan:
    """A dated plan to the exam. Validated on construction; see :func:`generate_plan`.

    ``hours_by_area`` sums the blocks of study and review days per area (the checkpoint
    label is not an area); ``total_hours`` sums every block, checkpoints included.
    """

    exam_date: date
    days: tuple[PlanDay, ...]
    hours_by_area: dict[str, float]
    total_hours: float
    warnings: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        # Copy, so a caller's dict cannot change a plan after the fact.
        object.__setattr__(self, "hours_by_area", dict(self.hours_by_area))
        _check_plan(self)

    def day(self, on: date) -> PlanDay:
        """The plan's entry for a date; ``KeyError`` if the date is not in the plan."""
        for entry in self.days:
            if entry.day == on:
                return entry
        raise KeyError(on)


def _check_plan(plan: StudyPlan) -> None:
    """Everything that must hold for any plan, generated, edited or loaded from storage."""
    if not _is_date(plan.exam_date):
        raise InvalidStudyPlan("The exam date is a calendar date", field="exam_date")
    if not plan.days:
        raise InvalidStudyPlan("A plan has at least the exam day", field="days")
    previous: date | None = None
    for entry in plan.days:
        if not _is_date(entry.day):
            raise InvalidStudyPlan("Each day is a calendar date", field="days")
        if previous is not None and entry.day != previous + timedelta(days=1):
            raise InvalidStudyPlan(
                f"Days run one after another; {entry.day} does not follow {previous}",
                field="days",
            )
        previous = entry.day
        if entry.kind not in DAY_KINDS:
            raise InvalidStudyPlan(
                f"{entry.day}: a day is one of {', '.join(DAY_KINDS)}", field="days"
            )
        if entry.kind == "exam" and entry.day != plan.exam_date:
            raise InvalidStudyPlan(f"{entry.day}: only the exam date is an exam day", field="days")
        for block in entry.blocks:
            if not isinstance(block.area, str) or not block.area.strip():
                raise InvalidStudyPlan(f"{entry.day}: a block names its area", field="days")
            hours = block.hours
            if isinstance(hours, bool) or not isinstance(hours, int | float) or not hours >= 0:
                raise InvalidStudyPlan(f"{entry.day}: hours are a number, 0 or more", field="days")
        if entry.kind in ("free", "rest", "exam") and entry.blocks:
            # A free or rest day with work on it is not one; the exam day's only work is the exam.
            raise InvalidStudyPlan(
                f"{entry.day}: no work is planned on a {entry.kind} day", field="days"
            )
        if entry.hours > 24:
            raise InvalidStudyPlan(f"{entry.day}: a day has 24 hours", field="days")
    last = plan.days[-1]
    if last.day != plan.exam_date or last.kind != "exam":
        raise InvalidStudyPlan("A plan ends with the exam day", field="days")
    if not math.isclose(plan.total_hours, _total_hours(plan.days), abs_tol=1e-6):
        raise InvalidStudyPlan("total_hours does not match the days", field="total_hours")
    expected = _hours_by_area(plan.days)
    if set(expected) != set(plan.hours_by_area) or any(
        not math.isclose(plan.hours_by_area[a], h, abs_tol=1e-6) for a, h in expected.items()
    ):
        raise InvalidStudyPlan("hours_by_area does not match the days", field="hours_by_area")


def _hours_by_area(days: Sequence[PlanDay]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for entry in days:
        if entry.kind in ("study", "review"):
            for block in entry.blocks:
                totals[block.area] = totals.get(block.area, 0.0) + block.hours
    return totals


def _total_hours(days: Sequence[PlanDay]) -> float:
    return float(sum(entry.hours for entry in days))


# --------------------------------------------------------------------------- layout


def _layout(today: date, exam_date: date, settings: PlanSettings) -> list[str]:
    """The kind of each day from tomorrow to the exam day (rules 1, 3, 4 and 5)."""
    before = (exam_date - today).days - 1  # days between today and the exam
    review_start = before - settings.review_days + 1  # first review day number
    kinds: list[str] = []
    for n in range(1, before + 1):
        if n >= review_start:
            kinds.append("review")
        elif n % settings.free_day_every == 0:
            kinds.append("free")
        else:
            kinds.append("study")
    period = 7 * settings.checkpoint_every_weeks
    end = period
    while end < review_start:
        for n in range(end, end - period, -1):
            if kinds[n - 1] == "study":
                kinds[n - 1] = "checkpoint"
                break
        end += period
    kinds.append("exam")
    return kinds


@dataclass(frozen=True)
class _Budget:
    daily_hours: float
    working_days: int
    checkpoints: int
    study_hours: float  # what is left for areas after the checkpoints


def _budget(kinds: Sequence[str], weekly_hours: int, settings: PlanSettings) -> _Budget:
    working_per_week = 7 * (1 - 1 / settings.free_day_every)
    daily = weekly_hours / working_per_week
    working = sum(1 for k in kinds if k in ("study", "checkpoint", "review"))
    checkpoints = kinds.count("checkpoint")
    return _Budget(daily, working, checkpoints, daily * working - checkpoints * CHECKPOINT_HOURS)


def _fits(today: date, exam_date: date, weekly_hours: int, settings: PlanSettings) -> bool:
    if (exam_date - today).days < settings.min_days:
        return False
    budget = _budget(_layout(today, exam_date, settings), weekly_hours, settings)
    return budget.study_hours >= settings.min_total_hours


def _hours_text(hours: float) -> str:
    return f"{max(hours, 0):.1f}".removesuffix(".0")


def _does_not_fit_on_hours(
    today: date, exam_date: date, weekly_hours: int, settings: PlanSettings, budget: _Budget
) -> PlanDoesNotFit:
    """Say what would fit: more weekly hours for this exam date, or a later exam date."""
    working_per_week = 7 * (1 - 1 / settings.free_day_every)
    needed = (
        settings.min_total_hours + budget.checkpoints * CHECKPOINT_HOURS
    ) / budget.working_days
    weekly_needed = math.ceil(needed * working_per_week - 1e-9)
    later = next(
        (
            exam_date + timedelta(days=extra)
            for extra in range(1, SUGGESTION_HORIZON_DAYS if weekly_hours else 1)
            if _fits(today, exam_date + timedelta(days=extra), weekly_hours, settings)
        ),
        None,
    )
    after = (
        f" after {budget.checkpoints} self-assessment(s) of {_hours_text(CHECKPOINT_HOURS)} h"
        if budget.checkpoints
        else ""
    )
    if later is not None:
        options = f"move the exam to {later.isoformat()} or later, or study at least {weekly_needed} h/week"
    else:
        # At very few hours the self-assessments eat more than each extra week adds.
        options = f"study at least {weekly_needed} h/week (no later exam date fits at {weekly_hours} h/week)"
    return PlanDoesNotFit(
        f"At {weekly_hours} h/week there are {_hours_text(budget.study_hours)} h of study "
        f"before the exam on {exam_date.isoformat()}{after}; a plan needs at least "
        f"{settings.min_total_hours} h: {options}",
        field="weekly_hours",
    )


# --------------------------------------------------------------------------- allocation


def _spread(units: int, slots: int) -> list[int]:
    """``units`` over ``slots`` as evenly as possible, the larger ones spaced out (Bresenham)."""
    return [(i + 1) * units // slots - i * units // slots for i in range(slots)]


def _largest_remainder(units: int, weights: Sequence[Fraction]) -> list[int]:
    """Whole units in proportion to ``weights``; leftovers go to the largest remainders."""
    total = sum(weights)
    quotas = [units * w / total for w in weights]
    shares = [math.floor(q) for q in quotas]
    left = units - sum(shares)
    order = sorted(range(len(weights)), key=lambda i: (-(quotas[i] - shares[i]), i))
    for i in order[:left]:
        shares[i] += 1
    return shares


def _rotation(areas: Sequence[str], units: Sequence[int], day_units: int) -> list[list[Any]]:
    """Runs ``[area, units]`` of at least a day each, interleaved by smooth weighted round-robin.

    An area with twice the hours has about twice the runs, so it comes round twice as often.
    """
    runs: dict[str, list[int]] = {}
    for area, total in zip(areas, units, strict=True):
        if total <= 0:
            continue
        count = max(1, total // max(day_units, 1))
        runs[area] = _spread(total, count)
    weights = {area: len(sizes) for area, sizes in runs.items()}
    whole = sum(weights.values())
    current = dict.fromkeys(runs, 0)
    sequence: list[list[Any]] = []
    for _ in range(whole):
        for area in current:
            current[area] += weights[area]
        pick = max(current, key=lambda a: current[a])  # first listed wins a tie
        current[pick] -= whole
        size = runs[pick].pop(0)
        if sequence and sequence[-1][0] == pick:
            sequence[-1][1] += size
        else:
            sequence.append([pick, size])
    return sequence


def _fill(capacities: Sequence[int], queue: list[list[Any]]) -> list[tuple[StudyBlock, ...]]:
    """Pour the queue of ``[area, units]`` into days of the given capacities, in order."""
    days: list[tuple[StudyBlock, ...]] = []
    for capacity in capacities:
        room = capacity
        blocks: dict[str, int] = {}
        while room > 0 and queue:
            area, units = queue[0]
            take = min(room, units)
            blocks[area] = blocks.get(area, 0) + take
            room -= take
            if take == units:
                queue.pop(0)
            else:
                queue[0][1] -= take
        days.append(tuple(StudyBlock(a, u * _UNIT) for a, u in blocks.items()))
    return days


# --------------------------------------------------------------------------- use


def _clean_areas(areas: Sequence[str], weak_areas: Sequence[str]) -> tuple[list[str], set[str]]:
    if isinstance(areas, str) or isinstance(weak_areas, str):
        raise InvalidPlanRequest("Areas are a list of names", field="areas")
    cleaned = [a.strip() if isinstance(a, str) else "" for a in areas]
    if not cleaned or any(not a for a in cleaned):
        raise InvalidPlanRequest("Name at least one area, none of them blank", field="areas")
    if len({a.casefold() for a in cleaned}) != len(cleaned):
        raise InvalidPlanRequest("Each area is named once", field="areas")
    if any(a.casefold() == CHECKPOINT_LABEL.casefold() for a in cleaned):
        raise InvalidPlanRequest(
            f"{CHECKPOINT_LABEL!r} is the checkpoint, not an area", field="areas"
        )
    by_key = {a.casefold(): a for a in cleaned}
    weak: set[str] = set()
    for name in weak_areas:
        key = name.strip().casefold() if isinstance(name, str) else ""
        if key not in by_key:
            # A weak area that is not studied would silently get no hours.
            raise InvalidPlanRequest(
                f"Weak area {name!r} is not one of the areas: {', '.join(cleaned)}",
                field="weak_areas",
            )
        weak.add(by_key[key])
    return cleaned, weak


def generate_plan(
    today: date,
    exam_date: date,
    weekly_hours: int,
    areas: Sequence[str],
    weak_areas: Sequence[str],
    settings: PlanSettings = PlanSettings(),
    rest_days: int = 0,
) -> StudyPlan:
    """Build the study plan from the intake; the rules are in this module's docstring.

    Raises :class:`PlanDoesNotFit` (naming ``exam_date`` or ``weekly_hours`` and what would
    fit) when no realistic plan exists, and :class:`InvalidPlanRequest` for input that makes
    no sense (no areas, an unknown weak area, hours that are not a whole number).
    ``rest_days`` days of rest come first (rule 10); the rest is planned from the day after.
    """
    if not _is_date(today):
        raise InvalidPlanRequest("Today is a calendar date", field="today")
    if not _is_date(exam_date):
        raise InvalidPlanRequest("The exam date is a calendar date", field="exam_date")
    if not _is_int(weekly_hours) or not 0 <= weekly_hours <= MAX_WEEKLY_HOURS:
        raise InvalidPlanRequest(
            f"Weekly hours are a whole number from 0 to {MAX_WEEKLY_HOURS}", field="weekly_hours"
        )
    if not _is_int(rest_days) or rest_days < 0:
        raise InvalidPlanRequest("Rest days are a whole number, 0 or more", field="rest_days")
    names, weak = _clean_areas(areas, weak_areas)

    # Rule 10: after the rest, plan as if the plan began there ("today" is the last rest day).
    rested = today + timedelta(days=rest_days)
    away = (exam_date - rested).days
    if away < settings.min_days:
        earliest = rested + timedelta(days=settings.min_days)
        after_rest = f" after {rest_days} rest day(s)" if rest_days else ""
        raise PlanDoesNotFit(
            f"The exam on {exam_date.isoformat()} is {away} day(s) away{after_rest}; a plan "
            f"needs at least {settings.min_days} days: move the exam to "
            f"{earliest.isoformat()} or later",
            field="exam_date",
        )
    kinds = ["rest"] * rest_days + _layout(rested, exam_date, settings)
    budget = _budget(kinds, weekly_hours, settings)
    if budget.study_hours < settings.min_total_hours:
        raise _does_not_fit_on_hours(rested, exam_date, weekly_hours, settings, budget)

    # Rule 6: half-hour units, rounded down (never plan more than the student said they have).
    units = math.floor(budget.study_hours / _UNIT + 1e-9)
    working = [i for i, k in enumerate(kinds) if k in ("study", "review")]
    capacity = dict(zip(working, _spread(units, len(working)), strict=True))
    study_days = [i for i in working if kinds[i] == "study"]
    review_days = [i for i in working if kinds[i] == "review"]

    # Rule 7: weights as exact fractions, so rounding never depends on float noise.
    weights = [Fraction(settings.weak_weight) if a in weak else Fraction(1) for a in names]
    study_units = _largest_remainder(sum(capacity[i] for i in study_days), weights)
    review_units = _largest_remainder(sum(capacity[i] for i in review_days), weights)

    blocks: dict[int, tuple[StudyBlock, ...]] = {}
    if study_days:
        longest = max(capacity[i] for i in study_days)
        queue = _rotation(names, study_units, longest)
        caps = [capacity[i] for i in study_days]
        blocks.update(zip(study_days, _fill(caps, queue), strict=True))
    if review_days:
        # Rule 3: one pass over everything, weak areas first.
        order = [a for a in names if a in weak] + [a for a in names if a not in weak]
        share = dict(zip(names, review_units, strict=True))
        queue = [[a, share[a]] for a in order if share[a] > 0]
        caps = [capacity[i] for i in review_days]
        blocks.update(zip(review_days, _fill(caps, queue), strict=True))

    days: list[PlanDay] = []
    for i, kind in enumerate(kinds):
        on = today + timedelta(days=i + 1)
        if kind == "checkpoint":
            day_blocks: tuple[StudyBlock, ...] = (StudyBlock(CHECKPOINT_LABEL, CHECKPOINT_HOURS),)
        else:
            day_blocks = blocks.get(i, ())
        days.append(PlanDay(on, kind, day_blocks))  # type: ignore[arg-type]

    warnings: list[str] = []
    if budget.daily_hours > LONG_DAY_HOURS:
        warnings.append(
            f"About {_hours_text(round(budget.daily_hours, 1))} h a day is hard to keep up; "
            "check the weekly hours are realistic"
        )
    if budget.checkpoints == 0:
        warnings.append("No self-assessment fits before the review stretch")
    crowded = [d.day for d in days if d.kind == "study" and len(d.blocks) > 2]
    if crowded:
        warnings.append(
            f"{len(crowded)} study day(s) mix more than two areas: there are more areas than "
            "the hours can focus on; consider fewer areas or more hours"
        )
    return StudyPlan(
        exam_date=exam_date,
        days=tuple(days),
        hours_by_area=_hours_by_area(days),
        total_hours=_total_hours(days),
        warnings=tuple(warnings),
    )


# --------------------------------------------------------------------------- storage

FORMAT = 1  # bump when the stored shape changes, so old versions can still be read


def to_dict(plan: StudyPlan) -> dict[str, Any]:
    """A JSON-safe dict (ISO dates, plain lists) for the service to store as one version."""
    return {
        "format": FORMAT,
        "exam_date": plan.exam_date.isoformat(),
        "days": [
            {
                "day": entry.day.isoformat(),
                "kind": entry.kind,
                "blocks": [{"area": b.area, "hours": b.hours} for b in entry.blocks],
            }
            for entry in plan.days
        ],
        "hours_by_area": dict(plan.hours_by_area),
        "total_hours": plan.total_hours,
        "warnings": list(plan.warnings),
    }


def from_dict(data: Mapping[str, Any]) -> StudyPlan:
    """The plan :func:`to_dict` stored; anything malformed raises :class:`InvalidStudyPlan`."""
    try:
        if data.get("format") != FORMAT:
            raise InvalidStudyPlan(f"Unknown plan format {data.get('format')!r}", field="format")
        return StudyPlan(
            exam_date=date.fromisoformat(data["exam_date"]),
            days=tuple(
                PlanDay(
                    date.fromisoformat(entry["day"]),
                    entry["kind"],
                    tuple(StudyBlock(b["area"], float(b["hours"])) for b in entry["blocks"]),
                )
                for entry in data["days"]
            ),
            hours_by_area={str(a): float(h) for a, h in data["hours_by_area"].items()},
            total_hours=float(data["total_hours"]),
            warnings=tuple(str(w) for w in data["warnings"]),
        )
    except InvalidStudyPlan:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise InvalidStudyPlan(f"Malformed stored plan: {error!r}", field="plan") from error
