"""After checkout: holds expiring, late payments, refunds, deferral, waitlists, promos, jobs."""

from __future__ import annotations

from datetime import date, timedelta

from services.enrollment import worker
from services.enrollment.tests.helpers import STEP_1, payment_event, succeeded
from services.enrollment.use_cases import jobs
from shared.db import utcnow


def _active(world, headers, slug=STEP_1, **body):
    enrollment = world.enroll(headers, slug, **body).get_json()
    world.publish(succeeded(enrollment))
    return world.enrollment_of(enrollment["id"], headers)


def _expire_hold(world, enrollment_id):
    world.set_enrollment(enrollment_id, hold_expires_at=utcnow() - timedelta(minutes=1))
    return worker.sweep_expired_holds(world.enrollment.runtime)


def test_a_lapsed_hold_expires_releases_the_seat_and_says_so(world):
    student = world.student()
    enrollment = world.enroll(student).get_json()
    start = enrollment["cycle_start"]
    assert world.seats_left(STEP_1, start) == 24
    assert _expire_hold(world, enrollment["id"]) == 1
    assert world.enrollment_of(enrollment["id"], student)["status"] == "expired"
    assert world.seats_left(STEP_1, start) == 25
    [expired] = world.events("enrollment.expired")
    assert expired["enrollment_id"] == enrollment["id"]
    assert _expire_hold(world, enrollment["id"]) == 0  # released once, not twice
    assert world.taken(STEP_1, start) == 0


def test_a_hold_whose_payment_is_already_in_is_not_expired(world):
    enrollment = world.enroll(world.student()).get_json()
    ref = f"enrollment:{enrollment['id']}"
    world.payments.pay(ref, enrollment["checkout"]["client_secret"])
    assert _expire_hold(world, enrollment["id"]) == 0
    assert world.events("enrollment.expired") == []


def test_a_payment_after_the_seat_was_given_away_is_refunded(world):
    course = world.course(seats_per_cycle=1)
    first, second = world.student("first@example.com"), world.student("second@example.com")
    late = world.enroll(first, course["slug"]).get_json()
    _expire_hold(world, late["id"])
    assert world.enroll(second, course["slug"]).status_code == 201
    world.publish(succeeded(late))
    world.publish(succeeded(late))  # announced again (another event): the same request
    assert world.enrollment_of(late["id"], first)["status"] == "expired"
    refund, again = world.events("refund.requested")
    assert refund["purchase_ref"] == f"enrollment:{late['id']}"
    assert refund["amount_minor"] == 50000
    assert again["refund_request_id"] == refund["refund_request_id"]
    assert world.events("enrollment.activated") == []
    assert world.taken(course["slug"], late["cycle_start"]) == 1


def test_a_refund_inside_the_window_ends_the_enrollment_when_payments_confirms(world):
    student = world.student()
    enrollment = _active(world, student)
    start = enrollment["cycle_start"]
    response = world.client.post(
        f"/api/enrollments/{enrollment['id']}/refund", json={}, headers=student
    )
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["status"] == "active"
    assert response.get_json()["refund_requested"] is True
    assert response.get_json()["allowed_actions"] == []  # no deferral while the money goes back
    [requested] = world.events("refund.requested")
    assert requested["purchase_ref"] == f"enrollment:{enrollment['id']}"
    assert requested["amount_minor"] == 149900
    again = world.client.post(
        f"/api/enrollments/{enrollment['id']}/refund", json={}, headers=student
    )
    assert again.status_code == 409
    world.publish(
        payment_event(
            "payment.refunded",
            enrollment,
            refund_id="re_contract_1",
            refund_request_id=requested["refund_request_id"],
        )
    )
    body = world.enrollment_of(enrollment["id"], student)
    assert (body["status"], body["refunded_minor"]) == ("refunded", 149900)
    assert body["refunded_at"] is not None and body["allowed_actions"] == []
    assert world.seats_left(STEP_1, start) == 25
    [refunded] = world.events("enrollment.refunded")
    assert refunded["amount_minor"] == 149900


