"""Practice assessment results on a study plan: recording one, taking a typo back, targets.

A result is the loop's input: the progress page charts it, a rebalance weighs the plan by its
per-area scores, and two results below passing close to the exam raise the readiness warning.
So a result is checked against everything it will be read with (the form's scale, the plan's
exam, dates and areas) before anything is stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.tutoring import domain, loading, progress
from services.tutoring.events import AssessmentResultRecorded, ReadinessWarning, ScoreFacts
from services.tutoring.labels import area_label, day_text, exam_label
from services.tutoring.loading import PlanInHand
from services.tutoring.models import AssessmentForm, AssessmentResult, ProgressNotice
from services.tutoring.use_cases import reset
from shared import config
from shared.auth import Principal
from shared.db import UnitOfWork, utcnow
from shared.errors import DomainError, Forbidden, NotFound

Pair = tuple[AssessmentResult, AssessmentForm]

SCALE_WORDS = {"percent": "percent", "three_digit": "three-digit", "pass_fail": "pass/fail"}


class InvalidResult(DomainError):
    title = "The result cannot be recorded"


class ResultNotFound(NotFound):
    title = "No such result"


class InvalidTarget(DomainError):
    title = "The target is not valid"


def readiness_weeks() -> int:
    return config.env_int("READINESS_WEEKS", 6)


# --- views ---------------------------------------------------------------------------------------


def below_passing(score: float, form: AssessmentForm) -> bool:
    return form.passing_score is not None and score < form.passing_score


def score_text(score: float, scale: str) -> str:
    """A score as people read it: "Pass"/"Fail" on a pass/fail scale, else the number."""
    if scale == "pass_fail":
        return "Pass" if score >= 1 else "Fail"
    return f"{score:g}"


def result_view(row: AssessmentResult, form: AssessmentForm) -> dict[str, Any]:
    return {
        "id": row.id,
        "plan_id": row.plan_id,
        "form_id": form.id,
        "form_name": form.name,
        "scale": form.scale,
        "official": form.official,
        "passing_score": form.passing_score,
        "taken_on": row.taken_on,
        "score": row.score,
        "score_text": score_text(row.score, form.scale),
        "area_scores": dict(row.area_scores or {}),
        "note": row.note,
        "recorded_role": row.recorded_role,
        "created_at": row.created_at,
        "below_passing": below_passing(row.score, form),
    }


def plan_results(db: Session, plan_id: str) -> list[Pair]:
    """The plan's results with their forms, oldest first (taken, then recorded)."""
    rows = db.execute(
        select(AssessmentResult, AssessmentForm)
        .join(AssessmentForm, AssessmentForm.id == AssessmentResult.form_id)
        .where(AssessmentResult.plan_id == plan_id)
        .order_by(AssessmentResult.taken_on, AssessmentResult.created_at, AssessmentResult.id)
    ).all()
    return [(r, f) for r, f in rows]


def score_facts(row: AssessmentResult, form: AssessmentForm) -> ScoreFacts:
    """One result as the readiness warning names it (in its event and on the progress page)."""
    return ScoreFacts(
        form_name=form.name,
        scale=form.scale,
        score=row.score,
        passing_score=form.passing_score,
        taken_on=row.taken_on,
    )


