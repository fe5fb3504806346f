"""Opening a payment, paying it, and learning the outcome from Stripe's webhook."""

from __future__ import annotations

import json

from kombu import Queue

from services.payments.tests.helpers import (
    bearer,
    intent_id,
    open_payment,
    outbox,
    pay,
    purchase,
    stripe_client,
)
from services.payments.worker import register_local_webhook
from shared.testing.fixtures import wait_for


def test_a_purchase_gets_one_payment_intent_however_often_it_is_asked_for(stack):
    body = purchase()
    first = stack.client.post(
        "/api/payment-intents", json=body, headers=bearer(stack.service_token)
    )
    again = stack.client.post(
        "/api/payment-intents", json=body, headers=bearer(stack.service_token)
    )

    assert first.status_code == 201
    assert again.status_code == 200
    opened = first.get_json()
    assert again.get_json() == opened
    assert opened["client_secret"].startswith("pi_")
    assert opened["status"] == "requires_payment"
    assert (opened["amount_minor"], opened["currency"]) == (149900, "USD")
    assert opened["publishable_key"] == "pk_test_preceptor_tests"
    assert opened["js_url"].endswith("/js.stripe.com/v3/")

    client = stripe_client()
    intents = [
        pi
        for pi in client.v1.payment_intents.list(params={"limit": 100}).auto_paging_iter()
        if pi.to_dict()["metadata"].get("purchase_ref") == body["purchase_ref"]
    ]
    assert [pi.id for pi in intents] == [intent_id(opened)]
    intent = intents[0]
    assert intent.amount == 149900 and intent.currency == "usd"
    assert intent.metadata["payment_id"] == opened["payment_id"]
    assert intent.metadata["user_id"] == body["user_id"]
    assert intent.metadata["purchase_kind"] == "enrollment"


def test_a_user_has_one_stripe_customer_for_all_their_purchases(stack):
    user_id = "user-with-two-purchases"
    first = open_payment(stack, user_id=user_id)
    second = open_payment(stack, user_id=user_id, purchase_kind="tutoring_package")
    client = stripe_client()
    customers = {client.v1.payment_intents.retrieve(intent_id(o)).customer for o in (first, second)}
    assert len(customers) == 1
    customer = client.v1.customers.retrieve(customers.pop())
    assert customer.metadata["user_id"] == user_id


def test_the_same_purchase_ref_with_other_terms_is_a_409_naming_purchase_ref(stack):
    body = purchase()
    open_payment(stack, **body)
    r = stack.client.post(
        "/api/payment-intents",
        json={**body, "amount_minor": 100},
        headers=bearer(stack.service_token),
    )
    assert r.status_code == 409
    assert "purchase_ref" in r.get_json()["errors"]


def test_a_card_payment_reaches_the_bus_as_payment_succeeded_through_the_webhook(stack):
    register_local_webhook(stack.payments.url)
    broker = stack.payments.runtime.broker
    with broker.connection() as conn:
        listener = broker.declare(conn, "listener", ["payment.succeeded"])
        body = purchase()
        opened = open_payment(stack, **body)

        assert pay(opened["client_secret"]) == "succeeded"

        wait_for(lambda: outbox(stack.payments, "payment.succeeded"), message="the webhook")
        stack.payments.relay.relay_once()
        queue: Queue = listener.bind(conn.channel())
        message = wait_for(lambda: queue.get(no_ack=True), message="payment.succeeded")
    event = json.loads(message.body)
    assert event["type"] == "payment.succeeded"
    assert event["producer"] == "payments"
    assert event["data"] == {
        "payment_id": opened["payment_id"],
        "purchase_ref": body["purchase_ref"],
        "purchase_kind": "enrollment",
        "user_id": body["user_id"],
        "amount_minor": 149900,
        "currency": "USD",
        "stripe_payment_intent_id": intent_id(opened),
    }
    seen = stack.client.get(
        f"/api/payments/by-purchase/{body['purchase_ref']}", headers=bearer(stack.service_token)
    )
    assert seen.get_json()["status"] == "succeeded"


def test_a_declined_card_is_published_as_payment_failed_with_the_reason(stack):
    register_local_webhook(stack.payments.url)
    body = purchase()
    opened = open_payment(stack, **body)

    assert pay(opened["client_secret"], "pm_card_chargeCustomerFail") == "requires_payment_method"

    failed = wait_for(lambda: outbox(stack.payments, "payment.failed"), message="the webhook")
    assert len(failed) == 1
    assert failed[0]["purchase_ref"] == body["purchase_ref"]
    assert "declined" in failed[0]["reason"]
    assert outbox(stack.payments, "payment.succeeded") == []
    seen = stack.client.get(
        f"/api/payments/by-purchase/{body['purchase_ref']}", headers=bearer(stack.service_token)
    )
    assert seen.get_json()["status"] == "failed"
