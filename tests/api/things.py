"""Real things for the hardening tests to name in paths: a course, an enrollment, a campaign,
a payment, time off, a testimonial, each made through the API by the person who would."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import date, timedelta

from services.tutoring.tests.helpers import start_meeting
from shared.testing.fixtures import ServiceUnderTest
from tests.api.callers import Caller


def _ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.get_json()
    return response.get_json()


def things_of_email(svc: ServiceUnderTest, people: dict[str, Caller]) -> dict[str, str]:
    admin = people["admin"].headers
    audience = _ok(svc.client.get("/api/admin/audiences", headers=admin))[0]
    campaign = svc.client.post(
        "/api/admin/campaigns",
        json={"subject": "Hello", "body_markdown": "Hello.", "audience": audience["key"]},
        headers=admin,
    )
    return {"campaign_id": _ok(campaign, 201)["id"]}


def things_of_enrollment(svc: ServiceUnderTest, people: dict[str, Caller]) -> dict[str, str]:
    course = svc.client.post(
        "/api/admin/courses",
        json={
            "slug": "matrix-course",
            "title": "Matrix Course",
            "price_minor": 0,
            "currency": "USD",
            "cycle_length_days": 28,
            "cadence_days": 28,
            "anchor_date": "2030-01-07",
            "seats_per_cycle": 10,
            "access_days": 60,
            "refund_window_days": 14,
            "published": True,
        },
        headers=people["admin"].headers,
    )
    course = _ok(course, 201)
    start = course["cycles"][0]["start"]
    enrollment = svc.client.post(
        "/api/enrollments",
        json={"course_slug": course["slug"], "cycle_start": start},
        headers=people["student"].headers,
    )
    return {"slug": course["slug"], "start": start, "enrollment_id": _ok(enrollment, 201)["id"]}


def things_of_payments(svc: ServiceUnderTest, people: dict[str, Caller]) -> dict[str, str]:
    purchase_ref = f"matrix-{uuid.uuid4()}"
    opened = svc.client.post(
        "/api/payment-intents",
        json={
            "purchase_ref": purchase_ref,
            "purchase_kind": "enrollment",
            "user_id": str(uuid.uuid4()),
            "email": "sam@example.com",
            "name": "Sam Student",
            "amount_minor": 1000,
            "currency": "USD",
        },
        headers=people["service"].headers,
    )
    return {"payment_id": _ok(opened, 201)["payment_id"], "purchase_ref": purchase_ref}


def things_of_tutoring(svc: ServiceUnderTest, people: dict[str, Caller]) -> dict[str, str]:
    tutor = people["tutor"].headers
    time_off = svc.client.post(
        "/api/tutors/me/time-off",
        json={"starts_at": "2030-01-07T09:00:00+00:00", "ends_at": "2030-01-08T09:00:00+00:00"},
        headers=tutor,
    )
    tutor_id = _ok(svc.client.get("/api/tutors/me", headers=tutor))["id"]
    return {
        "tutor_id": tutor_id,
        "time_off_id": _ok(time_off, 201)["id"],
        **_tutoring_plan(svc, people, tutor_id),
    }


def _tutoring_plan(svc: ServiceUnderTest, people: dict[str, Caller], tutor_id: str) -> dict:
    """The student's completed consultation with the tutor, its plan, a result on it."""
    tutor, student = people["tutor"].headers, people["student"].headers
    every_day = [{"weekday": d, "start": "00:00", "end": "23:59"} for d in range(7)]
    _ok(svc.client.put("/api/tutors/me/availability", json={"weekly": every_day}, headers=tutor))
    slot = _ok(svc.client.get(f"/api/tutors/{tutor_id}/slots?kind=consultation"))[1]
    intake = {
        "exam": "step1",
        "exam_date": (date.today() + timedelta(days=120)).isoformat(),
        "attempts": 0,
        "weekly_hours": 30,
        "weak_areas": ["renal"],
    }
    booked = svc.client.post(
        "/api/consultations",
        json={"tutor_id": tutor_id, "starts_at": slot["starts_at"], "time_zone": "UTC",
              "intake": intake},
        headers=student,
    )  # fmt: skip
    consultation_id = _ok(booked, 201)["id"]
    start_meeting(svc, consultation_id)  # held only once it has begun
    _ok(svc.client.post(f"/api/consultations/{consultation_id}/complete", json={}, headers=tutor))
    made = svc.client.post(
        f"/api/consultations/{consultation_id}/plan", json={"areas": ["renal"]}, headers=tutor
    )
    plan_id = _ok(made, 201)["id"]
    today = _ok(svc.client.get(f"/api/plans/{plan_id}/progress", headers=student))["today"]
    result = svc.client.post(
        f"/api/plans/{plan_id}/results",
        json={"form_id": "uwsa-step1", "taken_on": today, "score": 55},
        headers=student,
    )
    return {
        "consultation_id": consultation_id,
        "plan_id": plan_id,
        "result_id": _ok(result, 201)["id"],
        "form_id": "uwsa-step1",
    }


def things_of_testimonials(svc: ServiceUnderTest, people: dict[str, Caller]) -> dict[str, str]:
    program = _ok(svc.client.get("/api/programs"))[0]
    submitted = svc.client.post(
        "/api/testimonials",
        json={
            "display_name": "Sam S.",
            "program": program["program"],
            "story": "The weekly self-assessments showed me where my renal physiology was weak.",
            "rating": 5,
            "consent": True,
        },
        headers=people["student"].headers,
    )
    return {"testimonial_id": _ok(submitted, 201)["id"]}


THINGS: dict[str, Callable[[ServiceUnderTest, dict[str, Caller]], dict[str, str]]] = {
    "email": things_of_email,
    "enrollment": things_of_enrollment,
    "payments": things_of_payments,
    "tutoring": things_of_tutoring,
    "testimonials": things_of_testimonials,
}


def fill_path(path: str, things: dict[str, str]) -> str:
    """The path with each parameter naming a real thing where there is one, else a new id."""
    return re.sub(r"\{([^}]+)\}", lambda m: things.get(m.group(1), str(uuid.uuid4())), path)
