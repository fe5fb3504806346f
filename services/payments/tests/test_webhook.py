"""Stripe's webhook: signed events only, each applied once, including refunds and disputes."""

from __future__ import annotations

import json
import time
import uuid

import sqlalchemy as sa

from services.payments.models import Payment, StripeEvent
from services.payments.tests.helpers import (
    admin_token,
    bearer,
    intent_id,
    open_payment,
    outbox,
    pay,
    post_webhook,
    purchase,
    refunds,
    signature,
    stripe_client,
    stripe_event,
    stripe_event_count,
)
from shared.testing.observe import sample


def envelopes(svc, event_type: str) -> list[dict]:
    """Whole envelopes (ids included) of the events of that type in the service's outbox."""
    table = svc.runtime.db.tables.outbox
    with svc.runtime.db.session() as s:
        rows = s.execute(sa.select(table.c.payload).where(table.c.type == event_type)).scalars()
        return [json.loads(p) for p in rows]


def paid(stack) -> tuple[dict, dict]:
    """A paid purchase (without a webhook: the test delivers the events itself)."""
    opened = open_payment(stack)
    assert pay(opened["client_secret"]) == "succeeded"
    intent = stripe_client().v1.payment_intents.retrieve(intent_id(opened)).to_dict()
    return opened, intent


def test_the_same_signed_event_delivered_three_times_is_applied_once(stack):
    opened, intent = paid(stack)
    payload = stripe_event("payment_intent.succeeded", intent)

    answers = [post_webhook(stack, payload, signature(payload)) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.json()["duplicate"] for a in answers] == [False, True, True]
    published = outbox(stack.payments, "payment.succeeded")
    assert [e["payment_id"] for e in published] == [opened["payment_id"]]
    assert stripe_event_count(stack.payments) == 1
    with stack.payments.runtime.db.session() as s:  # what the event did, for the record
        outcome = s.scalars(sa.select(StripeEvent.outcome)).one()
        assert outcome == "payment succeeded"
        assert s.get(Payment, opened["payment_id"]).status == "succeeded"


def test_a_bad_or_missing_signature_is_a_400_and_changes_nothing(stack):
    _opened, intent = paid(stack)
    payload = stripe_event("payment_intent.succeeded", intent)
    stale = int(time.time()) - 3600
    for header in (
        None,
        "",
        "t=1,v1=deadbeef",
        signature(payload, secret="whsec_someone_else"),
        signature(payload, at=stale),
        signature(payload + " "),
    ):
        r = post_webhook(stack, payload, header)
        assert r.status_code == 400, header
        assert r.headers["Content-Type"].startswith("application/problem+json")
        assert "Stripe-Signature" in r.json()["errors"]
    assert stripe_event_count(stack.payments) == 0
    assert outbox(stack.payments, "payment.succeeded") == []


def test_an_unknown_event_type_is_recorded_and_ignored(stack):
    payload = stripe_event("customer.updated", {"id": "cus_x", "object": "customer"})
    r = post_webhook(stack, payload, signature(payload))
    assert r.status_code == 200
    assert stripe_event_count(stack.payments) == 1
    assert outbox(stack.payments, "payment.succeeded") == []


def test_a_refund_made_in_stripe_is_published_once_from_charge_refunded(stack):
    opened, intent = paid(stack)
    client = stripe_client()
    refund = client.v1.refunds.create(
        params={"payment_intent": intent["id"], "amount": 50000}
    ).to_dict()
    charge = client.v1.charges.retrieve(refund["charge"]).to_dict()
    # Real Stripe's charge.refunded carries the Charge; its refunds list is not expanded by
    # default since API 2022-11-15, so payments asks Stripe for the refunds of the charge.
    charge.pop("refunds", None)
    charge["amount_refunded"] = 50000
    charge["refunded"] = False
    payload = stripe_event("charge.refunded", charge)

    for _ in range(2):
        assert post_webhook(stack, payload, signature(payload)).status_code == 200
    second = stripe_event("charge.refunded", charge)  # a later event about the same refund
    assert post_webhook(stack, second, signature(second)).status_code == 200

    published = outbox(stack.payments, "payment.refunded")
    assert published == [
        {
            "payment_id": opened["payment_id"],
            "purchase_ref": opened["purchase_ref"],
            "purchase_kind": "enrollment",
            "user_id": published[0]["user_id"],
            "amount_minor": 50000,
            "currency": "USD",
            "refund_id": refund["id"],
            "refund_request_id": None,
        }
    ]
    seen = stack.client.get(
        f"/api/payments/by-purchase/{opened['purchase_ref']}", headers=bearer(stack.service_token)
    ).get_json()
    assert (seen["status"], seen["refunded_minor"]) == ("partially_refunded", 50000)
    assert [r.stripe_refund_id for r in refunds(stack.payments)] == [refund["id"]]


def test_a_dispute_is_published_once_as_payment_disputed(stack):
    opened, intent = paid(stack)
    dispute = {
        "id": f"dp_{uuid.uuid4().hex[:24]}",
        "object": "dispute",
        "amount": 149900,
        "currency": "usd",
        "charge": intent["latest_charge"]["id"],
        "payment_intent": intent["id"],
        "reason": "fraudulent",
        "status": "needs_response",
        "created": int(time.time()),
        "livemode": False,
        "metadata": {},
    }
    payload = stripe_event("charge.dispute.created", dispute)
    for _ in range(2):
        assert post_webhook(stack, payload, signature(payload)).status_code == 200
    other_delivery = stripe_event("charge.dispute.created", dispute)
    assert post_webhook(stack, other_delivery, signature(other_delivery)).status_code == 200

    published = outbox(stack.payments, "payment.disputed")
    assert len(published) == 1
    assert published[0]["payment_id"] == opened["payment_id"]
    assert published[0]["reason"] == "fraudulent"


