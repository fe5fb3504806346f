"""The progress page's data and the tutor's dashboard, on a plan in the middle of its life."""

from __future__ import annotations

from datetime import date, timedelta

from services.tutoring.tests.helpers import World
from services.tutoring.tests.progress_helpers import (
    check_day,
    make_plan,
    open_proposal,
    record,
    shift_back,
    student_today,
)


def _days(world: World, headers: dict, plan_id: str) -> list[dict]:
    return world.client.get(f"/api/plans/{plan_id}", headers=headers).get_json()["days"]


def _hours(day: dict) -> float:
    return sum(b["hours"] for b in day["blocks"])


def test_progress_charts_results_per_scale_with_areas_checkpoints_and_adherence(world: World):
    tutor, tutor_id = world.available_tutor()
    student = world.student()
    plan = make_plan(world, student, tutor, tutor_id)
    shift_back(world, plan["id"], 40)
    today = student_today()
    days = _days(world, student, plan["id"])
    checkpoints = [
        date.fromisoformat(d["day"])
        for d in days
        if d["kind"] == "checkpoint" and date.fromisoformat(d["day"]) < today
    ]
    assert len(checkpoints) >= 2, days

    first, second = checkpoints[0], checkpoints[0] + timedelta(days=10)
    r = record(world, student, plan["id"], taken_on=(first + timedelta(days=2)).isoformat(),
               score=52, area_scores={"renal": 40, "cardiovascular": 60})  # fmt: skip
    assert r.status_code == 201, r.get_json()
    r = record(world, tutor, plan["id"], taken_on=second.isoformat(), form_id="uwsa-step1",
               score=61, area_scores={"renal": 55, "pharmacology": 70})  # fmt: skip
    assert r.status_code == 201, r.get_json()
    r = record(world, student, plan["id"], form_id="usmle-step1-official", score=1)
    assert r.status_code == 201, r.get_json()

    window = [
        d
        for d in days
        if today - timedelta(days=7) <= date.fromisoformat(d["day"]) < today
        and d["kind"] in ("study", "review", "checkpoint")
    ]
    assert len(window) >= 4, window
    done, partial, missed = window[0], window[1], window[2]
    check_day(world, plan["id"], date.fromisoformat(done["day"]), "done", _hours(done))
    check_day(world, plan["id"], date.fromisoformat(partial["day"]), "partial", _hours(partial))
    check_day(world, plan["id"], date.fromisoformat(missed["day"]), "missed", _hours(missed))

    r = world.client.get(f"/api/plans/{plan['id']}/progress", headers=student)
    assert r.status_code == 200, r.get_json()
    progress = r.get_json()
    assert progress["plan_id"] == plan["id"] and progress["tutor_name"] == "Tess Tutor"
    assert (progress["exam"], progress["version"], progress["today"]) == (
        "step1",
        1,
        today.isoformat(),
    )
    [chart] = progress["series"]  # pass/fail is listed, not charted
    assert (chart["scale"], chart["low"], chart["high"]) == ("percent", 0, 100)
    assert (chart["passing_score"], chart["target"]) == (60, 70)
    assert [(p["score"], p["form_name"]) for p in chart["points"]] == [
        (52, "NBME Comprehensive Basic Science Self-Assessment"),
        (61, "UWorld Self-Assessment (Step 1)"),
    ]
    estimate = chart["estimate"]
    assert estimate["on"] == progress["exam_date"] and estimate["points"] == 2
    assert 0 <= estimate["score"] <= 100 and estimate["per_week"] > 0 and estimate["method"]
    assert progress["estimate_method"]
    assert [r["form_id"] for r in progress["results"]] == [
        "nbme-cbssa-step1",
        "uwsa-step1",
        "usmle-step1-official",
    ]
    assert progress["areas"] == [
        {"area": "cardiovascular", "first": 60, "latest": 60,
         "first_on": chart["points"][0]["taken_on"], "latest_on": chart["points"][0]["taken_on"]},
        {"area": "pharmacology", "first": 70, "latest": 70,
         "first_on": second.isoformat(), "latest_on": second.isoformat()},
        {"area": "renal", "first": 40, "latest": 55,
         "first_on": chart["points"][0]["taken_on"], "latest_on": second.isoformat()},
    ]  # fmt: skip
    taken = [first + timedelta(days=2), second, today]
    assert progress["missing_checkpoints"] == [
        d.isoformat() for d in checkpoints if all(abs((t - d).days) > 3 for t in taken)
    ]
    assert first.isoformat() not in progress["missing_checkpoints"]
    assert progress["readiness"]["warning"] is False
    assert progress["readiness"]["latest"][0]["form_name"] == "USMLE Step 1 (official attempt)"

    adherence = progress["adherence"]
    assert adherence["since"] == (today - timedelta(days=7)).isoformat()
    assert adherence["planned_hours"] == sum(_hours(d) for d in window)
    assert adherence["done_hours"] == _hours(done) + _hours(partial) / 2
    assert adherence["partial_hours"] == _hours(partial)
    assert adherence["missed_hours"] == _hours(missed) + _hours(partial) / 2
    assert adherence["unchecked_days"] == len(window) - 3
    assert adherence["partial_days"] == 1
    assert adherence["unchecked_hours"] == sum(_hours(d) for d in window[3:])
    assert adherence["planned_hours"] == (
        adherence["done_hours"] + adherence["missed_hours"] + adherence["unchecked_hours"]
    )

    admin_view = world.client.get(f"/api/plans/{plan['id']}/progress", headers=world.admin())
    assert admin_view.status_code == 200
    assert world.client.get("/api/plans/no-such-plan/progress", headers=student).status_code == 404


