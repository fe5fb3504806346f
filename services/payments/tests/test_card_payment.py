"""Paying with a card as the checkout page does: Stripe.js tokenizes, payments confirms.

The token is made the way Stripe.js's ``createToken`` makes it (a publishable-key call to
``/v1/tokens`` of localstripe); everything after that is our code against localstripe.
"""

from __future__ import annotations

import requests

from services.payments.tests.helpers import bearer, open_payment, outbox, student
from services.payments.worker import register_local_webhook
from shared import config
from shared.testing.fixtures import wait_for


def card_token(number: str) -> str:
    settings = config.stripe_settings()
    r = requests.post(
        f"{settings.api_base}/v1/tokens",
        data={
            "card[number]": number,
            "card[exp_month]": "12",
            "card[exp_year]": "2034",
            "card[cvc]": "123",
            "key": settings.publishable_key,
        },
    )
    assert r.status_code == 200, r.text
    return r.json()["id"]


def test_a_good_card_is_charged_and_the_webhook_publishes_payment_succeeded(stack):
    register_local_webhook(stack.payments.url)
    user_id, token = student(stack.identity, "card.ok@example.com")
    opened = open_payment(stack, user_id=user_id)

    r = stack.client.post(
        f"/api/payments/{opened['payment_id']}/card",
        json={"token": card_token("4242424242424242")},
        headers=bearer(token),
    )

    assert r.status_code == 200, r.get_json()
    assert r.get_json()["status"] == "succeeded"
    [event] = wait_for(lambda: outbox(stack.payments, "payment.succeeded"), message="the webhook")
    assert event["payment_id"] == opened["payment_id"]


def test_a_card_that_needs_3d_secure_is_left_for_the_browser_to_authenticate(stack):
    user_id, token = student(stack.identity, "card.3ds@example.com")
    opened = open_payment(stack, user_id=user_id)

    r = stack.client.post(
        f"/api/payments/{opened['payment_id']}/card",
        json={"token": card_token("4000002760003184")},
        headers=bearer(token),
    )

    assert r.status_code == 200
    assert r.get_json() == {
        "payment_id": opened["payment_id"],
        "status": "requires_action",
        "client_secret": opened["client_secret"],
    }
    assert outbox(stack.payments, "payment.succeeded") == []


def test_a_declined_card_is_a_402_naming_the_card_and_publishes_payment_failed(stack):
    user_id, token = student(stack.identity, "card.declined@example.com")
    opened = open_payment(stack, user_id=user_id)

    r = stack.client.post(
        f"/api/payments/{opened['payment_id']}/card",
        json={"token": card_token("4000000000000002")},
        headers=bearer(token),
    )

    assert r.status_code == 402
    assert "declined" in r.get_json()["errors"]["card"][0]
    [failed] = outbox(stack.payments, "payment.failed")
    assert failed["payment_id"] == opened["payment_id"] and "declined" in failed["reason"]


def test_nobody_pays_into_someone_elses_payment(stack):
    owner_id, _ = student(stack.identity, "card.owner@example.com")
    _, stranger = student(stack.identity, "card.stranger@example.com")
    opened = open_payment(stack, user_id=owner_id)

    r = stack.client.post(
        f"/api/payments/{opened['payment_id']}/card",
        json={"token": card_token("4242424242424242")},
        headers=bearer(stranger),
    )

    assert r.status_code == 404
    assert (
        stack.client.post(
            f"/api/payments/{opened['payment_id']}/card", json={"token": "tok_x"}
        ).status_code
        == 401
    )
