"""Reading a plan's progress: the chart series with the estimate, per-area first vs latest,
checkpoints without a result, readiness, the last week's adherence; and the tutor's dashboard.

Reads only. Everything is computed from the stored rows on each request (a handful of results
and checks per plan), so nothing here can drift from what was recorded.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.tutoring import loading, progress
from services.tutoring.loading import PlanInHand
from services.tutoring.models import (
    AssessmentForm,
    PlanDayCheck,
    PlanProposal,
    StudyPlanRow,
)
from services.tutoring.use_cases import reset
from services.tutoring.use_cases.results import (
    Pair,
    plan_results,
    readiness_facts,
    result_view,
)
from shared.auth import Principal
from shared.db import UnitOfWork

CHARTED_SCALES = ("percent", "three_digit")
"""Scales drawn as a line; pass/fail results are listed in the table, not charted."""
CHECKPOINT_WINDOW_DAYS = 3
"""A result taken within this many days of a checkpoint day counts as its result."""
ADHERENCE_DAYS = 7
WORKING_KINDS = ("study", "review", "checkpoint")
"""Days that carry work; free, rest and exam days are never checked."""


def estimate_method() -> str:
    """The estimate's method and its limits in plain words, shown under the chart: a straight
    line through a few scores can promise too much, and the page must say so."""
    return f"{progress.METHOD} {progress.LIMITS}"


# --- pieces --------------------------------------------------------------------------------------


def _plan_days(hand: PlanInHand) -> list[dict[str, Any]]:
    return list(hand.version.body.get("days") or [])


def _day_hours(entry: dict[str, Any]) -> float:
    return float(sum(b["hours"] for b in entry.get("blocks", [])))


def missing_checkpoints(hand: PlanInHand, pairs: Sequence[Pair], today: date) -> list[date]:
    """Past checkpoint days (before today, the student's date) with no result taken within
    ``CHECKPOINT_WINDOW_DAYS`` days either side."""
    taken = [r.taken_on for r, _f in pairs]
    window = timedelta(days=CHECKPOINT_WINDOW_DAYS)
    missing = []
    for entry in _plan_days(hand):
        day = date.fromisoformat(entry["day"])
        if entry["kind"] != "checkpoint" or day >= today:
            continue
        if not any(day - window <= t <= day + window for t in taken):
            missing.append(day)
    return missing


def half_hours(hours: float) -> float:
    """To the nearest half hour, halves up: the unit plans are made in, and the rounding the
    recovery applies to missed hours, so the page and a catch-up proposal say the same."""
    return math.floor(hours * 2 + 0.5) / 2


def adherence(db: Session, hand: PlanInHand, today: date) -> dict[str, Any]:
    """The last seven days (before today): hours planned, done, missed and not yet checked.

    The figures add up: ``planned_hours = done_hours + missed_hours + unchecked_hours``. A day
    marked partly done counts half done and half missed; ``partial_days`` counts those days
    (``partial_hours``, their whole hours, is kept for older readers but is already inside
    done and missed: never add it). A checked day counts the hours the student answered
    about, even if a later version moved them. Missed hours are rounded to half hours as the
    recovery rounds them; done hours are what is left of the checked hours.
    """
    since = today - timedelta(days=ADHERENCE_DAYS)
    checks = {
        c.day: c
        for c in db.scalars(
            select(PlanDayCheck).where(
                PlanDayCheck.plan_id == hand.row.id,
                PlanDayCheck.day >= since,
                PlanDayCheck.day < today,
            )
        )
    }
    checked = partial = missed = unchecked_hours = 0.0
    unchecked = partial_days = 0
    for entry in _plan_days(hand):
        day = date.fromisoformat(entry["day"])
        if not since <= day < today or entry["kind"] not in WORKING_KINDS:
            continue
        check = checks.get(day)
        if check is None:
            unchecked += 1
            unchecked_hours += _day_hours(entry)
            continue
        worth = check.planned_hours
        checked += worth
        if check.status == "partial":
            partial += worth
            partial_days += 1
            missed += worth / 2
        elif check.status == "missed":
            missed += worth
    missed = min(half_hours(missed), checked)
    return {
        "since": since,
        "planned_hours": checked + unchecked_hours,
        "done_hours": checked - missed,
        "partial_hours": partial,
        "partial_days": partial_days,
        "missed_hours": missed,
        "unchecked_days": unchecked,
        "unchecked_hours": unchecked_hours,
    }


def _point(pair: Pair) -> dict[str, Any]:
    row, form = pair
    return {
        "taken_on": row.taken_on,
        "score": row.score,
        "form_name": form.name,
        "result_id": row.id,
    }


def _exam_forms(db: Session, exam: str) -> list[AssessmentForm]:
    return list(
        db.scalars(
            select(AssessmentForm)
            .where(AssessmentForm.exam == exam, AssessmentForm.official.is_(False))
            .order_by(AssessmentForm.name)
        )
    )


def series(db: Session, hand: PlanInHand, pairs: Sequence[Pair]) -> list[dict[str, Any]]:
    """One chart per scale that has a result or a target: the points, the passing line and
    target (those of the newest result's form, else of the exam's forms; the student's own
    target first), and the trend estimate to the exam date."""
    targets = hand.row.targets or {}
    forms = _exam_forms(db, hand.row.exam)
    charts = []
    for scale in CHARTED_SCALES:
        own = [p for p in pairs if p[1].scale == scale]
        if not own and scale not in targets:
            continue
        scale_forms = [f for _r, f in own] or [f for f in forms if f.scale == scale]
        if not scale_forms:
            continue
        reference = scale_forms[-1]
        low = min(f.scale_min for f in scale_forms)
        high = max(f.scale_max for f in scale_forms)
        estimate = progress.trend(
            [progress.Point(r.taken_on, r.score) for r, _f in own], hand.row.exam_date, low, high
        )
        charts.append(
            {
                "scale": scale,
                "low": low,
                "high": high,
                "passing_score": reference.passing_score,
                "target": targets.get(scale, reference.default_target),
                "points": [_point(p) for p in own],
                "estimate": None
                if estimate is None
                else {
                    "on": estimate.on,
                    "score": estimate.score,
                    "per_week": estimate.per_week,
                    "points": estimate.points,
                    "method": estimate.method,
                },
            }
        )
    return charts


def area_changes(pairs: Iterable[Pair]) -> list[dict[str, Any]]:
    """Per area, the first and the latest per-area score (areas with at least one)."""
    seen: dict[str, dict[str, Any]] = {}
    for row, _form in pairs:
        for area, percent in (row.area_scores or {}).items():
            entry = seen.setdefault(
                area, {"area": area, "first": percent, "first_on": row.taken_on}
            )
            entry["latest"], entry["latest_on"] = percent, row.taken_on
    return sorted(seen.values(), key=lambda e: e["area"])


# --- views ---------------------------------------------------------------------------------------


def _progress_of(db: Session, hand: PlanInHand) -> dict[str, Any]:
    today = hand.student_today()
    pairs = plan_results(db, hand.row.id)
    return {
        "plan_id": hand.row.id,
        "student_id": hand.row.student_id,
        "student_name": hand.consultation.student_name,
        "tutor_id": hand.row.tutor_id,
        "tutor_name": hand.tutor_name,
        "exam": hand.row.exam,
        "exam_date": hand.row.exam_date,
        "version": hand.row.latest_version,
        "today": today,
        "series": series(db, hand, pairs),
        "areas": area_changes(pairs),
        "results": [result_view(r, f) for r, f in pairs],
        "missing_checkpoints": missing_checkpoints(hand, pairs, today),
        "readiness": readiness_facts(hand, pairs, today),
        "adherence": adherence(db, hand, today),
        "estimate_method": estimate_method(),
        "reset_advised": reset.reset_advice(pairs),
    }


def plan_progress(uow: UnitOfWork, principal: Principal, plan_id: str) -> dict[str, Any]:
    """The progress page's data (the plan's student, its tutor or an admin)."""
    with uow:
        hand = loading.load_plan(uow.session, principal, plan_id)
        return _progress_of(uow.session, hand)


def tutor_dashboard(uow: UnitOfWork, principal: Principal) -> list[dict[str, Any]]:
    """One row per plan of the tutor's students, newest plan first: what needs the tutor."""
    with uow:
        db = uow.session
        rows = db.scalars(
            select(StudyPlanRow)
            .where(StudyPlanRow.tutor_id == principal.user_id)
            .order_by(StudyPlanRow.created_at.desc(), StudyPlanRow.id)
        ).all()
        open_counts = dict(
            db.execute(
                select(PlanProposal.plan_id, func.count())
                .where(
                    PlanProposal.plan_id.in_([r.id for r in rows]),
                    PlanProposal.status == "proposed",
                )
                .group_by(PlanProposal.plan_id)
            ).all()
        )
        found = []
        for row in rows:
            hand = loading.in_hand(db, row)
            today = hand.student_today()
            pairs = plan_results(db, row.id)
            readiness = readiness_facts(hand, pairs, today, look_for_later=False)
            advised = reset.reset_advice(pairs)
            missing = missing_checkpoints(hand, pairs, today)
            found.append(
                {
                    "plan_id": row.id,
                    "student_id": row.student_id,
                    "student_name": hand.consultation.student_name,
                    "exam": row.exam,
                    "exam_date": row.exam_date,
                    "version": row.latest_version,
                    "missing_checkpoints": missing,
                    "readiness_warning": readiness["warning"],
                    "open_proposals": int(open_counts.get(row.id, 0)),
                    "latest_result": result_view(*pairs[-1]) if pairs else None,
                    "missed_hours_7d": adherence(db, hand, today)["missed_hours"],
                    # A failed official attempt: the student needs a new consultation and a
                    # reset plan, which is the tutor's to make.
                    "reset_advised": advised,
                    "needs_attention": bool(
                        advised or readiness["warning"] or missing or open_counts.get(row.id, 0)
                    ),
                }
            )
        return found