def test_a_refund_outside_the_window_is_refused_plainly_and_records_nothing(world):
    # the cycle starting today is open, and a window of 0 days closed at midnight
    course = world.course(anchor_date=utcnow().date().isoformat(), refund_window_days=0)
    student = world.student()
    enrollment = _active(world, student, course["slug"])
    assert enrollment["cycle_start"] == utcnow().date().isoformat()
    response = world.client.post(
        f"/api/enrollments/{enrollment['id']}/refund", json={}, headers=student
    )
    assert response.status_code == 422
    problem = response.get_json()
    assert problem["type"] == "urn:preceptor:outside-refund-window"
    assert "Refunds for this cycle were possible until" in problem["detail"]
    assert world.events("refund.requested") == []
    after = world.enrollment_of(enrollment["id"], student)
    assert after["refund_requested"] is False
    assert "refund" not in after["allowed_actions"]  # the page offers no refund it would refuse


def test_a_deferral_moves_the_seat_once_and_a_second_is_refused(world):
    student = world.student()
    enrollment = _active(world, student)
    assert enrollment["allowed_actions"] == ["defer", "refund"]
    cycles = world.client.get(f"/api/courses/{STEP_1}").get_json()["cycles"]
    old, new, later = cycles[0]["start"], cycles[1]["start"], cycles[2]["start"]
    assert (world.taken(STEP_1, old), world.taken(STEP_1, new)) == (1, None)
    response = world.client.post(
        f"/api/enrollments/{enrollment['id']}/defer", json={"cycle_start": new}, headers=student
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["cycle_start"], body["deferred_from"], body["status"]) == (new, old, "active")
    assert body["allowed_actions"] == ["refund"]  # the one deferral is used
    assert (world.taken(STEP_1, old), world.taken(STEP_1, new)) == (0, 1)
    [deferred] = world.events("enrollment.deferred")
    assert (deferred["from_cycle_start"], deferred["cycle_start"]) == (old, new)
    assert deferred["access_ends_on"] == (date.fromisoformat(new) + timedelta(days=120)).isoformat()
    second = world.client.post(
        f"/api/enrollments/{enrollment['id']}/defer", json={"cycle_start": later}, headers=student
    )
    assert second.status_code == 409
    assert second.get_json()["type"] == "urn:preceptor:already-deferred"
    assert (world.taken(STEP_1, new), world.taken(STEP_1, later)) == (1, None)
    assert len(world.events("enrollment.deferred")) == 1


def test_a_freed_seat_in_a_full_cycle_is_held_for_the_first_on_its_waitlist(world):
    course = world.course(seats_per_cycle=1)
    slug, start = course["slug"], course["cycles"][0]["start"]
    holder = world.student("holder@example.com")
    first, second = world.student("first@example.com"), world.student("second@example.com")
    held = world.enroll(holder, slug).get_json()
    assert world.enroll(first, slug).status_code == 409
    waitlist = f"/api/courses/{slug}/cycles/{start}/waitlist"
    joined = world.client.post(waitlist, json={}, headers=first)
    assert joined.status_code == 201, joined.get_json()
    assert joined.get_json()["position"] == 1
    assert world.client.post(waitlist, json={}, headers=second).get_json()["position"] == 2
    assert world.client.post(waitlist, json={}, headers=first).status_code == 409
    _expire_hold(world, held["id"])
    [offer] = world.client.get("/api/enrollments", headers=first).get_json()
    assert (offer["status"], offer["from_waitlist"], offer["cycle_start"]) == (
        "pending_payment",
        True,
        start,
    )
    assert world.client.get("/api/enrollments", headers=second).get_json() == []
    assert world.taken(slug, start) == 1
    [offered] = world.events("enrollment.waitlist_offered")
    assert (offered["enrollment_id"], offered["email"]) == (offer["id"], "first@example.com")
    assert offered["amount_minor"] == 50000
    assert world.enrollment_of(offer["id"], first)["checkout"]["client_secret"]


