"""Refund requests from the bus, and reconciliation of events no webhook delivered."""

from __future__ import annotations

import uuid

from services.payments import worker
from services.payments.tests.helpers import (
    admin_token,
    bearer,
    intent_id,
    open_payment,
    outbox,
    pay,
    publish,
    refunds,
    stripe_client,
    stripe_event_count,
)
from services.payments.worker import register_local_webhook
from shared.testing.fixtures import free_port, pump


def paid_and_known(stack) -> dict:
    """A paid purchase that payments has learned about (by reconciliation)."""
    opened = open_payment(stack)
    assert pay(opened["client_secret"]) == "succeeded"
    worker.reconcile(stack.payments.runtime)
    assert [e["payment_id"] for e in outbox(stack.payments, "payment.succeeded")] == [
        opened["payment_id"]
    ]
    return opened


def stripe_refunds(opened: dict) -> list[dict]:
    listed = stripe_client().v1.refunds.list(params={"payment_intent": intent_id(opened)})
    return [r.to_dict() for r in listed.data]


def request(opened: dict, amount_minor: int | None = None, request_id: str | None = None) -> dict:
    return {
        "refund_request_id": request_id or str(uuid.uuid4()),
        "purchase_ref": opened["purchase_ref"],
        "user_id": "someone",
        "amount_minor": amount_minor,
        "reason": "asked inside the refund window",
    }


def disable_webhook() -> None:
    """Point localstripe's webhook at a port nobody listens on: only reconciliation is left."""
    register_local_webhook(f"http://127.0.0.1:{free_port()}")


def test_a_refund_request_refunds_once_in_stripe_and_publishes_payment_refunded(stack):
    disable_webhook()
    opened = paid_and_known(stack)
    data = request(opened)

    publish(stack.payments, "refund.requested", data)
    pump(stack.payments)

    made = stripe_refunds(opened)
    assert len(made) == 1 and made[0]["amount"] == 149900
    assert made[0]["metadata"]["refund_request_id"] == data["refund_request_id"]
    published = outbox(stack.payments, "payment.refunded")
    assert len(published) == 1
    assert published[0]["refund_request_id"] == data["refund_request_id"]
    assert published[0]["refund_id"] == made[0]["id"]
    assert published[0]["amount_minor"] == 149900
    # The admin's ledger says which payment it gave back, in its currency: who paid, for what.
    ledger = stack.client.get("/api/admin/ledger", headers=bearer(admin_token(stack.identity)))
    [refund] = ledger.get_json()["refunds"]
    assert {k: refund[k] for k in ("payment_id", "currency", "amount_minor", "name", "email")} == {
        "payment_id": opened["payment_id"],
        "currency": "USD",
        "amount_minor": 149900,
        "name": "Sam Student",
        "email": "sam@example.com",
    }
    assert refund["description"] == "USMLE Step 1 Prep, cycle of 2026-02-02"


def test_the_same_refund_request_twice_makes_one_refund(stack):
    disable_webhook()
    opened = paid_and_known(stack)
    data = request(opened, amount_minor=40000)

    publish(stack.payments, "refund.requested", data)
    publish(stack.payments, "refund.requested", data)  # re-sent as a new event
    pump(stack.payments)

    assert len(stripe_refunds(opened)) == 1
    assert len(outbox(stack.payments, "payment.refunded")) == 1
    assert [r.refund_request_id for r in refunds(stack.payments)] == [data["refund_request_id"]]


def test_a_refund_larger_than_what_is_left_is_refused_and_recorded(stack):
    disable_webhook()
    opened = paid_and_known(stack)
    first = request(opened, amount_minor=100000)
    too_much = request(opened, amount_minor=100000)
    everything = request(opened)  # the rest: 49900

    publish(stack.payments, "refund.requested", first)
    pump(stack.payments)
    publish(stack.payments, "refund.requested", too_much)
    pump(stack.payments)
    publish(stack.payments, "refund.requested", everything)
    pump(stack.payments)
    publish(stack.payments, "refund.requested", request(opened))  # nothing left
    pump(stack.payments)

    assert sorted(r["amount"] for r in stripe_refunds(opened)) == [49900, 100000]
    rows = {r.refund_request_id: r for r in refunds(stack.payments)}
    assert rows[too_much["refund_request_id"]].status == "refused"
    assert "only 49900 of 149900 is left" in rows[too_much["refund_request_id"]].error
    assert rows[everything["refund_request_id"]].amount_minor == 49900
    assert sum(r.status == "refused" for r in rows.values()) == 2
    assert [e["amount_minor"] for e in outbox(stack.payments, "payment.refunded")] == [
        100000,
        49900,
    ]


def test_reconciliation_finds_a_payment_no_webhook_reported_once(stack):
    disable_webhook()
    opened = open_payment(stack)
    assert pay(opened["client_secret"]) == "succeeded"
    assert outbox(stack.payments, "payment.succeeded") == []

    assert worker.reconcile(stack.payments.runtime) >= 1
    seen = stripe_event_count(stack.payments)
    assert worker.reconcile(stack.payments.runtime) == 0

    published = outbox(stack.payments, "payment.succeeded")
    assert [e["payment_id"] for e in published] == [opened["payment_id"]]
    assert stripe_event_count(stack.payments) == seen
