"""Catalogue, enrolling with a held seat, and what payments' events do to an enrollment."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta

import requests
import sqlalchemy as sa

from services.enrollment.models import Enrollment
from services.enrollment.tests.helpers import STEP_1, payment_event, succeeded
from services.payments.models import Payment
from shared.db import utcnow


def test_the_catalogue_shows_both_courses_with_their_next_cycles_and_seats(world):
    courses = world.client.get("/api/courses").get_json()
    assert [c["slug"] for c in courses] == [STEP_1, "usmle-step-2-ck-prep"]
    step_1 = courses[0]
    assert (step_1["price_minor"], step_1["currency"]) == (149900, "USD")
    assert (step_1["cycle_length_days"], step_1["access_days"]) == (84, 120)
    assert len(step_1["next_cycles"]) == 4
    first = step_1["next_cycles"][0]
    assert first["start"] >= utcnow().date().isoformat()
    assert (first["seats_total"], first["seats_left"], first["status"]) == (25, 25, "open")
    detail = world.client.get(f"/api/courses/{STEP_1}").get_json()
    assert [c["start"] for c in detail["cycles"]] == [c["start"] for c in step_1["next_cycles"]]
    assert world.client.get("/api/courses/no-such-course").status_code == 404


def test_enrolling_holds_a_seat_and_starts_a_checkout_with_the_server_price(world):
    student = world.student()
    start = world.client.get(f"/api/courses/{STEP_1}").get_json()["cycles"][0]["start"]
    response = world.enroll(student)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["status"], body["cycle_start"], body["amount_minor"]) == (
        "pending_payment",
        start,
        149900,
    )
    hold = datetime.fromisoformat(body["hold_expires_at"])
    assert timedelta(minutes=29) < hold - utcnow() <= timedelta(minutes=30)
    assert body["checkout"]["client_secret"].startswith("pi_")
    assert body["checkout"]["publishable_key"] and body["checkout"]["js_url"]
    assert world.seats_left(STEP_1, start) == 24
    [pending] = world.events("enrollment.pending")
    assert pending["enrollment_id"] == body["id"]
    assert (pending["email"], pending["name"]) == ("ada@example.com", "Ada Lovelace")
    payment = world.payments.payment_for(f"enrollment:{body['id']}")
    assert (payment["amount_minor"], payment["currency"]) == (149900, "USD")
    day = date.fromisoformat(start)
    with world.payments.service.runtime.db.session() as s:  # what the admin ledger will show
        described = s.get(Payment, payment["payment_id"]).description
    assert described == f"USMLE Step 1 Prep, cycle starting {day:%a} {day.day} {day:%b %Y}"
    assert payment["payment_id"] == body["checkout"]["payment_id"]
    # reading it again gives the same checkout (payments answers idempotently per purchase)
    again = world.enrollment_of(body["id"], student)
    assert again["checkout"] == body["checkout"]


def test_a_second_enrollment_in_the_same_course_is_a_conflict(world):
    student = world.student()
    assert world.enroll(student).status_code == 201
    response = world.enroll(student)
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert "course_slug" in response.get_json()["errors"]
    assert len(world.events("enrollment.pending")) == 1


def test_a_closed_or_made_up_cycle_is_refused_naming_cycle_start(world):
    student = world.student()
    for start in ("2026-01-05", "2031-06-07"):
        response = world.enroll(student, cycle_start=start)
        assert response.status_code == 422, response.get_json()
        assert "cycle_start" in response.get_json()["errors"]
    assert world.events("enrollment.pending") == []


def test_fifty_concurrent_checkouts_for_ten_seats_hold_exactly_ten(world):
    course = world.course(seats_per_cycle=10)
    start = course["cycles"][0]["start"]
    students = [world.student(f"student{i}@example.com") for i in range(50)]

    def checkout(headers):
        return requests.post(
            f"{world.enrollment.url}/api/enrollments",
            json={"course_slug": course["slug"]},
            headers=headers,
            timeout=60,
        )

    with ThreadPoolExecutor(max_workers=25) as pool:
        responses = list(pool.map(checkout, students))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 10, statuses
    assert statuses.count(409) == 40, statuses
    refused = [r.json() for r in responses if r.status_code == 409]
    assert all(p["type"] == "urn:preceptor:cycle-full" for p in refused)
    assert all("cycle_start" in p["errors"] for p in refused)
    assert world.taken(course["slug"], start) == 10
    assert world.seats_left(course["slug"], start) == 0
    assert len(world.events("enrollment.pending")) == 10


def test_payment_succeeded_activates_once_even_when_delivered_twice(world):
    student = world.student()
    enrollment = world.enroll(student).get_json()
    event = succeeded(enrollment)
    world.publish(event)
    world.publish(event)
    body = world.enrollment_of(enrollment["id"], student)
    assert body["status"] == "active" and body["checkout"] is None
    assert body["paid_at"] is not None
    [activated] = world.events("enrollment.activated")
    assert activated["enrollment_id"] == enrollment["id"]
    assert activated["cycle_start"] == enrollment["cycle_start"]
    assert activated["cycle_end"] == enrollment["cycle_end"]
    assert activated["access_ends_on"] == enrollment["access_ends_on"]
    assert activated["payment_id"] == enrollment["checkout"]["payment_id"]
    assert activated["amount_minor"] == 149900


def test_a_failed_payment_keeps_the_enrollment_pending_with_the_reason(world):
    student = world.student()
    enrollment = world.enroll(student).get_json()
    world.publish(payment_event("payment.failed", enrollment, reason="Your card was declined."))
    body = world.enrollment_of(enrollment["id"], student)
    assert body["status"] == "pending_payment"
    assert body["last_payment_error"] == "Your card was declined."
    assert world.events("enrollment.activated") == []


def test_when_payments_is_unreachable_the_hold_is_released_and_the_answer_is_503(
    world, monkeypatch
):
    start = world.client.get(f"/api/courses/{STEP_1}").get_json()["cycles"][0]["start"]
    student = world.student()
    monkeypatch.setenv("PAYMENTS_URL", "http://127.0.0.1:9")
    response = world.enroll(student)
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert world.seats_left(STEP_1, start) == 25
    [cancelled] = world.events("enrollment.cancelled")
    assert cancelled["reason"] == "payments unavailable"
    monkeypatch.setenv("PAYMENTS_URL", world.payments.url)
    assert world.enroll(student).status_code == 201  # nothing left behind blocks a retry


def test_reading_a_pending_enrollment_needs_no_payments_call(world, monkeypatch):
    """The checkout page and each status poll read enrollment alone (issue 14, point 3)."""
    student = world.student()
    enrollment = world.enroll(student).get_json()
    monkeypatch.setenv("PAYMENTS_URL", "http://127.0.0.1:9")  # payments is gone from here on
    again = world.enrollment_of(enrollment["id"], student)
    assert again["status"] == "pending_payment"
    assert again["checkout"] == enrollment["checkout"]


def test_an_enrollment_without_a_kept_checkout_asks_payments_once_and_keeps_it(world, monkeypatch):
    """A pending enrollment from before the checkout was kept locally still reads its checkout."""
    student = world.student()
    enrollment = world.enroll(student).get_json()
    with world.enrollment.runtime.db.session() as s:
        s.execute(
            sa.update(Enrollment)
            .where(Enrollment.id == enrollment["id"])
            .values(checkout_client_secret=None, checkout_payment_id=None)
        )
        s.commit()
    assert world.enrollment_of(enrollment["id"], student)["checkout"] == enrollment["checkout"]
    monkeypatch.setenv("PAYMENTS_URL", "http://127.0.0.1:9")
    assert world.enrollment_of(enrollment["id"], student)["checkout"] == enrollment["checkout"]


def test_payments_events_leave_the_payment_status_on_the_enrollment(world):
    student = world.student()
    enrollment = world.enroll(student).get_json()
    world.publish(payment_event("payment.failed", enrollment, reason="Your card was declined."))
    world.enrollment_of(enrollment["id"], student)
    with world.enrollment.runtime.db.session() as s:
        assert s.get(Enrollment, enrollment["id"]).payment_status == "failed"
    world.publish(succeeded(enrollment))
    assert world.enrollment_of(enrollment["id"], student)["status"] == "active"
    with world.enrollment.runtime.db.session() as s:
        assert s.get(Enrollment, enrollment["id"]).payment_status == "succeeded"
