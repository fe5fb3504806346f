"""Results on a study plan: recorded by the student or the tutor, checked against the form,
the plan's dates and areas; the events; taking a typo back; targets; the readiness warning."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from services.tutoring.models import AssessmentResult
from services.tutoring.tests.helpers import World
from services.tutoring.tests.progress_helpers import (
    make_plan,
    record,
    shift_back,
    student_today,
)


def _count(world: World) -> int:
    with world.tutoring.runtime.db.session() as s:
        return s.scalar(sa.select(sa.func.count()).select_from(AssessmentResult))


def _refused(r, field: str, words: str = "") -> None:
    assert r.status_code == 422, r.get_json()
    assert r.headers["Content-Type"].startswith("application/problem+json")
    problem = r.get_json()
    assert field in problem["errors"], problem
    assert words in " ".join(problem["errors"][field]), problem


def test_the_student_and_the_tutor_record_results_and_the_events_say_so(world: World):
    tutor, tutor_id = world.available_tutor()
    student = world.student()
    plan = make_plan(world, student, tutor, tutor_id)
    shift_back(world, plan["id"], 10)
    today = student_today()
    earlier = (today - timedelta(days=3)).isoformat()

    r = record(
        world,
        student,
        plan["id"],
        taken_on=earlier,
        score=57.5,
        area_scores={"renal": 48, "pharmacology": 71},
        note="Ran out of time\non block 3.",
    )
    assert r.status_code == 201, r.get_json()
    first = r.get_json()
    assert set(first) >= {
        "id", "plan_id", "form_id", "form_name", "scale", "taken_on", "score", "area_scores",
        "note", "recorded_role", "created_at", "below_passing",
    }  # fmt: skip
    assert first["plan_id"] == plan["id"] and first["form_id"] == "nbme-cbssa-step1"
    assert first["form_name"] == "NBME Comprehensive Basic Science Self-Assessment"
    assert (first["scale"], first["taken_on"], first["score"]) == ("percent", earlier, 57.5)
    assert first["area_scores"] == {"renal": 48, "pharmacology": 71}
    assert first["note"] == "Ran out of time\non block 3."
    assert first["recorded_role"] == "student" and first["below_passing"] is True

    r = record(world, tutor, plan["id"], form_id="uwsa-step1", score=66)
    assert r.status_code == 201, r.get_json()
    second = r.get_json()
    assert second["recorded_role"] == "tutor" and second["below_passing"] is False

    events = world.events("assessment_result.recorded")
    assert [e["result_id"] for e in events] == [first["id"], second["id"]]
    assert events[0] == {
        "plan_id": plan["id"],
        "student_id": plan["student_id"],
        "student_email": "ada@example.com",
        "student_name": events[0]["student_name"],
        "student_timezone": "Asia/Kolkata",
        "tutor_id": tutor_id,
        "tutor_email": "tess@example.com",
        "tutor_name": "Tess Tutor",
        "result_id": first["id"],
        "form_id": "nbme-cbssa-step1",
        "form_name": first["form_name"],
        "exam": "step1",
        "scale": "percent",
        "taken_on": earlier,
        "score": 57.5,
        "passing_score": 60.0,
        "below_passing": True,
        "official": False,
        "recorded_role": "student",
    }
    listed = world.client.get(f"/api/plans/{plan['id']}/results", headers=tutor).get_json()
    assert [x["id"] for x in listed] == [first["id"], second["id"]]  # oldest first
    assert (
        world.client.get(f"/api/plans/{plan['id']}/results", headers=world.admin()).status_code
        == 200
    )


def test_a_result_that_does_not_fit_is_refused_naming_the_field_and_nothing_is_stored(
    world: World,
):
    tutor, tutor_id = world.available_tutor()
    student = world.student()
    plan = make_plan(world, student, tutor, tutor_id)
    admin = world.admin()
    r = world.client.put(
        "/api/admin/assessment-forms/free-120-step1", json={"active": False}, headers=admin
    )
    assert r.status_code == 200
    today = student_today()
    cases = [
        ({"form_id": "no-such-form"}, "form_id", "no-such-form"),
        ({"form_id": "free-120-step1"}, "form_id", ""),  # retired
        ({"form_id": "uwsa-step2ck", "score": 230}, "form_id", "a USMLE Step 2 CK form"),
        ({"score": 100.5}, "score", "0 to 100"),
        ({"form_id": "usmle-step1-official", "score": 0.5}, "score", "pass"),
        ({"score": -3}, "score", "The score is a number from 0 to 1000."),
        ({"taken_on": (today + timedelta(days=1)).isoformat()}, "taken_on", "future (today is"),
        ({"taken_on": (today - timedelta(days=2)).isoformat()}, "taken_on", "started"),
        ({"area_scores": {"dermatology": 50}}, "area_scores", "Dermatology"),
        ({"area_scores": {"renal": 101}}, "area_scores", "The score for Renal"),
        ({"area_scores": {"renal": -1}}, "area_scores", "Renal"),
        ({"note": "x" * 2001}, "note", "A note is at most 2000 characters"),
        ({"score": "high"}, "score", ""),
    ]
    before = world.events("assessment_result.recorded")
    for body, field, words in cases:
        _refused(record(world, student, plan["id"], **body), field, words)
    assert _count(world) == 0
    assert world.events("assessment_result.recorded") == before


def test_only_the_plans_student_or_tutor_records_and_outsiders_see_nothing(world: World):
    tutor, tutor_id = world.available_tutor()
    student = world.student()
    plan = make_plan(world, student, tutor, tutor_id)
    stranger = world.student("eve@example.com")
    other_tutor = world.tutor(email="otto@example.com", name="Otto Tutor")
    for headers in (stranger, other_tutor):
        assert record(world, headers, plan["id"]).status_code == 403
        r = world.client.get(f"/api/plans/{plan['id']}/results", headers=headers)
        assert r.status_code == 403
        assert (
            world.client.get(f"/api/plans/{plan['id']}/progress", headers=headers).status_code
            == 403
        )
    assert record(world, world.admin(), plan["id"]).status_code == 403
    assert record(world, student, "no-such-plan").status_code == 404
    assert _count(world) == 0


def test_a_typo_is_taken_back_by_whoever_recorded_it_or_the_tutor(world: World):
    tutor, tutor_id = world.available_tutor()
    student = world.student()
    plan = make_plan(world, student, tutor, tutor_id)
    path = f"/api/plans/{plan['id']}/results"
    mine = record(world, student, plan["id"]).get_json()
    theirs = record(world, tutor, plan["id"], score=61).get_json()

    assert world.client.delete(f"{path}/{theirs['id']}", headers=student).status_code == 403
    assert world.client.delete(f"{path}/{mine['id']}", headers=student).status_code == 204
    assert world.client.delete(f"{path}/{mine['id']}", headers=student).status_code == 404
    again = record(world, student, plan["id"]).get_json()
    assert world.client.delete(f"{path}/{again['id']}", headers=tutor).status_code == 204
    assert world.client.delete(f"{path}/{theirs['id']}", headers=tutor).status_code == 204
    assert world.client.get(path, headers=student).get_json() == []


def test_targets_per_scale_show_on_the_progress(world: World):
    tutor, tutor_id = world.available_tutor()
    student = world.student()
    plan = make_plan(world, student, tutor, tutor_id)
    path = f"/api/plans/{plan['id']}/targets"

    r = world.client.put(path, json={"scale": "percent", "score": 75}, headers=student)
    assert r.status_code == 200, r.get_json()
    [chart] = r.get_json()["series"]
    assert (chart["scale"], chart["target"], chart["points"]) == ("percent", 75, [])
    assert world.client.get(f"/api/plans/{plan['id']}", headers=tutor).get_json()["targets"] == {
        "percent": 75
    }
    _refused(world.client.put(path, json={"scale": "pass_fail", "score": 1}, headers=student),
             "scale")  # fmt: skip
    _refused(world.client.put(path, json={"scale": "percent", "score": 101}, headers=tutor),
             "score")  # fmt: skip
    assert (
        world.client.put(
            path, json={"scale": "percent", "score": 80}, headers=world.admin()
        ).status_code
        == 403
    )

    assert record(world, student, plan["id"], score=58).status_code == 201
    r = world.client.put(path, json={"scale": "percent", "score": None}, headers=tutor)
    assert r.status_code == 200, r.get_json()
    [chart] = r.get_json()["series"]
    assert chart["target"] == 70  # the form's default again
    assert chart["passing_score"] == 60 and len(chart["points"]) == 1


def test_two_results_below_passing_close_to_the_exam_warn_once_per_result(world: World):
    tutor, tutor_id = world.available_tutor()
    student = world.student()
    plan = make_plan(world, student, tutor, tutor_id, exam_in_days=60)
    shift_back(world, plan["id"], 30)  # the exam is now about 30 days away
    today = student_today()

    def on(days_ago: int, score: float, form: str = "nbme-cbssa-step1"):
        r = record(
            world,
            student,
            plan["id"],
            form_id=form,
            score=score,
            taken_on=(today - timedelta(days=days_ago)).isoformat(),
        )
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    on(20, 52)
    assert world.events("readiness.warning") == []
    second = on(10, 55, "uwsa-step1")
    [warning] = world.events("readiness.warning")
    assert warning["plan_id"] == plan["id"] and warning["tutor_email"] == "tess@example.com"
    assert warning["exam"] == "step1" and warning["weeks_left"] in (3, 4)
    assert [x["score"] for x in warning["latest"]] == [55, 52]
    assert warning["latest"][0]["form_name"] == second["form_name"]
    # A later date gives real time: READINESS_WEEKS (6) weeks after the booked exam or later.
    assert warning["later_exam_date"] is None or date.fromisoformat(
        str(warning["later_exam_date"])
    ) >= date.fromisoformat(str(warning["exam_date"])) + timedelta(weeks=6)

    # An older result slipped in behind the newest does not repeat the newest's warning.
    on(15, 50)
    assert len(world.events("readiness.warning")) == 1
    # A newer result above passing clears it; the next two below warn again, once.
    on(5, 65)
    on(2, 51)
    assert len(world.events("readiness.warning")) == 1
    on(0, 53)
    assert len(world.events("readiness.warning")) == 2
    progress = world.client.get(f"/api/plans/{plan['id']}/progress", headers=tutor).get_json()
    assert progress["readiness"]["warning"] is True
    assert [x["score"] for x in progress["readiness"]["latest"]] == [53, 51]
