"""The reset after a failed attempt: a plan that opens with protected rest and keeps more free
days; and what the plan and consultation views show of it (the reflection the student writes
before the consultation is saved by ``use_cases.reflection``).

The school's advice to a student who failed (docs/architecture.md, the product's backbone) is rest, find what went wrong, get
help, then a realistic plan with room for the unexpected. Who gets it is decided from facts
already known: the intake's earlier attempts, or an official result below passing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, object_session

from services.tutoring import study_plan
from services.tutoring.models import (
    AssessmentForm,
    AssessmentResult,
    Consultation,
    Reflection,
    StudyPlanRow,
    StudyPlanVersion,
)
from shared import config

REFLECTION_QUESTIONS = ("schedule", "resources", "exam_anxiety", "timing", "other")
"""What went wrong last time: the schedule, the resources, exam anxiety, timing, anything else."""


def rest_days() -> int:
    """``RESET_REST_DAYS``, kept to the 3-7 days the advice means by "rest first"."""
    return min(7, max(3, config.env_int("RESET_REST_DAYS", 5)))


def free_day_every() -> int:
    return max(2, config.env_int("RESET_FREE_DAY_EVERY", 5))


def plan_settings(chosen: Mapping[str, Any], is_reset: bool) -> study_plan.PlanSettings:
    """The plan's rhythm: a reset plan has a free day every ``RESET_FREE_DAY_EVERY`` days,
    unless the tutor chose the spacing themself (their call stands)."""
    if is_reset:
        return study_plan.PlanSettings(**{"free_day_every": free_day_every(), **chosen})
    return study_plan.PlanSettings(**chosen)


def failed_officially(db: Session, student_id: str) -> bool:
    """Whether the student has recorded an official attempt below its passing mark."""
    return bool(
        db.scalar(
            select(
                exists().where(
                    AssessmentResult.student_id == student_id,
                    AssessmentResult.form_id == AssessmentForm.id,
                    AssessmentForm.official.is_(True),
                    AssessmentForm.passing_score.is_not(None),
                    AssessmentResult.score < AssessmentForm.passing_score,
                )
            )
        )
    )


def attempted_before(consultation: Consultation) -> bool:
    return int((consultation.intake or {}).get("attempts") or 0) >= 1


def is_reset(db: Session, consultation: Consultation) -> bool:
    """A reset plan: the student sat the exam before (intake) or failed it officially."""
    return attempted_before(consultation) or failed_officially(db, consultation.student_id)


def reset_advice(
    pairs: Sequence[tuple[AssessmentResult, AssessmentForm]],
) -> dict[str, Any] | None:
    """What a failed official attempt recorded on this plan asks of the student, or ``None``.

    The plan was made for an exam that has now gone wrong, so it leads nowhere: the school's
    advice is rest, then a new consultation with the tutor, whose plan is a reset plan
    (``is_reset`` sees the failed result). ``None`` once a later official attempt passed.
    ``pairs`` are the plan's results with their forms, oldest first.
    """
    official = [(r, f) for r, f in pairs if f.official and f.passing_score is not None]
    if not official:
        return None
    row, form = official[-1]
    if not row.score < form.passing_score:
        return None
    return {
        "reason": "failed_official",
        "since": row.taken_on,
        "result_id": row.id,
        "form_name": form.name,
        "rest_days": rest_days(),
        "message": (
            f"Rest first ({rest_days()} days), then book a new consultation with your tutor: "
            "its plan will be a reset plan, opening with rest and keeping more free days."
        ),
    }


# --- what the plan and consultation views add ------------------------------------------------------


def plan_extras(row: StudyPlanRow, version: StudyPlanVersion) -> dict[str, Any]:
    """``reset``, ``starts_on``, ``weekly_hours``, ``targets`` for the plan view. Plans made
    before these were stored fall back to the first planned day and the intake's hours."""
    days = version.body.get("days") or []
    weekly = row.weekly_hours
    db = object_session(row)
    if weekly is None and db is not None:
        consultation = db.get(Consultation, row.consultation_id)
        weekly = (consultation.intake or {}).get("weekly_hours") if consultation else None
    return {
        "reset": bool(row.reset),
        "starts_on": row.starts_on or (days[0]["day"] if days else None),
        "weekly_hours": weekly,
        "targets": dict(row.targets or {}),
    }


def reflection_view(row: Reflection | None) -> dict[str, Any] | None:
    if row is None:
        return None
    answers = row.answers or {}
    return {
        **{q: answers.get(q, "") for q in REFLECTION_QUESTIONS},
        "updated_at": row.updated_at,
    }


def consultation_extras(row: Consultation) -> dict[str, Any]:
    """``reflection`` and ``reflection_asked`` for the consultation view."""
    db = object_session(row)
    reflection = db.get(Reflection, row.id) if db is not None else None
    return {"reflection": reflection_view(reflection), "reflection_asked": attempted_before(row)}
