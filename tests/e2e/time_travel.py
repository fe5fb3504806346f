"""Moving a study plan back in time, so a browser test can live through weeks of it; and
letting a meeting begin (``start_meeting``), since a tutor holds one only once it has started.

The plan loop is about weeks (checkpoints every two weeks, a weekly digest, missed days in the
last seven). A test cannot wait for them, and the services have no fake clock (a setting that
moves "now" in production code would be a trap), so the test moves the *plan* instead: every
stored date of one plan, in the tutoring service's own database, moves back by the same number
of days, as if it had been made that long ago. Nothing else changes.
"""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from services.tutoring.models import (
    AssessmentResult,
    PlanDayCheck,
    StudyPlanRow,
    StudyPlanVersion,
)
from services.tutoring.tests.helpers import start_meeting

__all__ = ["age_plan", "start_meeting"]


def _shift_body(body: dict, days: int) -> dict:
    def back(iso: str) -> str:
        return (date.fromisoformat(iso) - timedelta(days=days)).isoformat()

    return {
        **body,
        "exam_date": back(body["exam_date"]),
        "days": [{**entry, "day": back(entry["day"])} for entry in body["days"]],
    }


def age_plan(tutoring, plan_id: str, days: int) -> None:
    """Move plan ``plan_id`` (and its results and checks) ``days`` days into the past."""
    delta = timedelta(days=days)
    with tutoring.runtime.db.session() as session:
        row = session.get(StudyPlanRow, plan_id)
        row.exam_date -= delta
        row.created_at -= delta
        if row.starts_on is not None:
            row.starts_on -= delta
        for version in session.scalars(
            sa.select(StudyPlanVersion).where(StudyPlanVersion.plan_id == plan_id)
        ):
            version.body = _shift_body(version.body, days)
            version.created_at -= delta
        for result in session.scalars(
            sa.select(AssessmentResult).where(AssessmentResult.plan_id == plan_id)
        ):
            result.taken_on -= delta
        checks = session.scalars(sa.select(PlanDayCheck).where(PlanDayCheck.plan_id == plan_id))
        for check in sorted(checks, key=lambda c: c.day):  # earliest first: no key collides
            check.day -= delta
        session.commit()
