"""The only module that talks to Stripe (official SDK), so the rest of payments sees plain dicts.

Calls follow real Stripe: fixed idempotency keys on every create, purchase facts in
``metadata``, card-only PaymentIntents (the checkout page mounts the card element). Where
localstripe has gaps we stay within what both accept (no ``description`` on the intent, no
refund ``reason``: both go into ``metadata``), and where localstripe ignores idempotency keys we
look before we create (a refund already made for a request is found by its metadata).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests
import stripe

from shared import config
from shared.errors import Unavailable

log = logging.getLogger(__name__)

LOCAL_WEBHOOK_ID = "preceptor"


class StripeUnavailable(Unavailable):
    title = "Stripe is not reachable"


class StripeRefused(Exception):
    """Stripe answered with an error about the request itself (it will not work if repeated)."""


def header_safe_key(key: str) -> str:
    """Stripe's ``Idempotency-Key`` travels as an HTTP header: printable ASCII, 255 at most.

    Keys are made of ids a client chose (a purchase_ref, a user id), which may hold any
    character; those go as a digest of the key, which stays the same for the same purchase.
    """
    if key.isascii() and key.isprintable() and len(key) <= 255:
        return key
    return "sha256-" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def id_of(value: Any) -> str | None:
    """An id from a field that is either an id or an expanded object (localstripe expands)."""
    if value is None:
        return None
    if isinstance(value, dict):
        return value.get("id")
    return str(value)


def _plain(obj: Any) -> dict[str, Any]:
    return obj.to_dict(for_json=True)


@dataclass(frozen=True)
class PaymentIntent:
    id: str
    client_secret: str
    status: str


class StripeGateway:
    def __init__(self, settings: config.StripeSettings) -> None:
        self.settings = settings
        self.client = stripe.StripeClient(
            settings.secret_key,
            base_addresses={"api": settings.api_base},
            max_network_retries=2,
        )

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
            raise StripeUnavailable("Stripe is not reachable; try again shortly.") from exc
        except stripe.APIError as exc:
            raise StripeUnavailable(f"Stripe failed: {exc.user_message or exc}") from exc
        except stripe.StripeError as exc:
            raise StripeRefused(str(exc.user_message or exc)) from exc

    # --- customers and payment intents ---------------------------------------------------

    def create_customer(self, user_id: str, email: str, name: str) -> str:
        customer = self._call(
            self.client.v1.customers.create,
            params={"email": email, "name": name, "metadata": {"user_id": user_id}},
            options={"idempotency_key": header_safe_key(f"customer-{user_id}")},
        )
        return customer.id

    def create_payment_intent(
        self,
        *,
        amount_minor: int,
        currency: str,
        customer_id: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> PaymentIntent:
        intent = self._call(
            self.client.v1.payment_intents.create,
            params={
                "amount": amount_minor,
                "currency": currency.lower(),
                "customer": customer_id,
                "payment_method_types": ["card"],
                "metadata": metadata,
            },
            options={"idempotency_key": header_safe_key(idempotency_key)},
        )
        return PaymentIntent(intent.id, intent.client_secret, intent.status)

    def pay_with_card(
        self, *, payment_intent: str, customer_id: str, card_token: str
    ) -> PaymentIntent:
        """Attach the card the browser tokenized with Stripe.js and confirm on the server.

        ``stripe.createToken(card)`` works with real Stripe.js and localstripe's fake alike;
        the token becomes a card on the customer, the PaymentIntent's payment method. A card
        that needs 3-D Secure leaves the intent in ``requires_action``, which the page then
        completes with ``stripe.confirmCardPayment(client_secret)``. A declined card raises
        StripeRefused with Stripe's message for the buyer.
        """
        card = self._call(
            self.client.v1.customers.payment_sources.create,
            customer_id,
            params={"source": card_token},
        )
        self._call(
            self.client.v1.payment_intents.update,
            payment_intent,
            params={"payment_method": card.id},
        )
        intent = self._call(self.client.v1.payment_intents.confirm, payment_intent)
        return PaymentIntent(intent.id, intent.client_secret, intent.status)

    # --- refunds --------------------------------------------------------------------------

    def refunds_of(self, *, payment_intent: str | None = None, charge: str | None = None) -> list:
        params: dict[str, Any] = {"limit": 100}
        if charge:
            params["charge"] = charge
        else:
            params["payment_intent"] = payment_intent
        listed = self._call(self.client.v1.refunds.list, params=params)
        return [_plain(r) for r in listed.data]

    def refund(
        self, *, payment_intent: str, amount_minor: int, refund_request_id: str, reason: str
    ) -> dict[str, Any]:
        """Refund once per request: an earlier refund for the same request is returned instead."""
        for existing in self.refunds_of(payment_intent=payment_intent):
            if (existing.get("metadata") or {}).get("refund_request_id") == refund_request_id:
                return existing
        refund = self._call(
            self.client.v1.refunds.create,
            params={
                "payment_intent": payment_intent,
                "amount": amount_minor,
                "metadata": {"refund_request_id": refund_request_id, "reason": reason[:500]},
            },
            options={"idempotency_key": header_safe_key(f"refund-{refund_request_id}")},
        )
        return _plain(refund)

    # --- events ---------------------------------------------------------------------------

    def events_since(self, since: datetime) -> list[dict[str, Any]]:
        """Every event created since ``since``, oldest first."""
        listed = self._call(
            self.client.v1.events.list,
            params={"created": {"gte": int(since.timestamp())}, "limit": 100},
        )
        events = [_plain(e) for e in listed.auto_paging_iter()]
        return sorted(events, key=lambda e: (e.get("created") or 0, e["id"]))

    def verify_webhook(self, payload: bytes, signature: str | None) -> dict[str, Any]:
        """The event a signed webhook carries; ValueError when the signature or body is bad."""
        if not signature:
            raise ValueError("Missing Stripe-Signature header.")
        try:
            # The signature alone: construct_event would also build the SDK's object tree of
            # the event, which nothing here reads (the plain JSON below is what is applied).
            stripe.WebhookSignature.verify_header(
                payload.decode("utf-8"),
                signature,
                self.settings.webhook_secret,
                stripe.Webhook.DEFAULT_TOLERANCE,
            )
        except stripe.SignatureVerificationError as exc:
            raise ValueError(f"Bad signature: {exc.user_message or exc}") from exc
        event = json.loads(payload)
        if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
            raise ValueError("The body is not a Stripe event.")
        return event

    # --- localstripe only -----------------------------------------------------------------

    def register_local_webhook(self, payments_url: str) -> None:
        """Point localstripe's webhook at us (real Stripe: configured in the dashboard)."""
        url = f"{payments_url.rstrip('/')}/api/stripe/webhook"
        response = requests.post(
            f"{self.settings.api_base}/_config/webhooks/{LOCAL_WEBHOOK_ID}",
            data={"url": url, "secret": self.settings.webhook_secret},
            timeout=5,
        )
        response.raise_for_status()
        log.info("registered the localstripe webhook", extra={"url": url})


def gateway() -> StripeGateway:
    """A gateway from the current settings (read per call, so tests can point elsewhere)."""
    return _gateway_for(config.stripe_settings())


@functools.lru_cache(maxsize=8)
def _gateway_for(settings: config.StripeSettings) -> StripeGateway:
    """One gateway per settings, kept for the process: its HTTP client keeps a connection to
    Stripe open per thread, where a client made per request paid a new TCP (and, on the real
    Stripe, TLS) handshake for every call. The SDK's client is safe to share between threads."""
    return StripeGateway(settings)