def readiness_facts(
    hand: PlanInHand, pairs: Sequence[Pair], today: date, *, look_for_later: bool = True
) -> dict[str, Any]:
    """Whether the newest results warn that the exam comes too soon, and what would fit.

    ``later_exam_date`` is only looked for when there is a warning (and ``look_for_later``):
    it generates plans, which a dashboard of many plans need not.
    """
    newest_first = list(reversed(pairs))
    weeks = readiness_weeks()
    warning = progress.readiness(
        [(r.score, f.passing_score) for r, f in newest_first], hand.row.exam_date, today, weeks
    )
    return {
        "warning": warning,
        "weeks_left": max(0, (hand.row.exam_date - today).days // 7),
        "later_exam_date": _later_exam_date(hand, today, weeks)
        if warning and look_for_later
        else None,
        "latest": [score_facts(r, f) for r, f in newest_first[:2]],
    }


def _later_exam_date(hand: PlanInHand, today: date, weeks: int) -> date | None:
    """The first exam date that a plan like this one fits, ``weeks`` weeks after the booked
    exam date or later (and ``weeks`` weeks from today): the warning means the student needs
    that much more time, not a couple of days."""
    areas = list(hand.version.body.get("hours_by_area", {})) or list(domain.KNOWN_AREAS)
    intake = hand.consultation.intake
    weak = [a for a in intake.get("weak_areas", []) if a in areas]
    weekly = hand.row.weekly_hours or intake.get("weekly_hours") or 0
    settings = reset.plan_settings({}, hand.row.reset)
    try:
        return progress.later_exam_date(
            today,
            weekly,
            areas,
            weak,
            settings,
            weeks,
            not_before=hand.row.exam_date + timedelta(weeks=weeks),
        )
    except DomainError:
        return None  # an intake no plan fits: there is no date to suggest


# --- writes --------------------------------------------------------------------------------------


def _usable_form(db: Session, form_id: str, exam: str) -> AssessmentForm:
    form = db.get(AssessmentForm, form_id)
    if form is None or not form.active:
        raise InvalidResult(f"There is no assessment form {form_id!r} to record", field="form_id")
    if form.exam != exam:
        raise InvalidResult(
            f"{form.name} is a {exam_label(form.exam)} form; this plan prepares for "
            f"{exam_label(exam)}",
            field="form_id",
        )
    return form


def earliest_day(hand: PlanInHand) -> date:
    """Results before the plan was made belong to no plan of this one (the student's date)."""
    made = hand.row.created_at.astimezone(domain.zone(hand.student_zone)).date()
    return min(made, hand.row.starts_on or made)


def check_result(hand: PlanInHand, form: AssessmentForm, body: Mapping[str, Any]) -> None:
    """Every rule a result must keep, each naming its field; nothing is stored on failure."""
    score = body["score"]
    if form.scale == "pass_fail" and score not in (0, 1):
        raise InvalidResult("A pass/fail result is 1 (pass) or 0 (fail)", field="score")
    if not form.scale_min <= score <= form.scale_max:
        raise InvalidResult(
            f"{form.name} scores run from {form.scale_min:g} to {form.scale_max:g}", field="score"
        )
    taken_on, today = body["taken_on"], hand.student_today()
    if taken_on > today:
        raise InvalidResult(
            f"{day_text(taken_on, year=True)} is in the future (today is {day_text(today)} "
            "where you are)",
            field="taken_on",
        )
    earliest = earliest_day(hand)
    if taken_on < earliest:
        raise InvalidResult(
            f"This plan started on {day_text(earliest, year=True)}; a result taken before then "
            "belongs to no plan of this one: record results from that day on",
            field="taken_on",
        )
    areas = set(hand.version.body.get("hours_by_area", {}))
    for area, percent in (body.get("area_scores") or {}).items():
        if area not in areas:
            raise InvalidResult(
                f"{area_label(area)} is not an area of this plan", field="area_scores"
            )
        if not 0 <= percent <= 100:
            raise InvalidResult(
                f"The score for {area_label(area)} is a percent correct, 0 to 100",
                field="area_scores",
            )


def _first_notice(db: Session, key: str) -> bool:
    """Claim a once-only notice. The key is the primary key, inserted in the transaction that
    records the event: two requests (or a retry) cannot both send it."""
    try:
        with db.begin_nested():
            db.add(ProgressNotice(key=key, created_at=utcnow()))
            db.flush()
    except IntegrityError:
        return False
    return True


def _warn_if_not_ready(uow: UnitOfWork, hand: PlanInHand, today: date) -> None:
    """``readiness.warning`` once per newest result that makes the two newest fail."""
    pairs = plan_results(uow.session, hand.row.id)
    facts = readiness_facts(hand, pairs, today)
    if not facts["warning"]:
        return
    newest, _form = pairs[-1]
    if not _first_notice(uow.session, f"readiness:{newest.id}"):
        return
    uow.record(
        hand.event(
            ReadinessWarning,
            exam=hand.row.exam,
            exam_date=hand.row.exam_date,
            weeks_left=facts["weeks_left"],
            latest=facts["latest"],
            later_exam_date=facts["later_exam_date"],
        )
    )


def record_result(
    uow: UnitOfWork, principal: Principal, plan_id: str, body: Mapping[str, Any]
) -> dict[str, Any]:
    """The student or their tutor records a result; the events tell email and the site."""
    with uow:
        db = uow.session
        hand = loading.load_plan(db, principal, plan_id, lock=True)
        loading.require_student_or_tutor(principal, hand, "record a result")
        form = _usable_form(db, body["form_id"], hand.row.exam)
        check_result(hand, form, body)
        role = hand.role_of(principal)
        row = AssessmentResult(
            id=str(uuid.uuid4()),
            plan_id=hand.row.id,
            student_id=hand.row.student_id,
            form_id=form.id,
            taken_on=body["taken_on"],
            score=float(body["score"]),
            area_scores={a: float(p) for a, p in (body.get("area_scores") or {}).items()},
            note=body.get("note") or "",
            recorded_by=principal.user_id,
            recorded_role=role,
            created_at=utcnow(),
        )
        db.add(row)
        db.flush()
        uow.record(
            hand.event(
                AssessmentResultRecorded,
                result_id=row.id,
                form_id=form.id,
                form_name=form.name,
                exam=form.exam,
                scale=form.scale,
                taken_on=row.taken_on,
                score=row.score,
                passing_score=form.passing_score,
                below_passing=below_passing(row.score, form),
                official=form.official,
                recorded_role=role,
            )
        )
        _warn_if_not_ready(uow, hand, hand.student_today())
        view = result_view(row, form)
        uow.commit()
        return view


def list_results(uow: UnitOfWork, principal: Principal, plan_id: str) -> list[dict[str, Any]]:
    with uow:
        hand = loading.load_plan(uow.session, principal, plan_id)
        return [result_view(r, f) for r, f in plan_results(uow.session, hand.row.id)]


def delete_result(uow: UnitOfWork, principal: Principal, plan_id: str, result_id: str) -> None:
    """Take a mistyped result back: whoever recorded it, or the plan's tutor."""
    with uow:
        hand = loading.load_plan(uow.session, principal, plan_id, lock=True)
        row = uow.session.get(AssessmentResult, result_id)
        if row is None or row.plan_id != hand.row.id:
            raise ResultNotFound(f"This plan has no result {result_id!r}")
        if principal.user_id not in (row.recorded_by, hand.row.tutor_id):
            raise Forbidden("Only whoever recorded a result, or the tutor, may take it back.")
        uow.session.delete(row)
        uow.commit()


def scale_range(db: Session, exam: str, scale: str) -> tuple[float, float] | None:
    """What the exam's forms on a scale span (None: the exam has no form on it)."""
    forms = db.scalars(
        select(AssessmentForm).where(AssessmentForm.exam == exam, AssessmentForm.scale == scale)
    ).all()
    if not forms:
        return None
    return min(f.scale_min for f in forms), max(f.scale_max for f in forms)


def set_target(
    uow: UnitOfWork, principal: Principal, plan_id: str, scale: str, score: float | None
) -> None:
    """The student's own goal on a scale (``None`` goes back to the forms' default)."""
    with uow:
        hand = loading.load_plan(uow.session, principal, plan_id, lock=True)
        loading.require_student_or_tutor(principal, hand, "set a target")
        if scale == "pass_fail":
            raise InvalidTarget("A pass/fail result has no target score", field="scale")
        span = scale_range(uow.session, hand.row.exam, scale)
        if span is None:
            raise InvalidTarget(
                f"No {exam_label(hand.row.exam)} form is scored {SCALE_WORDS.get(scale, scale)}",
                field="scale",
            )
        targets = dict(hand.row.targets or {})
        if score is None:
            targets.pop(scale, None)
        elif not span[0] <= score <= span[1]:
            raise InvalidTarget(
                f"A target on the {SCALE_WORDS.get(scale, scale)} scale lies between "
                f"{span[0]:g} and {span[1]:g}",
                field="score",
            )
        else:
            targets[scale] = float(score)
        hand.row.targets = targets  # a new dict: the JSON column sees the change
        hand.row.updated_at = utcnow()
        uow.commit()
