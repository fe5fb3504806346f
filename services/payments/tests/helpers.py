"""Steps the payments tests share: real identity tokens, real localstripe, the real bus."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import requests
import sqlalchemy as sa
import stripe

from services.payments.models import Refund, StripeEvent
from shared import auth, config
from shared.bus.envelope import new_event
from shared.testing.fixtures import ServiceUnderTest, publish_events

PASSWORD = "a student password"


@dataclass
class Stack:
    identity: ServiceUnderTest
    payments: ServiceUnderTest
    service_token: str

    @property
    def client(self):
        return self.payments.client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def service_token() -> str:
    return auth.ServiceTokens("enrollment").token()


def admin_token(identity: ServiceUnderTest) -> str:
    email = config.env("ADMIN_EMAIL", "admin@preceptor.localhost")
    r = identity.client.post(
        "/api/auth/login", json={"email": email, "password": config.admin_password()}
    )
    assert r.status_code == 200, r.get_json()
    return r.get_json()["access_token"]


def student(identity: ServiceUnderTest, email: str) -> tuple[str, str]:
    """A registered student: (user_id, access token)."""
    r = identity.client.post(
        "/api/users", json={"email": email, "password": PASSWORD, "name": "Sam Student"}
    )
    assert r.status_code == 202, r.get_json()
    login = identity.client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    return login.get_json()["user"]["id"], login.get_json()["access_token"]


def purchase(**overrides: Any) -> dict[str, Any]:
    body = {
        "purchase_ref": f"enr-{uuid.uuid4()}",
        "purchase_kind": "enrollment",
        "user_id": str(uuid.uuid4()),
        "email": "sam@example.com",
        "name": "Sam Student",
        "amount_minor": 149900,
        "currency": "USD",
        "description": "USMLE Step 1 Prep, cycle of 2026-02-02",
    }
    body.update(overrides)
    return body


def open_payment(stack: Stack, **overrides: Any) -> dict[str, Any]:
    r = stack.client.post(
        "/api/payment-intents", json=purchase(**overrides), headers=bearer(stack.service_token)
    )
    assert r.status_code in (200, 201), r.get_json()
    return r.get_json()


def stripe_client() -> stripe.StripeClient:
    settings = config.stripe_settings()
    return stripe.StripeClient(settings.secret_key, base_addresses={"api": settings.api_base})


def pay(client_secret: str, payment_method: str = "pm_card_visa") -> str:
    """Pay the way the checkout page does: attach the card to the intent and confirm it.

    localstripe's confirm takes no ``payment_method`` argument, so the card is set first.
    A declined card leaves the intent unpaid; its status is returned either way.
    """
    client = stripe_client()
    intent_id = client_secret.split("_secret_")[0]
    client.v1.payment_intents.update(intent_id, params={"payment_method": payment_method})
    try:
        return client.v1.payment_intents.confirm(intent_id).status
    except stripe.CardError:
        return client.v1.payment_intents.retrieve(intent_id).status


def intent_id(opened: dict[str, Any]) -> str:
    return opened["client_secret"].split("_secret_")[0]


def outbox(svc: ServiceUnderTest, event_type: str) -> list[dict[str, Any]]:
    return svc.recorded(event_type)


def stripe_event_count(svc: ServiceUnderTest) -> int:
    with svc.runtime.db.session() as s:
        return s.scalar(sa.select(sa.func.count()).select_from(StripeEvent))


def refunds(svc: ServiceUnderTest) -> list[Refund]:
    with svc.runtime.db.session() as s:
        return list(s.scalars(sa.select(Refund).order_by(Refund.created_at)))


def signature(payload: str, secret: str | None = None, at: int | None = None) -> str:
    """A ``Stripe-Signature`` header computed the way Stripe documents it."""
    secret = secret or config.stripe_settings().webhook_secret
    at = at or int(time.time())
    mac = hmac.new(secret.encode(), f"{at}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


def stripe_event(event_type: str, obj: dict[str, Any]) -> str:
    return json.dumps(
        {
            "id": f"evt_{uuid.uuid4().hex[:24]}",
            "object": "event",
            "api_version": "2024-06-20",
            "created": int(time.time()),
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
            "data": {"object": obj},
        }
    )


def post_webhook(stack: Stack, payload: str, header: str | None) -> Any:
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["Stripe-Signature"] = header
    return requests.post(
        f"{stack.payments.url}/api/stripe/webhook", data=payload, headers=headers, timeout=10
    )


def publish(svc: ServiceUnderTest, event_type: str, data: dict[str, Any]) -> str:
    """Publish an event on the test exchange as its producer would."""
    event = new_event(event_type, data, "enrollment")
    publish_events(svc.runtime.broker, event)
    return event.id
