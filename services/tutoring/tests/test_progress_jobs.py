"""The worker's progress jobs: result missing, recovery proposals and the weekly digests, each
sent once whatever the restarts, and once when two workers run them at the same moment."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta

from services.tutoring.tests.helpers import World
from services.tutoring.tests.tracking import (
    STUDENT_ZONE,
    PlanAt,
    add_result,
    last_digest_moment,
    make_plan,
    run_job,
    student_today,
)
from shared.db import utcnow


def _twice_at_once(world: World, name: str, now: datetime) -> list[int]:
    barrier = threading.Barrier(2)
    sent: list[int] = []

    def run() -> None:
        barrier.wait()
        sent.append(run_job(world, name, now))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(sent)


# --- result missing ------------------------------------------------------------------------------


def test_a_checkpoint_without_a_result_is_noticed_once(world: World):
    plan = make_plan(world)
    checkpoint = plan.day_of("checkpoint", before=student_today() - timedelta(days=1))
    assert run_job(world, "result_missing", utcnow()) == 1
    assert run_job(world, "result_missing", utcnow()) == 0  # a restarted worker
    [notice] = world.events("plan.result_missing")
    assert notice["checkpoint_day"] == checkpoint and notice["plan_id"] == plan.id
    assert notice["student_email"] == "ada@example.com"
    assert (notice["tutor_email"], notice["student_timezone"]) == (
        "tess@example.com",
        "Asia/Kolkata",
    )


def test_a_result_near_the_checkpoint_or_a_checkpoint_just_ended_sends_nothing(world: World):
    plan = make_plan(world)
    checkpoint = date.fromisoformat(plan.day_of("checkpoint"))
    add_result(world, plan, taken_on=checkpoint + timedelta(days=1))
    assert run_job(world, "result_missing", utcnow()) == 0
    # The same checkpoint seen from its own next day has not ended a day ago yet.
    fresh = make_plan(world, student_email="bo@example.com", tutor=(plan.tutor, plan.tutor_id))
    day = datetime.combine(date.fromisoformat(fresh.day_of("checkpoint")), datetime.min.time())
    next_day = (day + timedelta(days=1, hours=12)).replace(tzinfo=STUDENT_ZONE)
    assert run_job(world, "result_missing", next_day) == 0
    assert world.events("plan.result_missing") == []


def test_two_result_missing_runs_at_once_send_one_notice(world: World):
    make_plan(world)
    assert _twice_at_once(world, "result_missing", utcnow()) == [0, 1]
    assert len(world.events("plan.result_missing")) == 1


# --- recovery ------------------------------------------------------------------------------------


def _miss(plan: PlanAt, hours: float, status: str = "missed") -> list[str]:
    """Mark working days of the past week missed until ``hours`` are missed; the days."""
    week = (student_today() - timedelta(days=7)).isoformat(), student_today().isoformat()
    marked, total = [], 0.0
    for day in plan.days():
        if week[0] <= day["day"] < week[1] and day["kind"] in ("study", "review"):
            r = plan.check(day["day"], status)
            assert r.status_code == 200, r.get_json()
            marked.append(day["day"])
            total += r.get_json()["planned_hours"] * (0.5 if status == "partial" else 1)
            if total >= hours:
                return marked
    raise AssertionError("not enough working days in the past week")


def test_missed_hours_past_the_threshold_propose_a_recovery_once(world: World):
    plan = make_plan(world)
    _miss(plan, 6)
    assert run_job(world, "recovery", utcnow()) == 1
    assert run_job(world, "recovery", utcnow()) == 0  # one is open
    [event] = world.events("study_plan.revision_proposed")
    assert (event["kind"], event["proposed_role"], event["accepter_role"]) == (
        "recovery",
        "system",
        "tutor",
    )
    r = world.client.get(f"/api/plans/{plan.id}/proposals", headers=plan.tutor)
    [proposal] = r.get_json()
    assert (proposal["kind"], proposal["status"], proposal["proposed_role"]) == (
        "recovery",
        "proposed",
        "system",
    )
    r = world.client.post(
        f"/api/plans/{plan.id}/proposals/{proposal['id']}/decline", json={}, headers=plan.student
    )
    assert r.status_code == 200, r.get_json()
    # Declined, the same missed days are not proposed again (nor twice in one week).
    assert run_job(world, "recovery", utcnow()) == 0
    assert len(world.events("study_plan.revision_proposed")) == 1


def test_fewer_missed_hours_than_the_threshold_propose_nothing(world: World, monkeypatch):
    plan = make_plan(world)
    monkeypatch.setenv("RECOVERY_MISSED_HOURS", "100")
    _miss(plan, 6)
    assert run_job(world, "recovery", utcnow()) == 0
    monkeypatch.setenv("RECOVERY_MISSED_HOURS", "6")
    assert run_job(world, "recovery", utcnow()) == 1
    [proposal] = world.client.get(f"/api/plans/{plan.id}/proposals", headers=plan.tutor).get_json()
    assert proposal["fits"] is True and proposal["can_accept"] is True, proposal
    missed = sum(proposal["hours_after"].values()) - sum(proposal["hours_before"].values())
    assert missed >= 6  # the missed study hours come back from tomorrow on
    assert proposal["days"][0]["day"] == str(student_today() + timedelta(days=1))
    r = world.client.post(
        f"/api/plans/{plan.id}/proposals/{proposal['id']}/accept", json={}, headers=plan.tutor
    )
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["version"] == 2
    [rebalanced] = world.events("study_plan.rebalanced")
    assert (rebalanced["kind"], rebalanced["accepted_role"]) == ("recovery", "tutor")


def test_accepting_a_rebalance_makes_the_open_recovery_again_from_the_new_version(world: World):
    plan = make_plan(world)
    _miss(plan, 6)
    assert run_job(world, "recovery", utcnow()) == 1
    add_result(
        world,
        plan,
        taken_on=student_today() - timedelta(days=1),
        area_scores={"renal": 40, "cardiovascular": 80},
    )
    r = world.client.post(
        f"/api/plans/{plan.id}/proposals", json={"kind": "rebalance"}, headers=plan.student
    )
    assert r.status_code == 201, r.get_json()
    [_, recovery] = world.client.get(
        f"/api/plans/{plan.id}/proposals", headers=plan.tutor
    ).get_json()
    assert recovery["kind"] == "recovery"
    r = world.client.post(
        f"/api/plans/{plan.id}/proposals/{r.get_json()['id']}/accept", json={}, headers=plan.tutor
    )
    assert r.status_code == 200 and r.get_json()["version"] == 2, r.get_json()
    listed = world.client.get(f"/api/plans/{plan.id}/proposals", headers=plan.tutor).get_json()
    remade = [p for p in listed if p["kind"] == "recovery" and p["status"] == "proposed"]
    [remade] = remade
    assert remade["base_version"] == 2 and remade["can_accept"] is True, remade
    added = sum(remade["hours_after"].values()) - sum(remade["hours_before"].values())
    assert added == sum(recovery["hours_after"].values()) - sum(recovery["hours_before"].values())
    old = next(p for p in listed if p["id"] == recovery["id"])
    assert old["status"] == "superseded"
    events = world.events("study_plan.revision_proposed")
    assert [e["kind"] for e in events] == ["recovery", "rebalance", "recovery"]
    # The remade one is open and counts the same days: the job proposes nothing more.
    assert run_job(world, "recovery", utcnow()) == 0
    r = world.client.post(
        f"/api/plans/{plan.id}/proposals/{remade['id']}/accept", json={}, headers=plan.tutor
    )
    assert r.status_code == 200 and r.get_json()["version"] == 3, r.get_json()


def test_two_recovery_runs_at_once_propose_once(world: World):
    plan = make_plan(world)
    _miss(plan, 6)
    assert _twice_at_once(world, "recovery", utcnow()) == [0, 1]
    assert len(world.events("study_plan.revision_proposed")) == 1
    r = world.client.get(f"/api/plans/{plan.id}/proposals", headers=plan.tutor)
    assert [p["status"] for p in r.get_json()] == ["proposed"]


# --- digests -------------------------------------------------------------------------------------


def test_the_weekly_digests_go_once_with_links_that_record_the_answer(world: World):
    now = last_digest_moment()  # Monday 12:00 in New York, 22:30 in Kolkata
    plan = make_plan(world)
    monday = now.astimezone(STUDENT_ZONE).date()
    week = [d for d in plan.days() if str(monday - timedelta(days=7)) <= d["day"] < str(monday)]
    working = [d for d in week if d["kind"] in ("study", "review", "checkpoint")]
    done = working[0]
    assert plan.check(done["day"], "done").status_code == 200
    add_result(world, plan, taken_on=monday - timedelta(days=3), score=64)

    assert run_job(world, "digests", now) == 2
    assert run_job(world, "digests", now + timedelta(hours=1)) == 0  # the next hour's run
    [digest] = world.events("progress.digest_due")
    assert digest["plan_id"] == plan.id and digest["student_timezone"] == "Asia/Kolkata"
    assert (digest["week_start"], digest["week_end"]) == (
        str(monday - timedelta(days=7)),
        str(monday - timedelta(days=1)),
    )
    hours = sum(b["hours"] for b in done["blocks"])
    assert digest["done_hours"] == hours and digest["missed_hours"] == 0
    assert digest["planned_hours"] == sum(sum(b["hours"] for b in d["blocks"]) for d in working)
    assert [d["day"] for d in digest["to_check"]] == [d["day"] for d in working[1:]]
    assert digest["latest_result"]["score"] == 64
    assert digest["latest_result"]["form_name"].startswith("NBME")
    assert digest["exam_date"] == plan.days()[-1]["day"]
    expires = datetime.fromisoformat(digest["links_expire_at"])
    assert expires - now == timedelta(days=14)

    first = digest["to_check"][0]
    r = world.client.post("/api/plan-checks", json={"token": first["partial"]})
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["day"], r.get_json()["status"]) == (first["day"], "partial")
    [_, by_email] = world.events("plan_day.checked")
    assert by_email["via"] == "email"

    [tutor_digest] = world.events("progress.tutor_digest_due")
    assert tutor_digest["tutor_email"] == "tess@example.com"
    assert tutor_digest["tutor_timezone"] == "America/New_York"
    [row] = tutor_digest["students"]
    assert row["plan_id"] == plan.id and row["student_name"] == "Ada Lovelace"
    assert row["done_hours"] == hours and row["latest_result"]["score"] == 64
    assert row["readiness_warning"] is False


def test_digests_wait_for_the_readers_digest_day_and_hour(world: World):
    monday_noon_ny = last_digest_moment()
    make_plan(world)
    assert run_job(world, "digests", monday_noon_ny - timedelta(days=1)) == 0  # Sunday
    # Monday 06:00 in New York is 16:30 in Kolkata: the student's digest, not yet the tutor's.
    assert run_job(world, "digests", monday_noon_ny - timedelta(hours=6)) == 1
    assert len(world.events("progress.digest_due")) == 1
    assert world.events("progress.tutor_digest_due") == []
    assert run_job(world, "digests", monday_noon_ny) == 1
    assert len(world.events("progress.tutor_digest_due")) == 1


def test_two_digest_runs_at_once_send_each_digest_once(world: World):
    make_plan(world)
    assert _twice_at_once(world, "digests", last_digest_moment()) in ([0, 2], [1, 1])
    assert len(world.events("progress.digest_due")) == 1
    assert len(world.events("progress.tutor_digest_due")) == 1
