"""Day checks: the student marks plan days done, partly done or missed, on the page or with a
signed one-click link from the weekly email; the rules on which days, and who."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import requests

from services.tutoring.tests.helpers import World
from services.tutoring.tests.tracking import make_plan, student_today
from services.tutoring.use_cases import day_checks
from shared.link_signing import link_serializer


def test_the_student_checks_a_past_day_and_checking_it_again_replaces_the_answer(world: World):
    plan = make_plan(world)
    day = plan.day_of("study")
    planned = next(d for d in plan.days() if d["day"] == day)
    hours = sum(b["hours"] for b in planned["blocks"])

    r = plan.check(day, "done")
    assert r.status_code == 200, r.get_json()
    assert r.get_json() == {"day": day, "status": "done", "planned_hours": hours}
    r = plan.check(day, "partial")
    assert r.status_code == 200, r.get_json()

    r = world.client.get(f"/api/plans/{plan.id}/checks", headers=plan.tutor)
    assert r.status_code == 200, r.get_json()
    [check] = r.get_json()
    assert (check["day"], check["status"], check["planned_hours"]) == (day, "partial", hours)
    assert check["checked_at"]
    events = world.events("plan_day.checked")
    assert [(e["day"], e["status"], e["via"]) for e in events] == [
        (day, "done", "page"),
        (day, "partial", "page"),
    ]
    assert events[0]["planned_hours"] == hours and events[0]["plan_id"] == plan.id

    r = world.client.delete(f"/api/plans/{plan.id}/days/{day}/check", headers=plan.student)
    assert r.status_code == 204
    assert world.client.get(f"/api/plans/{plan.id}/checks", headers=plan.student).get_json() == []
    r = world.client.delete(f"/api/plans/{plan.id}/days/{day}/check", headers=plan.student)
    assert r.status_code == 204  # nothing left to clear is fine


def test_today_may_be_checked_but_not_tomorrow_nor_a_day_without_work(world: World):
    plan = make_plan(world)
    days = {d["day"]: d["kind"] for d in plan.days()}
    today = student_today()
    if days.get(today.isoformat()) in ("study", "review", "checkpoint"):
        assert plan.check(today.isoformat(), "done").status_code == 200
    refused = {
        (today + timedelta(days=2)).isoformat(): "has not come yet",
        plan.day_of("free"): "free day",
        (today - timedelta(days=60)).isoformat(): "not a day of this plan",
        "yesterday": "YYYY-MM-DD",
        "2026-02-30": "YYYY-MM-DD",
    }
    for day, words in refused.items():
        r = plan.check(day, "done")
        assert r.status_code == 422, (day, r.get_json())
        problem = r.get_json()
        assert r.mimetype == "application/problem+json"
        assert list(problem["errors"]) == ["day"] and words in problem["detail"], problem
    r = plan.check(plan.day_of("study"), "skipped")
    assert r.status_code == 422 and "status" in r.get_json()["errors"]
    checks = world.client.get(f"/api/plans/{plan.id}/checks", headers=plan.student).get_json()
    assert [c["day"] for c in checks] in ([], [today.isoformat()])  # nothing refused is stored
    assert len(world.events("plan_day.checked")) == len(checks)


def test_the_rest_days_that_open_a_reset_plan_have_nothing_to_check(world: World):
    plan = make_plan(world, attempts=1)
    rest = [d["day"] for d in plan.days() if d["kind"] == "rest"]
    assert rest, "a reset plan opens with rest days"
    r = plan.check(rest[0], "done")
    assert r.status_code == 422 and list(r.get_json()["errors"]) == ["day"]
    assert "rest day" in r.get_json()["detail"]


def test_only_the_plans_student_checks_its_days_and_only_its_people_see_them(world: World):
    plan = make_plan(world)
    day = plan.day_of("study")
    other = world.student("bo@example.com")
    assert plan.check(day, "done", headers=plan.tutor).status_code == 403
    assert plan.check(day, "done", headers=other).status_code == 403
    assert plan.check(day, "done", headers=world.admin()).status_code == 403
    r = world.client.put(
        f"/api/plans/{'0' * 36}/days/{day}/check", json={"status": "done"}, headers=other
    )
    assert r.status_code == 404
    assert world.client.get(f"/api/plans/{plan.id}/checks", headers=other).status_code == 403
    assert (
        world.client.get(f"/api/plans/{plan.id}/checks", headers=world.admin()).status_code == 200
    )
    assert world.events("plan_day.checked") == []


def test_a_signed_link_shows_its_answer_on_get_and_records_it_on_post(world: World):
    plan = make_plan(world)
    day = plan.day_of("study")
    student_id = world.student_id(plan.student)
    token = day_checks.check_token(
        plan.id, datetime.fromisoformat(day).date(), "missed", student_id
    )

    r = world.client.get(f"/api/plan-checks/{token}")
    assert r.status_code == 200, r.get_json()
    assert r.get_json() == {
        "plan_id": plan.id,
        "day": day,
        "status": "missed",
        "student_name": "Ada Lovelace",
        "current_status": None,
    }
    assert world.events("plan_day.checked") == []

    r = world.client.post("/api/plan-checks", json={"token": token})
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["status"], r.get_json()["current_status"]) == ("missed", "missed")
    [event] = world.events("plan_day.checked")
    assert (event["day"], event["status"], event["via"]) == (day, "missed", "email")
    [check] = world.client.get(f"/api/plans/{plan.id}/checks", headers=plan.student).get_json()
    assert check["status"] == "missed"
    assert world.client.get(f"/api/plan-checks/{token}").get_json()["current_status"] == "missed"


def test_an_expired_link_is_410_and_a_forged_one_404_each_saying_so(world: World):
    plan = make_plan(world)
    day = datetime.fromisoformat(plan.day_of("study")).date()
    student_id = world.student_id(plan.student)
    old = datetime.now(UTC) - timedelta(days=15)
    expired = day_checks.check_token(plan.id, day, "done", student_id, issued_at=old)
    fresh = day_checks.check_token(plan.id, day, "done", student_id)
    other_salt = link_serializer("another-purpose").dumps(
        {"p": plan.id, "d": day.isoformat(), "s": "done", "u": student_id}
    )
    not_the_student = day_checks.check_token(plan.id, day, "done", "someone-else")
    for token, status, words in [
        (expired, 410, "expired"),
        (fresh[:-3] + "abc", 404, "not one we sent"),
        (other_salt, 404, "not one we sent"),
        ("nonsense", 404, "not one we sent"),
        (not_the_student, 404, "gone"),
    ]:
        for r in (
            world.client.get(f"/api/plan-checks/{token}"),
            world.client.post("/api/plan-checks", json={"token": token}),
        ):
            assert r.status_code == status, (token, r.get_json())
            assert r.mimetype == "application/problem+json"
            problem = r.get_json()
            assert list(problem["errors"]) == ["token"] and words in problem["detail"], problem
    assert world.events("plan_day.checked") == []


def test_two_answers_for_one_day_at_once_leave_one_check(world: World):
    plan = make_plan(world)
    day = plan.day_of("study")
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def check(status: str) -> None:
        barrier.wait()
        r = requests.put(
            f"{world.tutoring.url}/api/plans/{plan.id}/days/{day}/check",
            json={"status": status},
            headers=plan.student,
            timeout=30,
        )
        statuses.append(r.status_code)

    threads = [threading.Thread(target=check, args=(s,)) for s in ("done", "missed")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200, 200]
    [check] = world.client.get(f"/api/plans/{plan.id}/checks", headers=plan.student).get_json()
    assert check["status"] in ("done", "missed")
    assert len(world.events("plan_day.checked")) == 2
