"""Who may call what, and bad input answered as problem+json naming the field."""

from __future__ import annotations

import pytest

from services.payments.tests.helpers import (
    admin_token,
    bearer,
    open_payment,
    post_webhook,
    purchase,
    student,
)


def test_only_a_service_may_open_a_payment(stack):
    _user_id, student_token = student(stack.identity, "sam@example.com")
    body = purchase()
    assert stack.client.post("/api/payment-intents", json=body).status_code == 401
    refused = stack.client.post("/api/payment-intents", json=body, headers=bearer(student_token))
    assert refused.status_code == 403
    assert refused.mimetype == "application/problem+json"
    admin = stack.client.post(
        "/api/payment-intents", json=body, headers=bearer(admin_token(stack.identity))
    )
    assert admin.status_code == 403


def test_a_student_sees_their_own_payment_but_not_anyone_elses(stack):
    owner_id, owner_token = student(stack.identity, "owner@example.com")
    _other_id, other_token = student(stack.identity, "other@example.com")
    opened = open_payment(stack, user_id=owner_id)
    path = f"/api/payments/by-purchase/{opened['purchase_ref']}"

    mine = stack.client.get(path, headers=bearer(owner_token))
    assert mine.status_code == 200
    assert mine.get_json() == {
        "payment_id": opened["payment_id"],
        "purchase_ref": opened["purchase_ref"],
        "status": "requires_payment",
        "amount_minor": 149900,
        "currency": "USD",
        "refunded_minor": 0,
    }
    assert stack.client.get(path, headers=bearer(other_token)).status_code == 404
    assert stack.client.get(path).status_code == 401
    unknown = stack.client.get("/api/payments/by-purchase/nope", headers=bearer(owner_token))
    assert unknown.status_code == 404


def test_the_ledger_is_for_admins_only(stack):
    opened = open_payment(stack)
    _id, student_token = student(stack.identity, "sam@example.com")
    assert stack.client.get("/api/admin/ledger").status_code == 401
    assert stack.client.get("/api/admin/ledger", headers=bearer(student_token)).status_code == 403
    assert (
        stack.client.get("/api/admin/ledger", headers=bearer(stack.service_token)).status_code
        == 403
    )
    ledger = stack.client.get("/api/admin/ledger", headers=bearer(admin_token(stack.identity)))
    assert ledger.status_code == 200
    body = ledger.get_json()
    assert [p["payment_id"] for p in body["payments"]] == [opened["payment_id"]]
    # The admin's Payments page names the customer and the purchase from these.
    [payment] = body["payments"]
    assert (payment["name"], payment["email"]) == ("Sam Student", "sam@example.com")
    assert payment["description"] == "USMLE Step 1 Prep, cycle of 2026-02-02"
    assert body["refunds"] == [] and body["disputes"] == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("purchase_ref", ""),
        ("purchase_ref", "x" * 101),
        ("purchase_kind", "groceries"),
        ("user_id", None),
        ("email", "not-an-email"),
        ("name", "   "),
        ("amount_minor", 0),
        ("amount_minor", -5),
        ("amount_minor", "100"),
        ("amount_minor", 1.5),
        ("amount_minor", 2**31),  # past the database's integer: was a 500
        ("currency", "dollars"),
        ("description", "d" * 501),
        ("surprise", "unknown field"),
    ],
)
def test_bad_payment_intent_input_is_a_422_naming_the_field(stack, field, value):
    body = purchase()
    body[field] = value
    r = stack.client.post("/api/payment-intents", json=body, headers=bearer(stack.service_token))
    assert r.status_code == 422
    assert r.mimetype == "application/problem+json"
    assert field in r.get_json()["errors"]
    ledger = stack.client.get("/api/admin/ledger", headers=bearer(admin_token(stack.identity)))
    assert ledger.get_json()["payments"] == []


def test_a_missing_field_and_a_non_json_body_are_4xx_problems(stack):
    body = purchase()
    del body["amount_minor"]
    headers = bearer(stack.service_token)
    missing = stack.client.post("/api/payment-intents", json=body, headers=headers)
    assert missing.status_code == 422 and "amount_minor" in missing.get_json()["errors"]
    form = stack.client.post("/api/payment-intents", data={"a": "b"}, headers=headers)
    assert form.status_code == 415
    broken = stack.client.post(
        "/api/payment-intents",
        data="{not json",
        headers={**headers, "Content-Type": "application/json"},
    )
    assert 400 <= broken.status_code < 500
    assert broken.mimetype == "application/problem+json"


def test_a_bad_ledger_limit_is_a_422_naming_limit(stack):
    r = stack.client.get("/api/admin/ledger?limit=0", headers=bearer(admin_token(stack.identity)))
    assert r.status_code == 422
    assert "limit" in r.get_json()["errors"]


def test_the_webhook_takes_a_raw_body_without_a_json_content_type(stack):
    r = post_webhook(stack, "t=1", None)
    assert r.status_code == 400  # refused for its signature, not for its content type
    assert "Stripe-Signature" in r.json()["errors"]


def test_ids_beyond_ascii_open_one_payment_once(stack):
    """Stripe's Idempotency-Key is an ASCII header: a purchase_ref or user id with other
    characters made the call fail and payments answered 503 (schemathesis found it)."""
    body = purchase(purchase_ref="enr-ünïcødé-🩺", user_id="ü-👩‍⚕️")
    headers = bearer(stack.service_token)
    first = stack.client.post("/api/payment-intents", json=body, headers=headers)
    assert first.status_code == 201, first.get_json()
    again = stack.client.post("/api/payment-intents", json=body, headers=headers)
    assert again.status_code == 200
    assert again.get_json()["payment_id"] == first.get_json()["payment_id"]
