"""Assessment, the study plan and its versions, and the student's calendar feed."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from icalendar import Calendar

from services.tutoring.tests.helpers import World


def _plan(world: World, student: dict, tutor: dict, tutor_id: str, **body) -> dict:
    consultation = world.completed(student, tutor, tutor_id)
    r = world.client.post(f"/api/consultations/{consultation['id']}/plan", json=body, headers=tutor)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_complete_assess_plan_and_edit_publish_each_step(world: World):
    tutor, tutor_id = world.available_tutor()
    student = world.student()
    consultation = world.completed(student, tutor, tutor_id)
    [completed] = world.events("consultation.completed")
    assert completed["consultation_id"] == consultation["id"]
    path = f"/api/consultations/{consultation['id']}"

    r = world.client.put(
        f"{path}/assessment",
        json={"strengths": "physiology", "weaknesses": "renal", "goals": "pass in June"},
        headers=tutor,
    )
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["assessment"]["weaknesses"] == "renal"
    assert world.events("assessment.recorded") == [
        {
            "consultation_id": consultation["id"],
            "student_id": consultation["student_id"],
            "tutor_id": tutor_id,
        }
    ]

    kolkata = ZoneInfo("Asia/Kolkata")  # the student's own date, read either side of midnight
    today_before = datetime.now(kolkata).date()
    r = world.client.post(
        f"{path}/plan", json={"areas": ["renal", "cardiovascular", "pharmacology"]}, headers=tutor
    )
    assert r.status_code == 201, r.get_json()
    plan = r.get_json()
    assert plan["version"] == 1
    tomorrow = {
        (d + timedelta(days=1)).isoformat() for d in (today_before, datetime.now(kolkata).date())
    }
    assert plan["days"][0]["day"] in tomorrow
    assert plan["days"][-1]["kind"] == "exam"
    assert plan["hours_by_area"]["renal"] > plan["hours_by_area"]["pharmacology"]
    assert world.client.post(f"{path}/plan", json={}, headers=tutor).status_code == 409

    study_day = next(d for d in plan["days"] if d["kind"] == "study")
    r = world.client.put(
        f"/api/plans/{plan['id']}",
        json={"changes": [{"day": study_day["day"], "kind": "free"}]},
        headers=tutor,
    )
    assert r.status_code == 200, r.get_json()
    edited = r.get_json()
    assert edited["version"] == 2
    assert next(d for d in edited["days"] if d["day"] == study_day["day"])["kind"] == "free"
    published = world.events("study_plan.published")
    assert [(e["plan_id"], e["version"]) for e in published] == [(plan["id"], 1), (plan["id"], 2)]
    assert published[0]["exam"] == "step1" and published[0]["student_email"] == "ada@example.com"
    mine = world.client.get("/api/plans/mine", headers=student).get_json()
    assert [(p["id"], p["version"]) for p in mine] == [(plan["id"], 2)]


def test_a_plan_that_does_not_fit_is_refused_naming_the_field(world: World):
    tutor, tutor_id = world.available_tutor()
    student = world.student()
    consultation = world.completed(student, tutor, tutor_id)
    r = world.client.post(
        f"/api/consultations/{consultation['id']}/plan", json={"min_days": 400}, headers=tutor
    )
    assert r.status_code == 422 and "exam_date" in r.get_json()["errors"]
    assert world.events("study_plan.published") == []


def test_an_edit_that_breaks_the_plan_is_refused_and_keeps_the_version(world: World):
    tutor, tutor_id = world.available_tutor()
    plan = _plan(world, world.student(), tutor, tutor_id)
    r = world.client.put(
        f"/api/plans/{plan['id']}",
        json={"changes": [{"day": plan["exam_date"], "kind": "study"}]},
        headers=tutor,
    )
    assert r.status_code == 422 and "day" in r.get_json()["errors"]
    assert world.client.get(f"/api/plans/{plan['id']}", headers=tutor).get_json()["version"] == 1


def test_assessment_and_plan_wait_for_a_completed_consultation(world: World):
    tutor, tutor_id = world.available_tutor()
    booked = world.booked(world.student(), tutor_id)
    path = f"/api/consultations/{booked['id']}"
    body = {"strengths": "a", "weaknesses": "b", "goals": "c"}
    assert world.client.put(f"{path}/assessment", json=body, headers=tutor).status_code == 409
    assert world.client.post(f"{path}/plan", json={}, headers=tutor).status_code == 409


def test_only_the_student_and_their_tutor_read_a_plan(world: World):
    tutor, tutor_id = world.available_tutor()
    other_tutor, _ = world.available_tutor(email="otto@example.com")
    student = world.student()
    plan = _plan(world, student, tutor, tutor_id)
    path = f"/api/plans/{plan['id']}"
    assert world.client.get(path, headers=student).status_code == 200
    assert world.client.get(path, headers=tutor).status_code == 200
    assert world.client.get(path, headers=world.student("eve@example.com")).status_code == 403
    assert world.client.get(path, headers=other_tutor).status_code == 403
    change = {"changes": [{"day": plan["days"][0]["day"], "kind": "free"}]}
    assert world.client.put(path, json=change, headers=other_tutor).status_code == 403
    assert world.client.get("/api/plans/nope", headers=student).status_code == 404


def test_the_calendar_feed_holds_the_consultation_in_the_students_zone_and_the_plan_days(
    world: World,
):
    tutor, tutor_id = world.available_tutor()
    student = world.student()
    plan = _plan(world, student, tutor, tutor_id)
    later = world.student("bo@example.com")
    upcoming = world.booked(later, tutor_id)

    for headers, expect_days in ((student, True), (later, False)):
        link = world.client.get("/api/calendar/me", headers=headers).get_json()["url"]
        assert link == world.client.get("/api/calendar/me", headers=headers).get_json()["url"]
        r = world.client.get("/api" + urlsplit(link).path)
        assert r.status_code == 200
        assert r.headers["Content-Type"] == "text/calendar; charset=utf-8"
        cal = Calendar.from_ical(r.data)
        events = [c for c in cal.walk("VEVENT")]
        timed = [e for e in events if isinstance(e.decoded("dtstart"), datetime)]
        all_day = [e for e in events if not isinstance(e.decoded("dtstart"), datetime)]
        # booked and completed consultations stay on the calendar (cancelled ones drop out)
        [meeting] = timed
        assert meeting["dtstart"].params["TZID"] == "Asia/Kolkata"
        assert [str(tz["tzid"]) for tz in cal.walk("VTIMEZONE")] == ["Asia/Kolkata"]
        if headers is later:
            assert str(meeting["uid"]) == f"consultation-{upcoming['id']}@preceptor"
        if expect_days:
            assert len(all_day) == len(plan["days"])
            days = {e.decoded("dtstart").isoformat(): str(e["summary"]) for e in all_day}
            assert days[plan["exam_date"]] == "Exam: step1"
            assert any(s == "Free day" for s in days.values())
        else:
            assert all_day == []


def test_a_bad_calendar_token_is_404(world: World):
    assert world.client.get("/api/calendar/not-a-token.ics").status_code == 404
