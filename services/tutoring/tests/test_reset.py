"""The reset after a failed attempt: a plan that opens with protected rest and more free days,
and the reflection the student writes before the consultation."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlsplit

from services.tutoring.tests.helpers import World, intake
from services.tutoring.tests.progress_helpers import make_plan, record

REST_DAYS = 5  # RESET_REST_DAYS' default
FREE_EVERY = 5  # RESET_FREE_DAY_EVERY's default


def _kinds(plan: dict) -> list[str]:
    return [d["kind"] for d in plan["days"]]


def test_a_student_who_sat_the_exam_before_gets_a_reset_plan(world: World):
    tutor, tutor_id = world.available_tutor()
    student = world.student()
    plan = make_plan(world, student, tutor, tutor_id, attempts=1)

    kinds = _kinds(plan)
    assert kinds[:REST_DAYS] == ["rest"] * REST_DAYS
    assert all(not d["blocks"] for d in plan["days"][:REST_DAYS])
    assert "rest" not in kinds[REST_DAYS:]
    assert plan["reset"] is True
    assert plan["starts_on"] == plan["days"][0]["day"]
    assert plan["weekly_hours"] == 30 and plan["targets"] == {}
    # More free days than the usual plan (one day in 7) before the review stretch.
    working = kinds[REST_DAYS : kinds.index("review")]
    assert working.count("free") >= len(working) // FREE_EVERY - 1
    assert working.count("free") > len(working) // 7

    link = world.client.get("/api/calendar/me", headers=student).get_json()["url"]
    feed = world.client.get("/api" + urlsplit(link).path).data.decode()
    assert feed.count("SUMMARY:Rest day") == REST_DAYS

    fetched = world.client.get(f"/api/plans/{plan['id']}", headers=student).get_json()
    assert (fetched["reset"], fetched["starts_on"]) == (True, plan["starts_on"])
    # A rest day is protected: the tutor cannot turn it into work.
    r = world.client.put(
        f"/api/plans/{plan['id']}",
        json={"changes": [{"day": plan["days"][0]["day"], "kind": "study"}]},
        headers=tutor,
    )
    assert r.status_code == 422, r.get_json()


def test_a_first_attempt_gets_the_usual_plan(world: World):
    tutor, tutor_id = world.available_tutor()
    plan = make_plan(world, world.student(), tutor, tutor_id, attempts=0)
    assert "rest" not in _kinds(plan)
    assert plan["reset"] is False and plan["weekly_hours"] == 30
    assert plan["starts_on"] == plan["days"][0]["day"]
    assert date.fromisoformat(plan["days"][6]["day"]) and plan["days"][6]["kind"] == "free"


def test_an_official_result_below_passing_makes_the_next_plan_a_reset(world: World):
    tutor, tutor_id = world.available_tutor()
    student = world.student()
    first = make_plan(world, student, tutor, tutor_id, attempts=0)
    r = record(world, student, first["id"], form_id="usmle-step1-official", score=0)
    assert r.status_code == 201, r.get_json()
    [recorded] = world.events("assessment_result.recorded")
    assert recorded["official"] is True and recorded["below_passing"] is True
    assert r.get_json()["score_text"] == "Fail"

    # The plan now leads nowhere: the progress page and the tutor's dashboard say what next.
    progress = world.client.get(f"/api/plans/{first['id']}/progress", headers=student).get_json()
    advised = progress["reset_advised"]
    assert advised["reason"] == "failed_official" and advised["result_id"] == r.get_json()["id"]
    assert advised["since"] == r.get_json()["taken_on"] and advised["rest_days"] == REST_DAYS
    assert "new consultation" in advised["message"]
    [row] = world.client.get("/api/plans/tutoring", headers=tutor).get_json()
    assert row["reset_advised"] == advised and row["needs_attention"] is True
    assert row["latest_result"]["score_text"] == "Fail"

    second = make_plan(world, student, tutor, tutor_id, attempts=0)
    assert second["reset"] is True
    assert _kinds(second)[:REST_DAYS] == ["rest"] * REST_DAYS
    # Another student's failure is not this one's.
    other = make_plan(world, world.student("bea@example.com"), tutor, tutor_id, attempts=0)
    assert other["reset"] is False


def test_the_student_writes_a_reflection_before_the_consultation_and_the_tutor_reads_it(
    world: World,
):
    tutor, tutor_id = world.available_tutor()
    student = world.student()
    consultation = world.booked(student, tutor_id)  # the default intake: one earlier attempt
    assert consultation["reflection_asked"] is True and consultation["reflection"] is None
    path = f"/api/consultations/{consultation['id']}/reflection"

    blank = world.client.put(path, json={"schedule": "  ", "other": ""}, headers=student)
    assert blank.status_code == 422 and "schedule" in blank.get_json()["errors"]
    too_long = world.client.put(path, json={"timing": "x" * 2001}, headers=student)
    assert too_long.status_code == 422 and "timing" in too_long.get_json()["errors"]
    assert world.client.put(path, json={"schedule": "x"}, headers=tutor).status_code == 403
    stranger = world.student("eve@example.com")
    assert world.client.put(path, json={"schedule": "x"}, headers=stranger).status_code == 403
    assert (
        world.client.put(
            "/api/consultations/no-such/reflection", json={"schedule": "x"}, headers=student
        ).status_code
        == 404
    )

    answers = {
        "schedule": "I crammed the last two weeks.\nNo free days.",
        "resources": "Too many question banks at once.",
        "exam_anxiety": "",
        "timing": "Ran out of time on every block.",
    }
    r = world.client.put(path, json=answers, headers=student)
    assert r.status_code == 200, r.get_json()
    reflection = r.get_json()["reflection"]
    assert {k: reflection[k] for k in answers} == answers and reflection["other"] == ""
    assert reflection["updated_at"]

    seen = world.client.get(f"/api/consultations/{consultation['id']}", headers=tutor).get_json()
    assert seen["reflection"]["schedule"] == answers["schedule"]

    r = world.client.put(path, json={"other": "Sleep."}, headers=student)
    assert r.status_code == 200 and r.get_json()["reflection"]["schedule"] == ""

    world.start(consultation["id"])
    done = world.client.post(
        f"/api/consultations/{consultation['id']}/complete", json={}, headers=tutor
    )
    assert done.status_code == 200 and done.get_json()["reflection"]["other"] == "Sleep."
    late = world.client.put(path, json={"other": "More."}, headers=student)
    assert late.status_code == 409, late.get_json()


def test_a_first_attempt_is_not_asked_for_a_reflection(world: World):
    _tutor, tutor_id = world.available_tutor()
    student = world.student()
    r = world.book(
        student,
        tutor_id,
        world.slot(tutor_id)["starts_at"],
        intake=intake(attempts=0, exam_date=(date.today() + timedelta(days=90)).isoformat()),
    )
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["reflection_asked"] is False and r.get_json()["reflection"] is None
