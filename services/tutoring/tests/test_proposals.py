"""Proposed plan versions: a rebalance after per-area scores, who accepts, what supersedes
what, what a stale or closed proposal answers, and two decisions at once."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import requests

from services.tutoring.models import PlanProposal, StudyPlanRow
from services.tutoring.tests.helpers import World
from services.tutoring.tests.tracking import PlanAt, add_result, make_plan, student_today
from shared.db import utcnow


def _propose(plan: PlanAt, headers: dict[str, str] | None = None, kind: str = "rebalance"):
    return plan.world.client.post(
        f"/api/plans/{plan.id}/proposals", json={"kind": kind}, headers=headers or plan.student
    )


def _scored(world: World) -> PlanAt:
    plan = make_plan(world)
    add_result(
        world,
        plan,
        taken_on=student_today() - timedelta(days=5),
        area_scores={"renal": 70, "cardiovascular": 40},
    )
    add_result(world, plan, taken_on=student_today() - timedelta(days=1), area_scores={"renal": 45})
    return plan


def _proposals(plan: PlanAt, headers: dict[str, str]) -> list[dict]:
    r = plan.world.client.get(f"/api/plans/{plan.id}/proposals", headers=headers)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_a_rebalance_needs_a_result_with_per_area_scores(world: World):
    plan = make_plan(world)
    add_result(world, plan, taken_on=student_today() - timedelta(days=2))  # no per-area scores
    r = _propose(plan)
    assert r.status_code == 422, r.get_json()
    assert list(r.get_json()["errors"]) == ["kind"]
    assert "per-area scores first" in r.get_json()["detail"]
    r = _propose(plan, kind="recovery")  # only the worker proposes a recovery
    assert r.status_code == 422 and list(r.get_json()["errors"]) == ["kind"]
    assert _proposals(plan, plan.student) == []
    assert world.events("study_plan.revision_proposed") == []


def test_the_student_proposes_the_tutor_accepts_and_a_new_version_is_published(world: World):
    plan = _scored(world)
    r = _propose(plan)
    assert r.status_code == 201, r.get_json()
    proposal = r.get_json()
    tomorrow = (student_today() + timedelta(days=1)).isoformat()
    assert proposal["status"] == "proposed" and proposal["kind"] == "rebalance"
    assert proposal["base_version"] == 1 and proposal["fits"] is True
    assert (proposal["proposed_role"], proposal["accepter_role"]) == ("student", "tutor")
    assert proposal["can_accept"] is False  # the student asked; the tutor decides
    assert proposal["days"] and proposal["days"][0]["day"] >= tomorrow
    assert set(proposal["hours_before"]) <= {"renal", "cardiovascular", "pharmacology"}
    assert proposal["decided_at"] is None and proposal["message"]
    # The latest per-area scores: cardiovascular 40 (weakest), renal 45 (its newer result).
    before, after = proposal["hours_before"], proposal["hours_after"]
    assert after["cardiovascular"] > before["cardiovascular"], proposal["message"]
    assert sum(after.values()) == sum(before.values())
    [event] = world.events("study_plan.revision_proposed")
    assert event["proposal_id"] == proposal["id"] and event["proposed_role"] == "student"
    assert event["accepter_role"] == "tutor" and event["tutor_email"] == "tess@example.com"
    [seen] = _proposals(plan, plan.tutor)
    assert seen["can_accept"] is True

    url = f"/api/plans/{plan.id}/proposals/{proposal['id']}"
    r = world.client.post(f"{url}/accept", json={}, headers=plan.student)
    assert r.status_code == 403, r.get_json()
    r = world.client.post(f"{url}/accept", json={}, headers=world.admin())
    assert r.status_code == 403, r.get_json()
    r = world.client.post(f"{url}/accept", json={}, headers=plan.tutor)
    assert r.status_code == 200, r.get_json()
    accepted = r.get_json()
    assert accepted["version"] == 2 and accepted["id"] == plan.id
    proposed_days = {d["day"]: d for d in proposal["days"]}
    assert all(proposed_days[d["day"]] == d for d in accepted["days"] if d["day"] in proposed_days)
    published = world.events("study_plan.published")
    assert [(e["plan_id"], e["version"]) for e in published] == [(plan.id, 1), (plan.id, 2)]
    [rebalanced] = world.events("study_plan.rebalanced")
    assert rebalanced["proposal_id"] == proposal["id"] and rebalanced["accepted_role"] == "tutor"
    assert (rebalanced["from_version"], rebalanced["to_version"]) == (1, 2)
    assert rebalanced["hours_before"] == proposal["hours_before"]

    [closed] = _proposals(plan, plan.tutor)
    assert closed["status"] == "accepted" and closed["decided_at"] and not closed["can_accept"]
    for action in ("accept", "decline"):
        r = world.client.post(f"{url}/{action}", json={}, headers=plan.tutor)
        assert r.status_code == 409, r.get_json()
        assert "accepted already" in r.get_json()["detail"]


def test_a_newer_proposal_supersedes_the_open_one_of_the_same_kind(world: World):
    plan = _scored(world)
    first = _propose(plan).get_json()
    second = _propose(plan, headers=plan.tutor).get_json()
    assert second["proposed_role"] == "tutor"
    listed = _proposals(plan, plan.student)
    assert [p["id"] for p in listed] == [second["id"], first["id"]]  # newest first
    assert [p["status"] for p in listed] == ["proposed", "superseded"]
    r = world.client.post(
        f"/api/plans/{plan.id}/proposals/{first['id']}/accept", json={}, headers=plan.tutor
    )
    assert r.status_code == 409 and "superseded" in r.get_json()["detail"]


def test_a_proposal_made_before_the_plan_changed_is_refused_propose_again(world: World):
    plan = _scored(world)
    proposal = _propose(plan).get_json()
    day = next(
        d for d in plan.days() if d["kind"] == "study" and d["day"] > student_today().isoformat()
    )
    r = world.client.put(
        f"/api/plans/{plan.id}",
        json={"changes": [{"day": day["day"], "kind": "free"}]},
        headers=plan.tutor,
    )
    assert r.status_code == 200, r.get_json()
    assert _proposals(plan, plan.tutor)[0]["can_accept"] is False
    r = world.client.post(
        f"/api/plans/{plan.id}/proposals/{proposal['id']}/accept", json={}, headers=plan.tutor
    )
    assert r.status_code == 409, r.get_json()
    assert "propose again" in r.get_json()["detail"]
    assert world.events("study_plan.rebalanced") == []


def test_a_proposal_that_does_not_fit_cannot_be_accepted_but_can_be_declined(world: World):
    plan = make_plan(world)
    proposal_id = str(uuid.uuid4())
    with world.tutoring.runtime.db.session() as s, s.begin():
        row = s.get(StudyPlanRow, plan.id)
        s.add(
            PlanProposal(
                id=proposal_id,
                plan_id=plan.id,
                kind="recovery",
                base_version=row.latest_version,
                status="proposed",
                fits=False,
                body=None,
                summary={
                    "message": "The missed hours do not fit before the exam.",
                    "hours_before": {"renal": 10.0},
                    "hours_after": {},
                    "suggested_exam_date": "2031-01-06",
                    "start": student_today().isoformat(),
                    "accepter_role": "tutor",
                },
                proposed_by="system",
                proposed_role="system",
                created_at=utcnow(),
            )
        )
    [listed] = _proposals(plan, plan.tutor)
    assert listed["fits"] is False and listed["days"] == [] and not listed["can_accept"]
    assert listed["suggested_exam_date"] == "2031-01-06"
    url = f"/api/plans/{plan.id}/proposals/{proposal_id}"
    r = world.client.post(f"{url}/accept", json={}, headers=plan.tutor)
    assert r.status_code == 409 and "does not fit" in r.get_json()["detail"]
    r = world.client.post(f"{url}/decline", json={}, headers=world.student("bo@example.com"))
    assert r.status_code == 403
    r = world.client.post(f"{url}/decline", json={}, headers=plan.student)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["status"] == "declined" and r.get_json()["decided_at"]
    r = world.client.post(
        f"/api/plans/{plan.id}/proposals/{uuid.uuid4()}/decline", json={}, headers=plan.tutor
    )
    assert r.status_code == 404


def test_only_the_plans_people_propose_and_see_proposals(world: World):
    plan = _scored(world)
    other = world.student("bo@example.com")
    assert _propose(plan, headers=other).status_code == 403
    assert _propose(plan, headers=world.admin()).status_code == 403
    assert world.client.get(f"/api/plans/{plan.id}/proposals", headers=other).status_code == 403
    assert _proposals(plan, world.admin()) == []
    r = world.client.post(
        f"/api/plans/{uuid.uuid4()}/proposals", json={"kind": "rebalance"}, headers=other
    )
    assert r.status_code == 404


def _at_once(calls: list[tuple[str, dict, dict]]) -> list[int]:
    barrier = threading.Barrier(len(calls))
    statuses: list[int] = []

    def call(url: str, body: dict, headers: dict) -> None:
        barrier.wait()
        statuses.append(requests.post(url, json=body, headers=headers, timeout=30).status_code)

    threads = [threading.Thread(target=call, args=c) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(statuses)


def test_two_accepts_at_once_publish_one_version(world: World):
    plan = _scored(world)
    proposal = _propose(plan).get_json()
    url = f"{world.tutoring.url}/api/plans/{plan.id}/proposals/{proposal['id']}/accept"
    assert _at_once([(url, {}, plan.tutor), (url, {}, plan.tutor)]) == [200, 409]
    assert len(world.events("study_plan.rebalanced")) == 1
    assert [e["version"] for e in world.events("study_plan.published")] == [1, 2]


def test_two_proposals_at_once_leave_exactly_one_open(world: World):
    plan = _scored(world)
    url = f"{world.tutoring.url}/api/plans/{plan.id}/proposals"
    body = {"kind": "rebalance"}
    assert _at_once([(url, body, plan.student), (url, body, plan.tutor)]) == [201, 201]
    statuses = sorted(p["status"] for p in _proposals(plan, plan.tutor))
    assert statuses == ["proposed", "superseded"]
    assert len(world.events("study_plan.revision_proposed")) == 2
