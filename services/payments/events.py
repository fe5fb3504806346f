"""Payments' events: a purchase paid, failed, refunded or disputed.

Changing a class changes the wire (shared/bus/events.py): add optional fields first, and never
rename a routing key.
"""

from __future__ import annotations

from typing import Literal

from shared.bus.events import (
    Currency,
    NonNegative,
    event,
    record,
)

PurchaseKind = Literal["enrollment", "tutoring_package"]


@record
class PaymentFacts:
    payment_id: str
    purchase_ref: str
    purchase_kind: PurchaseKind
    user_id: str
    amount_minor: NonNegative
    currency: Currency


@event(
    "payment.succeeded",
    producer="payments",
    description="""
Stripe confirmed the payment of a purchase (learned from its webhook or by reconciliation).
""",
)
class PaymentSucceeded(PaymentFacts):
    stripe_payment_intent_id: str


@event(
    "payment.failed",
    producer="payments",
    description="""
A payment attempt failed (e.g. the card was declined). The purchase stays pending; the buyer
may try again until the hold expires.
""",
)
class PaymentFailed(PaymentFacts):
    reason: str


@event(
    "payment.refunded",
    producer="payments",
    description="""
Money went back to the buyer, in full or in part (``amount_minor`` is this refund's amount).
""",
)
class PaymentRefunded(PaymentFacts):
    refund_id: str
    refund_request_id: str | None


@event(
    "payment.disputed",
    producer="payments",
    description="""
The buyer's bank opened a dispute (chargeback) on the payment.
""",
)
class PaymentDisputed(PaymentFacts):
    reason: str
