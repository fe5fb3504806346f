"""A tutor's edits to a study plan: change a day's kind or blocks, then check every rule again.

Apart from :mod:`services.tutoring.study_plan` (which builds plans) so that module stays
about generation and under the handbook's 600 lines. Pure, like it: no Flask, database or
broker. Rules of :func:`edit_plan` (tests in ``tests/test_study_plan.py``):

- The exam day stays the exam day, and no other day becomes one.
- A rest day (the start of a reset plan) is protected: it cannot be changed, and no day can
  be made a rest day. Rest after a failed attempt is the advice itself, not a slot a busy
  week may borrow; a tutor who wants a quieter day makes it ``free``.
- Everything else :class:`~services.tutoring.study_plan.StudyPlan` checks on construction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from services.tutoring.study_plan import (
    DAY_KINDS,
    DayKind,
    InvalidStudyPlan,
    PlanDay,
    StudyBlock,
    StudyPlan,
    _hours_by_area,
    _total_hours,
)


@dataclass(frozen=True)
class DayChange:
    """A tutor's change to one day: a new kind, new blocks, or both (``None`` keeps it).

    Making a day ``free`` clears its blocks unless blocks are given (which is then refused:
    a free day has no work). To move a free day, change two days: the old one to ``study``
    with its blocks, the new one to ``free``.
    """

    kind: DayKind | None = None
    blocks: tuple[StudyBlock, ...] | None = None


def edit_plan(plan: StudyPlan, changes: Mapping[date, DayChange]) -> StudyPlan:
    """A new plan with the tutor's changes applied and every plan rule checked again.

    The exam day stays the exam day: it cannot be changed, and no other day can become one.
    Rest days stay rest days and no day becomes one (see the module docstring). Totals are
    recomputed from the days; the warnings of generation are kept (they describe how the
    plan began, and the service shows the edit history alongside).
    """
    by_day = {entry.day: entry for entry in plan.days}
    for on, change in changes.items():
        if on not in by_day:
            raise InvalidStudyPlan(f"{on} is not a day of this plan", field="day")
        if on == plan.exam_date:
            raise InvalidStudyPlan("The exam day has no work and stays the exam day", field="day")
        current = by_day[on]
        if current.kind == "rest":
            raise InvalidStudyPlan(
                f"{on} is a rest day of the reset: it stays a day without work", field="day"
            )
        if change.kind == "exam":
            raise InvalidStudyPlan("Only the exam date is an exam day", field="kind")
        if change.kind == "rest":
            raise InvalidStudyPlan(
                "Rest days are only the first days of a reset plan; make the day free instead",
                field="kind",
            )
        if change.kind is not None and change.kind not in DAY_KINDS:
            raise InvalidStudyPlan(f"A day is one of {', '.join(DAY_KINDS)}", field="kind")
        kind = change.kind or current.kind
        if change.blocks is not None:
            blocks = tuple(change.blocks)
        elif kind == "free":
            blocks = ()
        else:
            blocks = current.blocks
        by_day[on] = PlanDay(on, kind, blocks)
    days = tuple(by_day[entry.day] for entry in plan.days)
    return StudyPlan(
        exam_date=plan.exam_date,
        days=days,
        hours_by_area=_hours_by_area(days),
        total_hours=_total_hours(days),
        warnings=plan.warnings,
    )