def test_progress_of_a_new_plan_is_empty_but_whole(world: World):
    tutor, tutor_id = world.available_tutor()
    student = world.student()
    plan = make_plan(world, student, tutor, tutor_id)
    progress = world.client.get(f"/api/plans/{plan['id']}/progress", headers=tutor).get_json()
    assert progress["series"] == [] and progress["results"] == [] and progress["areas"] == []
    assert progress["missing_checkpoints"] == []
    assert progress["readiness"] == {
        "warning": False,
        "weeks_left": progress["readiness"]["weeks_left"],
        "later_exam_date": None,
        "latest": [],
    }
    assert progress["adherence"]["planned_hours"] == 0
    assert progress["adherence"]["unchecked_days"] == 0


def test_the_tutor_dashboard_lists_their_students_plans_with_what_needs_them(world: World):
    tutor, tutor_id = world.available_tutor()
    ada, bea = world.student(), world.student("bea@example.com")
    old = make_plan(world, ada, tutor, tutor_id)
    new = make_plan(world, bea, tutor, tutor_id)
    shift_back(world, old["id"], 40)
    today = student_today()
    missed_day = next(
        d
        for d in _days(world, ada, old["id"])
        if today - timedelta(days=7) <= date.fromisoformat(d["day"]) < today
        and d["kind"] == "study"
    )
    check_day(world, old["id"], date.fromisoformat(missed_day["day"]), "missed", 4.5)
    open_proposal(world, old["id"])
    open_proposal(world, old["id"], "recovery")
    result = record(world, ada, old["id"], score=63).get_json()

    r = world.client.get("/api/plans/tutoring", headers=tutor)
    assert r.status_code == 200, r.get_json()
    rows = r.get_json()
    assert [row["plan_id"] for row in rows] == [new["id"], old["id"]]
    fresh, busy = rows
    assert fresh == {
        "plan_id": new["id"],
        "student_id": new["student_id"],
        "student_name": fresh["student_name"],
        "exam": "step1",
        "exam_date": new["exam_date"],
        "version": 1,
        "missing_checkpoints": [],
        "readiness_warning": False,
        "open_proposals": 0,
        "latest_result": None,
        "missed_hours_7d": 0,
        "reset_advised": None,
        "needs_attention": False,
    }
    assert busy["open_proposals"] == 2 and busy["missed_hours_7d"] == 4.5
    assert busy["needs_attention"] is True
    assert busy["latest_result"]["id"] == result["id"]
    assert busy["missing_checkpoints"]  # none of the past checkpoints has a result

    other = world.tutor(email="otto@example.com", name="Otto Tutor")
    assert world.client.get("/api/plans/tutoring", headers=other).get_json() == []
    assert world.client.get("/api/plans/tutoring", headers=ada).status_code == 403
