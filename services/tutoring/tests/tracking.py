"""Steps the plan tracking tests share: a plan made through the API, moved into the past so it
has days to check, results recorded, and the worker's jobs run as a fresh worker would."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from services.tutoring import study_plan, worker
from services.tutoring.app import make_runtime
from services.tutoring.models import StudyPlanRow, StudyPlanVersion
from services.tutoring.tests.helpers import World, intake
from shared.db import utcnow

STUDENT_ZONE = ZoneInfo("Asia/Kolkata")  # where World.book puts the student
TUTOR_ZONE = ZoneInfo("America/New_York")
AREAS = ["renal", "cardiovascular", "pharmacology"]


def student_today() -> date:
    return datetime.now(STUDENT_ZONE).date()


@dataclass
class PlanAt:
    """A plan with the people around it."""

    world: World
    plan: dict[str, Any]
    student: dict[str, str]
    tutor: dict[str, str]
    tutor_id: str

    @property
    def id(self) -> str:
        return self.plan["id"]

    def days(self) -> list[dict[str, Any]]:
        r = self.world.client.get(f"/api/plans/{self.id}", headers=self.student)
        assert r.status_code == 200, r.get_json()
        return r.get_json()["days"]

    def day_of(self, kind: str, before: date | None = None) -> str:
        """The latest day of that kind before ``before`` (default: today, student's zone)."""
        limit = (before or student_today()).isoformat()
        return [d for d in self.days() if d["kind"] == kind and d["day"] < limit][-1]["day"]

    def check(self, day: str, status: str, headers: dict[str, str] | None = None):
        return self.world.client.put(
            f"/api/plans/{self.id}/days/{day}/check",
            json={"status": status},
            headers=headers or self.student,
        )


def make_plan(
    world: World,
    *,
    days_ago: int = 20,
    student_email: str = "ada@example.com",
    tutor=None,
    attempts: int = 0,
) -> PlanAt:
    """A plan made by its tutor from a completed consultation, then moved ``days_ago`` days
    into the past (its first day ``days_ago - 1`` days before today). A first attempt by
    default: ``attempts=1`` makes a reset plan (rest days first, more free days)."""
    tutor, tutor_id = tutor or world.available_tutor()
    student = world.student(student_email)
    r = world.book(
        student, tutor_id, world.slot(tutor_id)["starts_at"], intake=intake(attempts=attempts)
    )
    assert r.status_code == 201, r.get_json()
    consultation = r.get_json()
    world.start(consultation["id"])
    r = world.client.post(
        f"/api/consultations/{consultation['id']}/complete", json={}, headers=tutor
    )
    assert r.status_code == 200, r.get_json()
    r = world.client.post(
        f"/api/consultations/{consultation['id']}/plan", json={"areas": AREAS}, headers=tutor
    )
    assert r.status_code == 201, r.get_json()
    plan = r.get_json()
    if days_ago:
        backdate(world, plan["id"], days_ago)
    return PlanAt(world, plan, student, tutor, tutor_id)


def _shifted(body: dict[str, Any], by: timedelta) -> dict[str, Any]:
    plan = study_plan.from_dict(body)
    days = tuple(
        study_plan.PlanDay(d.day - by, d.kind, d.blocks)  # type: ignore[arg-type]
        for d in plan.days
    )
    moved = study_plan.StudyPlan(
        plan.exam_date - by, days, plan.hours_by_area, plan.total_hours, plan.warnings
    )
    return study_plan.to_dict(moved)


def backdate(world: World, plan_id: str, days: int) -> None:
    """Move every version of the plan ``days`` days earlier, as if made that long ago."""
    by = timedelta(days=days)
    with world.tutoring.runtime.db.session() as s, s.begin():
        row = s.get(StudyPlanRow, plan_id)
        row.exam_date -= by
        if row.starts_on is not None:
            row.starts_on -= by
        row.created_at -= by
        for version in s.scalars(
            sa.select(StudyPlanVersion).where(StudyPlanVersion.plan_id == plan_id)
        ):
            version.body = _shifted(version.body, by)


def add_result(
    world: World,
    plan: PlanAt,
    *,
    taken_on: date,
    score: float = 55,
    area_scores: dict[str, float] | None = None,
    form_id: str = "nbme-cbssa-step1",
) -> str:
    """A result the student records through the results API; its id."""
    body: dict[str, Any] = {"form_id": form_id, "taken_on": taken_on.isoformat(), "score": score}
    if area_scores:
        body["area_scores"] = area_scores
    r = world.client.post(f"/api/plans/{plan.id}/results", json=body, headers=plan.student)
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


def run_job(world: World, name: str, now: datetime) -> int:
    """One of the worker's jobs, as a freshly started worker process runs it, at ``now``."""
    url = world.tutoring.runtime.db.engine.url.render_as_string(hide_password=False)
    runtime = make_runtime(database_url=url, broker=world.tutoring.runtime.broker)
    try:
        [job] = [j for j in worker.jobs if j.name == name]
        return job.run(runtime, now)
    finally:
        runtime.db.dispose()


def last_digest_moment(now: datetime | None = None) -> datetime:
    """The latest Monday 12:00 in New York that is not in the future: a digest moment for a
    tutor there and for a student in Kolkata (Monday 22:30) alike."""
    now = now or utcnow()
    local = now.astimezone(TUTOR_ZONE)
    monday = local.date() - timedelta(days=local.weekday())
    moment = datetime.combine(monday, time(12), TUTOR_ZONE)
    if moment > now:
        moment -= timedelta(days=7)
    return moment
