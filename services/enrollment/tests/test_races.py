"""Limits under parallel requests, on PostgreSQL and on SQLite (which has no row locks).

Each test sends real HTTP requests side by side to the served app; a limit that was checked by
reading and then writing lets several through on SQLite, where ``FOR UPDATE`` is ignored.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from services.enrollment.tests.helpers import STEP_1, succeeded


def _parallel(calls: list[Any], workers: int = 10) -> list[requests.Response]:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda call: call(), calls))


def _post(url: str, body: dict[str, Any], headers: dict[str, str]):
    return lambda: requests.post(url, json=body, headers=headers, timeout=60)


def test_a_promo_code_with_a_limit_of_one_is_redeemed_once_by_eight_parallel_enrollments(
    any_db_world,
):
    world = any_db_world
    code = {"code": "ONCE", "kind": "percent", "value": 10, "max_redemptions": 1}
    assert (
        world.client.post("/api/admin/promo-codes", json=code, headers=world.admin()).status_code
        == 201
    )
    students = [world.student(f"promo{i}@example.com") for i in range(8)]
    url = f"{world.enrollment.url}/api/enrollments"
    responses = _parallel(
        [_post(url, {"course_slug": STEP_1, "promo_code": "ONCE"}, s) for s in students], 8
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [422] * 7, [r.text for r in responses]
    refused = [r.json() for r in responses if r.status_code == 422]
    assert {p["type"] for p in refused} == {"urn:preceptor:promo-exhausted"}
    assert len(world.events("enrollment.pending")) == 1
    codes = world.client.get("/api/admin/promo-codes", headers=world.admin()).get_json()
    assert [c["redemptions"] for c in codes] == [1]


def test_twenty_parallel_refund_requests_for_one_enrollment_ask_for_one_refund(any_db_world):
    world = any_db_world
    student = world.student()
    enrollment = world.enroll(student).get_json()
    world.publish(succeeded(enrollment))
    url = f"{world.enrollment.url}/api/enrollments/{enrollment['id']}/refund"
    responses = _parallel([_post(url, {}, student) for _ in range(20)])
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(202) == 1, [r.text for r in responses]
    assert set(statuses) == {202, 409}, [r.text for r in responses]
    assert len(world.events("refund.requested")) == 1


def test_ten_parallel_deferrals_of_one_enrollment_move_one_seat_once(any_db_world):
    """Deferring reads the enrollment "under a lock" and then moves its seat: on SQLite that
    lock is the database's write lock (shared.db), else each deferral moved a seat."""
    world = any_db_world
    student = world.student()
    enrollment = world.enroll(student).get_json()
    world.publish(succeeded(enrollment))
    starts = [c["start"] for c in world.client.get(f"/api/courses/{STEP_1}").get_json()["cycles"]]
    old, new = starts[0], starts[1]
    url = f"{world.enrollment.url}/api/enrollments/{enrollment['id']}/defer"
    responses = _parallel([_post(url, {"cycle_start": new}, student) for _ in range(10)])
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) == 1 and max(statuses) < 500, [r.text for r in responses]
    assert len(world.events("enrollment.deferred")) == 1
    assert (world.taken(STEP_1, old), world.taken(STEP_1, new)) == (0, 1)
