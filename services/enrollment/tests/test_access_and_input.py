"""Who may do what, admin endpoints, and bad input on every JSON endpoint."""

from __future__ import annotations

from datetime import date

from services.enrollment.tests.helpers import STEP_1
from tests.test_bad_input import assert_problem, table_counts


def test_a_student_cannot_read_or_change_another_students_enrollment(world):
    owner, other = world.student("owner@example.com"), world.student("other@example.com")
    enrollment = world.enroll(owner).get_json()
    path = f"/api/enrollments/{enrollment['id']}"
    assert world.client.get(path, headers=other).status_code == 403
    assert world.client.post(f"{path}/refund", json={}, headers=other).status_code == 403
    start = enrollment["cycle_start"]
    defer = world.client.post(f"{path}/defer", json={"cycle_start": start}, headers=other)
    assert defer.status_code == 403
    assert world.client.get("/api/enrollments", headers=other).get_json() == []
    assert world.client.get(path, headers=world.admin()).status_code == 200
    assert world.client.get(path).status_code == 401
    assert world.client.get("/api/enrollments/not-an-id", headers=owner).status_code == 404


def test_only_admins_reach_the_admin_endpoints(world):
    student = world.student()
    for method, path in (
        ("get", "/api/admin/courses"),
        ("post", "/api/admin/courses"),
        ("patch", f"/api/admin/courses/{STEP_1}"),
        ("get", f"/api/admin/courses/{STEP_1}/cycles/2026-01-05/roster"),
        ("get", "/api/admin/promo-codes"),
        ("post", "/api/admin/promo-codes"),
    ):
        kwargs = {"json": {}} if method in ("post", "patch") else {}
        response = getattr(world.client, method)(path, headers=student, **kwargs)
        if method == "get" or response.status_code != 422:
            assert response.status_code == 403, (path, response.get_json())
    assert world.client.get("/api/admin/courses").status_code == 401


def test_an_admin_creates_edits_and_sees_the_roster_of_a_course(world):
    admin = world.admin()
    course = world.course(published=False)
    assert course["slug"] not in [c["slug"] for c in world.client.get("/api/courses").get_json()]
    assert world.client.get(f"/api/courses/{course['slug']}").status_code == 404
    dup = world.client.post(
        "/api/admin/courses", json={**course_body(course), "title": "Again"}, headers=admin
    )
    assert dup.status_code == 409 and "slug" in dup.get_json()["errors"]
    bad = world.client.patch(
        f"/api/admin/courses/{course['slug']}", json={"access_days": 3}, headers=admin
    )
    assert bad.status_code == 422 and "access_days" in bad.get_json()["errors"]
    patched = world.client.patch(
        f"/api/admin/courses/{course['slug']}",
        json={"published": True, "seats_per_cycle": 3},
        headers=admin,
    )
    assert patched.status_code == 200
    assert patched.get_json()["cycles"][0]["seats_total"] == 3
    start = patched.get_json()["cycles"][0]["start"]
    enrollment = world.enroll(world.student(), course["slug"]).get_json()
    roster = world.client.get(
        f"/api/admin/courses/{course['slug']}/cycles/{start}/roster", headers=admin
    ).get_json()
    assert (roster["seats_total"], roster["seats_taken"]) == (3, 1)
    assert roster["course_title"] == course["title"]
    assert date.fromisoformat(roster["cycle_end"]) > date.fromisoformat(roster["cycle_start"])
    assert [e["id"] for e in roster["enrollments"]] == [enrollment["id"]]
    assert roster["enrollments"][0]["email"] == "ada@example.com"


def course_body(course):
    keys = [
        "slug",
        "title",
        "price_minor",
        "currency",
        "cycle_length_days",
        "cadence_days",
        "anchor_date",
        "seats_per_cycle",
        "access_days",
        "refund_window_days",
    ]
    return {k: course[k] for k in keys}


def test_bad_enrollment_bodies_from_a_student_name_the_field_and_change_nothing(world):
    """tests/test_bad_input.py checks every endpoint with an admin's token; enrolling is for
    students only, so its own validation is checked here with a student's token."""
    client = world.client
    before = table_counts(world.enrollment)
    # the student-only endpoints, with a student's token, reach their own validation
    student = world.student()
    for body, field in (
        ({"course_slug": STEP_1, "cycle_start": "next tuesday"}, "cycle_start"),
        ({"course_slug": STEP_1, "promo_code": 10}, "promo_code"),
        ({"course_slug": ""}, "course_slug"),
        ({"course_slug": STEP_1, "seats": 3}, "seats"),
    ):
        r = client.post("/api/enrollments", json=body, headers=student)
        assert r.status_code == 422 and field in assert_problem(r)["errors"], (body, r.get_json())
    after = table_counts(world.enrollment)
    assert after == before


def test_amounts_and_counts_past_their_limits_are_a_422_naming_the_field(world):
    """A price or a promotion past the database's integer was a 500 (schemathesis found it)."""
    admin = world.admin()
    before = table_counts(world.enrollment)
    body = {
        "slug": "dear-course",
        "title": "Dear Course",
        "price_minor": 2**31,
        "currency": "USD",
        "cycle_length_days": 28,
        "cadence_days": 28,
        "anchor_date": "2030-01-07",
        "seats_per_cycle": 10,
        "access_days": 60,
        "refund_window_days": 14,
    }
    course = world.client.post("/api/admin/courses", json=body, headers=admin)
    assert assert_problem(course)["status"] == 422 and "price_minor" in course.get_json()["errors"]
    for field in ("value", "max_redemptions", "per_student_limit"):
        body = {"code": "HUGE", "kind": "amount", "value": 100, "currency": "USD", field: 2**31}
        promo = world.client.post("/api/admin/promo-codes", json=body, headers=admin)
        assert assert_problem(promo)["status"] == 422 and field in promo.get_json()["errors"]
    assert table_counts(world.enrollment) == before
