"""Steps the progress tests share: a plan made through the API, and the clock moved back.

A result may not be dated before its plan was made, and checkpoints are in the plan's future;
to test a plan in the middle of its life, ``shift_back`` moves the whole plan (its days, exam
date and creation) into the past directly in the database, as if it had been made then.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from services.tutoring.models import PlanDayCheck, PlanProposal, StudyPlanRow, StudyPlanVersion
from services.tutoring.tests.helpers import World, intake
from shared.db import utcnow

STUDENT_ZONE = ZoneInfo("Asia/Kolkata")
"""The zone ``World.book`` gives every student."""
AREAS = ["renal", "cardiovascular", "pharmacology"]


def student_today() -> date:
    return datetime.now(STUDENT_ZONE).date()


def make_plan(
    world: World,
    student: dict[str, str],
    tutor: dict[str, str],
    tutor_id: str,
    *,
    attempts: int = 0,
    exam_in_days: int = 120,
    areas: list[str] | None = None,
    **settings: Any,
) -> dict[str, Any]:
    """A completed consultation with this intake, and version 1 of its plan (as the tutor)."""
    exam_date = (utcnow().date() + timedelta(days=exam_in_days)).isoformat()
    r = world.book(
        student,
        tutor_id,
        world.slot(tutor_id)["starts_at"],
        intake=intake(attempts=attempts, exam_date=exam_date),
    )
    assert r.status_code == 201, r.get_json()
    consultation = r.get_json()
    world.start(consultation["id"])
    done = world.client.post(
        f"/api/consultations/{consultation['id']}/complete", json={}, headers=tutor
    )
    assert done.status_code == 200, done.get_json()
    r = world.client.post(
        f"/api/consultations/{consultation['id']}/plan",
        json={"areas": areas or AREAS, **settings},
        headers=tutor,
    )
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def shift_back(world: World, plan_id: str, days: int) -> None:
    """Make the plan as if it had been made ``days`` days earlier (days, exam and all)."""
    delta = timedelta(days=days)

    def moved(day: str) -> str:
        return (date.fromisoformat(day) - delta).isoformat()

    with world.tutoring.runtime.db.session() as s, s.begin():
        row = s.get(StudyPlanRow, plan_id)
        row.created_at -= delta
        row.exam_date -= delta
        if row.starts_on is not None:
            row.starts_on -= delta
        for version in s.scalars(
            sa.select(StudyPlanVersion).where(StudyPlanVersion.plan_id == plan_id)
        ):
            body = dict(version.body)
            body["exam_date"] = moved(body["exam_date"])
            body["days"] = [{**d, "day": moved(d["day"])} for d in body["days"]]
            version.body = body


def check_day(world: World, plan_id: str, day: date, status: str, hours: float) -> None:
    """A day check as the tracking API stores it (that API is another helper's)."""
    with world.tutoring.runtime.db.session() as s, s.begin():
        s.add(
            PlanDayCheck(
                plan_id=plan_id,
                day=day,
                status=status,
                planned_hours=hours,
                checked_by="test",
                checked_at=utcnow(),
            )
        )


def open_proposal(world: World, plan_id: str, kind: str = "rebalance") -> None:
    with world.tutoring.runtime.db.session() as s, s.begin():
        s.add(
            PlanProposal(
                id=f"p-{plan_id[:8]}-{kind}",
                plan_id=plan_id,
                kind=kind,
                base_version=1,
                status="proposed",
                fits=True,
                body=None,
                summary={},
                proposed_by="test",
                proposed_role="student",
                created_at=utcnow(),
            )
        )


def record(
    world: World, headers: dict[str, str], plan_id: str, **body: Any
) -> Any:  # the Flask test response
    payload = {"form_id": "nbme-cbssa-step1", "taken_on": student_today().isoformat(), "score": 55}
    return world.client.post(
        f"/api/plans/{plan_id}/results", json={**payload, **body}, headers=headers
    )
