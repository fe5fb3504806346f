"""Payments' HTTP API: service calls, the Stripe webhook, the owner's view and the admin ledger."""

from __future__ import annotations

from typing import Any

from flask import request

from services.payments import domain, queries, schemas
from services.payments.stripe_gateway import gateway
from services.payments.use_cases import intents, stripe_events
from shared import auth, metrics
from shared.http import Blueprint, current_uow

blp = Blueprint(
    "payments",
    __name__,
    url_prefix="/api",
    description="Payments of purchases through Stripe, its webhook, and the ledger.",
)


_uow = current_uow


@blp.route("/payment-intents", methods=["POST"])
@blp.arguments(schemas.PaymentIntentRequestSchema)
@blp.response(201, schemas.PaymentIntentSchema)
@blp.alt_response(200, schema=schemas.PaymentIntentSchema, description="It already existed.")
@blp.alt_response(401, description="No valid access token.")
@blp.alt_response(403, description="Not a service token.")
@blp.alt_response(409, description="The purchase_ref has a payment with other terms.")
@blp.alt_response(503, description="Stripe is not reachable.")
@auth.require("service")
def create_payment_intent(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The payment (and Stripe PaymentIntent) of a purchase; idempotent per purchase_ref."""
    stripe = gateway()
    view, created = intents.open_payment(_uow(), stripe, body)
    view["publishable_key"] = stripe.settings.publishable_key
    view["js_url"] = stripe.settings.js_url
    return view, 201 if created else 200


@blp.route("/payments/<string:payment_id>/card", methods=["POST"])
@blp.arguments(schemas.CardPaymentRequestSchema)
@blp.response(200, schemas.CardPaymentSchema)
@blp.alt_response(401, description="No valid access token.")
@blp.alt_response(402, description="The card was declined (the message says why).")
@blp.alt_response(404, description="No such payment, or it is someone else's.")
@blp.alt_response(409, description="Already paid.")
@auth.require()
def pay_with_card(body: dict[str, Any], payment_id: str) -> dict[str, Any]:
    return intents.pay_with_card(
        _uow(), gateway(), auth.current_principal(), payment_id, body["token"]
    )


@blp.route("/payments/by-purchase/<string:purchase_ref>", methods=["GET"])
@blp.response(200, schemas.PaymentSchema)
@blp.alt_response(401, description="No valid access token.")
@blp.alt_response(404, description="No such payment, or it is someone else's.")
@auth.require()
def payment_by_purchase(purchase_ref: str) -> dict[str, Any]:
    """A purchase's payment, for services, admins and the person who pays."""
    return queries.payment_for_purchase(_uow(), auth.current_principal(), purchase_ref)


@blp.route("/stripe/webhook", methods=["POST"])
@blp.response(200, schemas.WebhookReceiptSchema)
@blp.alt_response(400, description="Missing or bad Stripe-Signature, or not a Stripe event.")
@auth.shared_secret()
def stripe_webhook() -> dict[str, Any]:
    """Stripe's signed events; each event id is applied once."""
    stripe = gateway()
    try:
        event = stripe.verify_webhook(
            request.get_data(cache=False), request.headers.get("Stripe-Signature")
        )
    except ValueError as exc:
        metrics.STRIPE_EVENTS.labels("webhook", "unknown", "rejected").inc()
        raise domain.InvalidWebhook(str(exc), field="Stripe-Signature") from exc
    applied = stripe_events.process_stripe_event(_uow(), stripe, event, "webhook")
    return {"received": True, "duplicate": not applied}


@blp.route("/admin/ledger", methods=["GET"])
@blp.arguments(schemas.LedgerQuerySchema, location="query")
@blp.response(200, schemas.LedgerSchema)
@blp.alt_response(401, description="No valid access token.")
@blp.alt_response(403, description="Not an admin.")
@auth.require("admin")
def admin_ledger(query: dict[str, Any]) -> dict[str, Any]:
    """Latest payments, refunds and disputes, newest first."""
    return queries.ledger(_uow(), query["limit"])
