"""Request and response bodies of payments' HTTP API."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from services.payments import domain
from shared import request_bounds as bounds
from shared.request_text import one_line


class Strict(Schema):
    class Meta:
        unknown = RAISE


def _text(max_length: int, **kwargs: object) -> fields.String:
    return fields.String(
        validate=[
            validate.Length(min=1, max=max_length),
            validate.Regexp(r".*\S", error="Must not be blank."),
            one_line,
        ],
        **kwargs,
    )


class PaymentIntentRequestSchema(Strict):
    purchase_ref = _text(100, required=True)
    purchase_kind = fields.String(required=True, validate=validate.OneOf(domain.PURCHASE_KINDS))
    user_id = _text(64, required=True)
    email = fields.Email(required=True, validate=validate.Length(max=254))
    name = _text(200, required=True)
    amount_minor = fields.Integer(strict=True, required=True, validate=bounds.minor_units(least=1))
    currency = fields.String(
        required=True,
        validate=[
            validate.Regexp(domain.CURRENCY_RE, error="Give an ISO 4217 code like USD."),
            bounds.currency,
        ],
    )
    description = fields.String(load_default="", validate=[validate.Length(max=500), one_line])


class PaymentIntentSchema(Schema):
    payment_id = fields.String(required=True)
    purchase_ref = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": ", ".join(domain.STATUSES)})
    client_secret = fields.String(required=True)
    amount_minor = fields.Integer(required=True)
    currency = fields.String(required=True)
    publishable_key = fields.String(required=True)
    js_url = fields.String(required=True)


class CardPaymentRequestSchema(Strict):
    token = fields.String(
        required=True,
        validate=validate.Regexp(r"^tok_\w{1,200}$", error="Give the token Stripe.js made."),
        metadata={"description": "The card token from `stripe.createToken(cardElement)`."},
    )


class CardPaymentSchema(Schema):
    payment_id = fields.String(required=True)
    status = fields.String(
        required=True,
        metadata={
            "description": "The PaymentIntent's status: succeeded, processing, "
            "requires_action (complete it with stripe.confirmCardPayment)."
        },
    )
    client_secret = fields.String(required=True)


class PaymentSchema(Schema):
    payment_id = fields.String(required=True)
    purchase_ref = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": ", ".join(domain.STATUSES)})
    amount_minor = fields.Integer(required=True)
    currency = fields.String(required=True)
    refunded_minor = fields.Integer(required=True)


class LedgerPaymentSchema(PaymentSchema):
    purchase_kind = fields.String(required=True)
    user_id = fields.String(required=True)
    # Who paid and for what, as the admin's Payments page shows them (Customer, Purchase).
    email = fields.String(required=True)
    name = fields.String(required=True)
    description = fields.String(required=True)
    stripe_payment_intent_id = fields.String(allow_none=True)
    failure_reason = fields.String(allow_none=True)
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)


class LedgerRefundSchema(Schema):
    refund_id = fields.String(required=True)
    payment_id = fields.String(required=True)
    # The payment it belongs to, as the admin's Payments page shows it (Purchase, Customer).
    currency = fields.String(required=True, metadata={"description": "The payment's currency"})
    purchase_ref = fields.String(required=True)
    purchase_kind = fields.String(required=True)
    description = fields.String(required=True, metadata={"description": "What was bought"})
    name = fields.String(required=True, metadata={"description": "Who paid"})
    email = fields.String(required=True)
    refund_request_id = fields.String(allow_none=True)
    stripe_refund_id = fields.String(allow_none=True)
    amount_minor = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"description": "succeeded, refused"})
    reason = fields.String(allow_none=True)
    error = fields.String(allow_none=True)
    created_at = fields.AwareDateTime(required=True)


class LedgerDisputeSchema(Schema):
    dispute_id = fields.String(required=True)
    payment_id = fields.String(required=True)
    stripe_dispute_id = fields.String(required=True)
    amount_minor = fields.Integer(required=True)
    currency = fields.String(required=True)
    reason = fields.String(required=True)
    status = fields.String(required=True)
    created_at = fields.AwareDateTime(required=True)


class LedgerFlaggedEventSchema(Schema):
    stripe_event_id = fields.String(required=True)
    type = fields.String(required=True)
    source = fields.String(required=True, metadata={"description": "webhook or reconcile"})
    outcome = fields.String(
        required=True, metadata={"description": "what did not match our payment"}
    )
    received_at = fields.AwareDateTime(required=True)


class LedgerSchema(Schema):
    payments = fields.List(fields.Nested(LedgerPaymentSchema), required=True)
    refunds = fields.List(fields.Nested(LedgerRefundSchema), required=True)
    disputes = fields.List(fields.Nested(LedgerDisputeSchema), required=True)
    flagged_events = fields.List(
        fields.Nested(LedgerFlaggedEventSchema),
        required=True,
        metadata={
            "description": "Signed Stripe events recorded but not applied: their amount or "
            "currency differs from the payment's. A person checks each one."
        },
    )


class LedgerQuerySchema(Strict):
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class WebhookReceiptSchema(Schema):
    received = fields.Boolean(required=True)
    duplicate = fields.Boolean(
        required=True, metadata={"description": "true when this Stripe event was already applied"}
    )
