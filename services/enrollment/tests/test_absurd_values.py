"""Dates and currencies no course has: refused before anything is stored, and a course stored
with one before the rule (anchored on 9999-12-31) cannot take the public catalogue down."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from services.enrollment.models import Course
from tests.test_bad_input import assert_problem, table_counts


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("anchor_date", "9999-12-31"),
        ("anchor_date", "0001-01-01"),
        ("currency", "XYZ"),
        ("currency", "xau"),
    ],
)
def test_an_absurd_date_or_an_unknown_currency_is_refused_and_nothing_is_stored(
    world, field, value
):
    world.course("kept")
    before = table_counts(world.enrollment)
    body = {
        "slug": "absurd",
        "title": "Absurd",
        "price_minor": 100,
        "currency": "USD",
        "cycle_length_days": 28,
        "cadence_days": 28,
        "anchor_date": "2026-01-05",
        "seats_per_cycle": 10,
        "access_days": 60,
        "refund_window_days": 14,
        "published": True,
        field: value,
    }
    r = world.client.post("/api/admin/courses", json=body, headers=world.admin())
    assert assert_problem(r)["status"] == 422 and field in r.get_json()["errors"]
    r = world.client.patch("/api/admin/courses/kept", json={field: value}, headers=world.admin())
    assert assert_problem(r)["status"] == 422 and field in r.get_json()["errors"]
    assert table_counts(world.enrollment) == before
    assert world.client.get("/api/courses").status_code == 200


def test_a_course_stored_with_an_absurd_anchor_is_left_out_of_the_catalogue(world, caplog):
    world.course("good-course")
    world.course("bad-course")
    with world.enrollment.runtime.db.session() as s, s.begin():
        s.execute(
            sa.update(Course)
            .where(Course.slug == "bad-course")
            .values(anchor_date=date(9999, 12, 31))
        )
    r = world.client.get("/api/courses")
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    listed = [c["slug"] for c in r.get_json()]
    assert "good-course" in listed and "bad-course" not in listed
    assert any(getattr(rec, "row", None) == "bad-course" for rec in caplog.records)
    admin = world.client.get("/api/admin/courses", headers=world.admin())
    assert admin.status_code == 200 and "good-course" in [c["slug"] for c in admin.get_json()]
    assert world.client.get("/api/courses/bad-course").status_code < 500
    fixed = world.client.patch(
        "/api/admin/courses/bad-course", json={"anchor_date": "2026-01-05"}, headers=world.admin()
    )
    assert fixed.status_code == 200, fixed.get_json()
    assert "bad-course" in [c["slug"] for c in world.client.get("/api/courses").get_json()]


@pytest.mark.parametrize("start", ["9999-12-31", "0001-01-01"])
def test_an_absurd_cycle_start_in_a_path_or_a_body_is_a_422(world, start):
    course = world.course("kept")["slug"]
    student = world.student()
    for r in (
        world.client.get(
            f"/api/admin/courses/{course}/cycles/{start}/roster", headers=world.admin()
        ),
        world.client.post(
            f"/api/courses/{course}/cycles/{start}/waitlist", json={}, headers=student
        ),
        world.enroll(student, course, cycle_start=start),
    ):
        assert assert_problem(r)["status"] == 422 and "cycle_start" in r.get_json()["errors"]
