"""A student's study plan: generated from the consultation's intake, then edited by the tutor.

Every change publishes a new version (``study_plan.published``); the rules of a good plan
are ``study_plan``'s, a day-by-day edit is ``plan_edits``'.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import select

from services.tutoring import domain, loading, plan_edits, study_plan
from services.tutoring.events import StudyPlanPublished
from services.tutoring.models import Consultation, StudyPlanRow, StudyPlanVersion, Tutor
from services.tutoring.queries import plan_view
from services.tutoring.use_cases import reset
from shared.auth import Principal
from shared.db import UnitOfWork, utcnow
from shared.errors import Forbidden


def create_plan(
    uow: UnitOfWork,
    principal: Principal,
    consultation_id: str,
    areas: Sequence[str] | None,
    settings: Mapping[str, Any],
) -> dict[str, Any]:
    """Version 1 of the student's plan, generated from the consultation's intake; after a
    failed attempt a reset plan (``use_cases.reset``)."""
    with uow:
        db = uow.session
        row, tutor = loading.consultation(db, principal, consultation_id, lock=True)
        loading.as_its_tutor(principal, row)
        loading.require_completed(row, "study plan")
        exists = db.scalar(select(StudyPlanRow.id).where(StudyPlanRow.consultation_id == row.id))
        if exists:
            raise domain.PlanAlreadyExists(
                "Edit the existing plan instead of making another", field="consultation_id"
            )
        intake = row.intake
        exam_date = date.fromisoformat(intake["exam_date"])
        today = utcnow().astimezone(domain.zone(row.student_time_zone)).date()
        is_reset = reset.is_reset(db, row)
        plan = study_plan.generate_plan(
            today,
            exam_date,
            intake["weekly_hours"],
            list(areas) if areas else list(domain.KNOWN_AREAS),
            intake["weak_areas"],
            reset.plan_settings(settings, is_reset),
            rest_days=reset.rest_days() if is_reset else 0,
        )
        now = utcnow()
        plan_row = StudyPlanRow(
            id=loading.new_id(),
            consultation_id=row.id,
            student_id=row.student_id,
            tutor_id=tutor.id,
            exam=intake["exam"],
            exam_date=exam_date,
            latest_version=1,
            weekly_hours=intake["weekly_hours"],
            starts_on=plan.days[0].day,
            reset=is_reset,
            targets={},
            created_at=now,
            updated_at=now,
        )
        db.add(plan_row)
        db.flush()
        version = publish_version(uow, plan_row, 1, plan)
        view = plan_view(plan_row, version)
        uow.commit()
        return view


def edit_plan(
    uow: UnitOfWork, principal: Principal, plan_id: str, changes: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """The tutor changes some days; the result is checked again and published as a new version."""
    by_day = _day_changes(changes)
    with uow:
        hand = loading.load_plan(uow.session, principal, plan_id, lock=True)
        if principal.user_id != hand.row.tutor_id:
            raise Forbidden("Only the student's tutor may change the plan.")
        plan = plan_edits.edit_plan(hand.plan, by_day)
        version = publish_version(uow, hand.row, hand.row.latest_version + 1, plan)
        view = plan_view(hand.row, version)
        uow.commit()
        return view


def _day_changes(changes: Sequence[Mapping[str, Any]]) -> dict[date, plan_edits.DayChange]:
    """The requested changes by day (a day changed twice is refused)."""
    by_day: dict[date, plan_edits.DayChange] = {}
    for change in changes:
        if change["day"] in by_day:
            raise study_plan.InvalidStudyPlan(
                f"{change['day'].isoformat()} is changed twice", field="changes"
            )
        blocks = change.get("blocks")
        by_day[change["day"]] = plan_edits.DayChange(
            kind=change.get("kind"),
            blocks=None
            if blocks is None
            else tuple(study_plan.StudyBlock(b["area"], float(b["hours"])) for b in blocks),
        )
    return by_day


def publish_version(
    uow: UnitOfWork, plan_row: StudyPlanRow, version: int, plan: study_plan.StudyPlan
) -> StudyPlanVersion:
    """Store ``plan`` as the plan's next version and tell the student (``study_plan.published``)."""
    db = uow.session
    consultation = db.get(Consultation, plan_row.consultation_id)
    tutor = db.get(Tutor, plan_row.tutor_id)
    row = StudyPlanVersion(
        plan_id=plan_row.id, version=version, body=study_plan.to_dict(plan), created_at=utcnow()
    )
    db.add(row)
    plan_row.latest_version = version
    plan_row.updated_at = row.created_at
    db.flush()
    uow.record(
        StudyPlanPublished(
            plan_id=plan_row.id,
            version=version,
            student_id=plan_row.student_id,
            student_email=consultation.student_email,
            student_name=consultation.student_name,
            tutor_name=tutor.name,
            exam=plan_row.exam,
            exam_date=plan_row.exam_date,
        )
    )
    return row
