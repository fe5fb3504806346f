"""Packages of hours: bought through the real payments service, credited, refunded."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from services.payments.tests.helpers import publish
from services.tutoring.models import Package
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


def _pending_package(world: World, student: dict[str, str], tutor_id: str) -> dict:
    r = world.client.post("/api/packages", json={"tutor_id": tutor_id, "hours": 5}, headers=student)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _package_of(world: World, package_id: str, student: dict[str, str]) -> dict:
    r = world.client.get(f"/api/packages/{package_id}", headers=student)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_reading_a_pending_package_needs_no_payments_call(
    paid_world: World, monkeypatch: pytest.MonkeyPatch
):
    """A pending package's page reads tutoring alone (issue 14, point 3)."""
    world = paid_world
    _tutor, tutor_id = world.session_tutor()
    student = world.student()
    created = _pending_package(world, student, tutor_id)
    monkeypatch.setenv("PAYMENTS_URL", "http://127.0.0.1:9")  # payments is gone from here on
    again = _package_of(world, created["id"], student)
    assert again["status"] == "pending_payment"
    assert again["checkout"] == created["checkout"]


def test_a_package_without_a_kept_checkout_asks_payments_once_and_keeps_it(
    paid_world: World, monkeypatch: pytest.MonkeyPatch
):
    """A pending package from before the checkout was kept locally still reads its checkout."""
    world = paid_world
    _tutor, tutor_id = world.session_tutor()
    student = world.student()
    created = _pending_package(world, student, tutor_id)
    with world.tutoring.runtime.db.session() as s:
        s.execute(
            sa.update(Package)
            .where(Package.id == created["id"])
            .values(checkout_client_secret=None, checkout_payment_id=None)
        )
        s.commit()
    assert _package_of(world, created["id"], student)["checkout"] == created["checkout"]
    monkeypatch.setenv("PAYMENTS_URL", "http://127.0.0.1:9")
    assert _package_of(world, created["id"], student)["checkout"] == created["checkout"]


def test_when_payments_is_unreachable_the_package_is_cancelled_and_the_answer_is_503(
    paid_world: World, monkeypatch: pytest.MonkeyPatch
):
    world = paid_world
    _tutor, tutor_id = world.session_tutor()
    student = world.student()
    monkeypatch.setenv("PAYMENTS_URL", "http://127.0.0.1:9")
    r = world.client.post("/api/packages", json={"tutor_id": tutor_id, "hours": 5}, headers=student)
    assert r.status_code == 503
    [package] = world.client.get("/api/packages", headers=student).get_json()
    assert (package["status"], package["checkout"]) == ("cancelled", None)


def test_payments_events_leave_the_payment_status_on_the_package(paid_world: World):
    world = paid_world
    _tutor, tutor_id = world.session_tutor()
    student = world.student()
    package = world.buy(student, tutor_id, hours=5)
    with world.tutoring.runtime.db.session() as s:
        assert s.get(Package, package["id"]).payment_status == "succeeded"


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
