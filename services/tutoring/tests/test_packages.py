"""Packages of hours: bought through the real payments service, credited, refunded."""

from __future__ import annotations

import uuid

from services.payments.tests.helpers import publish
from services.tutoring.tests.helpers import RATE, World
from shared.testing.fixtures import pump


def test_a_paid_five_hour_package_credits_five_hours_and_is_announced(paid_world: World):
    world = paid_world
    _tutor, tutor_id = world.session_tutor()
    student = world.student()
    package = world.buy(student, tutor_id, hours=5)
    assert (package["hours"], package["amount_minor"], package["currency"]) == (5, 5 * RATE, "USD")
    assert package["checkout"] is None
    assert world.credits(student, tutor_id) == 5
    [event] = world.events("package.purchased")
    assert (event["package_id"], event["hours"], event["tutor_id"]) == (package["id"], 5, tutor_id)
    [mine] = world.client.get("/api/packages", headers=student).get_json()
    assert mine["id"] == package["id"] and mine["status"] == "paid"


def test_a_pending_package_hands_back_the_same_checkout_and_only_to_its_buyer(paid_world: World):
    world = paid_world
    _tutor, tutor_id = world.session_tutor()
    student = world.student()
    r = world.client.post(
        "/api/packages", json={"tutor_id": tutor_id, "hours": 10}, headers=student
    )
    assert r.status_code == 201, r.get_json()
    created = r.get_json()
    assert created["status"] == "pending_payment"
    assert created["amount_minor"] == 10 * RATE * 90 // 100
    again = world.client.get(f"/api/packages/{created['id']}", headers=student).get_json()
    assert again["checkout"]["payment_id"] == created["checkout"]["payment_id"]
    assert again["checkout"]["client_secret"] == created["checkout"]["client_secret"]
    other = world.client.get(f"/api/packages/{created['id']}", headers=world.student("bo@x.org"))
    assert other.status_code == 403
    assert world.credits(student, tutor_id) == 0


def test_a_package_of_an_unsupported_size_or_from_a_tutor_without_a_rate_is_refused(
    paid_world: World,
):
    world = paid_world
    _tutor, tutor_id = world.available_tutor()  # no session rate
    student = world.student()
    r = world.client.post("/api/packages", json={"tutor_id": tutor_id, "hours": 3}, headers=student)
    assert r.status_code == 422 and "hours" in r.get_json()["errors"]
    r = world.client.post("/api/packages", json={"tutor_id": tutor_id, "hours": 5}, headers=student)
    assert r.status_code == 422 and "tutor_id" in r.get_json()["errors"]
    assert world.client.get("/api/packages", headers=student).get_json() == []


def test_a_refund_of_the_package_removes_the_unused_hours_only(paid_world: World):
    world = paid_world
    tutor, tutor_id = world.session_tutor()
    student = world.ready_student(tutor, tutor_id)
    world.session(student, tutor_id)
    assert world.credits(student, tutor_id) == 4
    [package] = world.client.get("/api/packages", headers=student).get_json()
    # What payments answers a refund request with: a real Stripe refund, then payment.refunded.
    publish(
        world.payments,
        "refund.requested",
        {
            "refund_request_id": str(uuid.uuid4()),
            "purchase_ref": f"package:{package['id']}",
            "user_id": package["student_id"],
            "amount_minor": None,
            "reason": "the student asked for their money back",
        },
    )
    pump(world.payments, world.tutoring)
    assert len(world.payments.recorded("payment.refunded")) == 1
    assert world.credits(student, tutor_id) == 0

    body = world.client.get(f"/api/packages/{package['id']}", headers=student).get_json()
    assert (body["status"], body["refunded_hours"]) == ("refunded", 5)
    [session] = world.client.get("/api/sessions", headers=student).get_json()
    assert session["status"] == "booked"