def test_joining_the_waitlist_of_a_cycle_with_seats_is_refused(world):
    start = world.client.get(f"/api/courses/{STEP_1}").get_json()["cycles"][0]["start"]
    response = world.client.post(
        f"/api/courses/{STEP_1}/cycles/{start}/waitlist", json={}, headers=world.student()
    )
    assert response.status_code == 409
    assert "cycle_start" in response.get_json()["errors"]


def test_a_promo_code_at_its_limit_is_refused_and_a_full_discount_needs_no_payment(world):
    admin = world.admin()
    for code in (
        {"code": "ONCE10", "kind": "percent", "value": 10, "max_redemptions": 1},
        {"code": "free100", "kind": "percent", "value": 100},
    ):
        response = world.client.post("/api/admin/promo-codes", json=code, headers=admin)
        assert response.status_code == 201, response.get_json()
    first = world.enroll(world.student("a@example.com"), promo_code="once10")
    assert first.status_code == 201
    assert first.get_json()["amount_minor"] == 134910
    # The checkout names what the code took off: list price, code, discount, total.
    priced = {k: first.get_json()[k] for k in ("list_price_minor", "promo_code", "discount_minor")}
    assert priced == {"list_price_minor": 149900, "promo_code": "ONCE10", "discount_minor": 14990}
    refused = world.enroll(world.student("b@example.com"), promo_code="ONCE10")
    assert refused.status_code == 422
    assert refused.get_json()["type"] == "urn:preceptor:promo-exhausted"
    assert "promo_code" in refused.get_json()["errors"]
    unknown = world.enroll(world.student("c@example.com"), promo_code="NOPE")
    assert unknown.status_code == 422 and "promo_code" in unknown.get_json()["errors"]
    free = world.enroll(world.student("d@example.com"), promo_code="FREE100")
    assert free.status_code == 201
    body = free.get_json()
    assert (body["status"], body["amount_minor"], body["checkout"]) == ("active", 0, None)
    assert world.payments.payment_for(f"enrollment:{body['id']}") is None
    activated = [
        e for e in world.events("enrollment.activated") if e["enrollment_id"] == body["id"]
    ]
    assert [(e["amount_minor"], e["payment_id"]) for e in activated] == [(0, None)]
    codes = world.client.get("/api/admin/promo-codes", headers=admin).get_json()
    assert {c["code"]: c["redemptions"] for c in codes} == {"ONCE10": 1, "FREE100": 1}


def test_access_notice_and_completion_are_sent_once(world):
    student = world.student()
    enrollment = _active(world, student)
    access_ends = date.fromisoformat(enrollment["access_ends_on"])
    uow = world.enrollment.runtime.uow
    notice_time = utcnow().replace(
        year=access_ends.year, month=access_ends.month, day=access_ends.day
    ) - timedelta(days=3)
    assert jobs.send_access_notices(uow, now=notice_time - timedelta(days=10)) == 0
    assert jobs.send_access_notices(uow, now=notice_time) == 1
    assert jobs.send_access_notices(uow, now=notice_time + timedelta(days=1)) == 0
    [notice] = world.events("enrollment.access_expiring")
    assert notice["access_ends_on"] == enrollment["access_ends_on"]
    assert jobs.complete_finished(uow, now=notice_time) == 0
    assert jobs.complete_finished(uow, now=notice_time + timedelta(days=3)) == 1
    assert jobs.complete_finished(uow, now=notice_time + timedelta(days=4)) == 0
    assert len(world.events("enrollment.completed")) == 1
    assert world.enrollment_of(enrollment["id"], student)["status"] == "completed"
    # the worker's hourly job runs both with today's date: nothing is due today
    assert worker.access_and_completion(world.enrollment.runtime) == {"notices": 0, "completed": 0}