def test_a_signed_body_that_is_not_json_is_a_400(stack):
    payload = "this is not json"
    r = post_webhook(stack, payload, signature(payload))
    assert r.status_code == 400
    assert stripe_event_count(stack.payments) == 0
    assert json.loads(r.text)["status"] == 400


def test_each_webhook_outcome_is_counted_on_metrics(stack):
    def count(outcome: str) -> float:
        scraped = stack.payments.client.get("/metrics").data
        return sample(scraped, "preceptor_stripe_events_total", source="webhook", outcome=outcome)

    _opened, intent = paid(stack)
    payload = stripe_event("payment_intent.succeeded", intent)
    not_ours = stripe_event("payment_intent.succeeded", {**intent, "id": "pi_someone_elses"})
    before = {o: count(o) for o in ("applied", "duplicate", "ignored", "rejected")}

    post_webhook(stack, payload, signature(payload))
    post_webhook(stack, payload, signature(payload))
    post_webhook(stack, not_ours, signature(not_ours))
    post_webhook(stack, payload, "t=1,v1=deadbeef")

    moved = {o: count(o) - before[o] for o in before}
    assert moved == {"applied": 1, "duplicate": 1, "ignored": 1, "rejected": 1}


def test_events_a_webhook_causes_carry_the_checkouts_correlation_id(stack):
    r = stack.client.post(
        "/api/payment-intents",
        json=purchase(),
        headers={**bearer(stack.service_token), "X-Correlation-ID": "checkout-7f3a"},
    )
    assert r.status_code == 201, r.get_json()
    opened = r.get_json()
    assert pay(opened["client_secret"]) == "succeeded"
    intent = stripe_client().v1.payment_intents.retrieve(intent_id(opened)).to_dict()
    payload = stripe_event("payment_intent.succeeded", intent)

    answer = post_webhook(stack, payload, signature(payload))

    assert answer.status_code == 200
    [envelope] = envelopes(stack.payments, "payment.succeeded")
    assert envelope["correlation_id"] == "checkout-7f3a"
    assert envelope["causation_id"] == json.loads(payload)["id"]


def _flagged(stack) -> list[dict]:
    ledger = stack.client.get("/api/admin/ledger", headers=bearer(admin_token(stack.identity)))
    assert ledger.status_code == 200, ledger.get_json()
    return ledger.get_json()["flagged_events"]


def test_a_signed_success_for_another_amount_or_currency_is_recorded_and_flagged_not_applied(
    stack, caplog
):
    opened, intent = paid(stack)

    def flagged_count() -> float:
        scraped = stack.payments.client.get("/metrics").data
        return sample(scraped, "preceptor_stripe_events_total", source="webhook", outcome="flagged")

    before = flagged_count()
    changed = [
        {**intent, "amount": intent["amount"] - 100},
        {**intent, "currency": "eur"},
        {**intent, "amount": "149900x"},
    ]
    payloads = [stripe_event("payment_intent.succeeded", obj) for obj in changed]
    for payload in payloads:
        answer = post_webhook(stack, payload, signature(payload))
        assert answer.status_code == 200, answer.text  # received: Stripe must not retry it

    assert outbox(stack.payments, "payment.succeeded") == []
    seen = stack.client.get(
        f"/api/payments/by-purchase/{opened['purchase_ref']}", headers=bearer(stack.service_token)
    ).get_json()
    assert seen["status"] != "succeeded"
    flagged = _flagged(stack)
    assert sorted(f["stripe_event_id"] for f in flagged) == sorted(
        json.loads(p)["id"] for p in payloads
    )
    assert all(f["outcome"].startswith("flagged: ") for f in flagged)
    assert any("USD" in f["outcome"] and "eur" in f["outcome"] for f in flagged)
    assert flagged_count() - before == 3
    assert [r.levelname for r in caplog.records if "flagged" in r.getMessage()] == ["ERROR"] * 3

    # The true event still applies, once.
    payload = stripe_event("payment_intent.succeeded", intent)
    assert post_webhook(stack, payload, signature(payload)).status_code == 200
    assert [e["payment_id"] for e in outbox(stack.payments, "payment.succeeded")] == [
        opened["payment_id"]
    ]


def test_a_signed_refund_of_a_charge_in_another_currency_is_flagged_not_applied(stack):
    _opened, intent = paid(stack)
    client = stripe_client()
    refund = client.v1.refunds.create(
        params={"payment_intent": intent["id"], "amount": 50000}
    ).to_dict()
    charge = client.v1.charges.retrieve(refund["charge"]).to_dict()
    charge.pop("refunds", None)
    payload = stripe_event("charge.refunded", {**charge, "currency": "jpy"})
    assert post_webhook(stack, payload, signature(payload)).status_code == 200
    assert outbox(stack.payments, "payment.refunded") == []
    assert refunds(stack.payments) == []
    assert [f["stripe_event_id"] for f in _flagged(stack)] == [json.loads(payload)["id"]]
