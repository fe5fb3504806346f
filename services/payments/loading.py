"""Loading payments (locked, by Stripe's ids), new ids, and what every payment event carries."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.payments.models import Payment


def new_id() -> str:
    """A new row id (payments, refunds, disputes, customers)."""
    return str(uuid.uuid4())


def facts(p: Payment) -> dict[str, Any]:
    """The fields every payment event carries (shared.bus.catalogue.PaymentFacts)."""
    return {
        "payment_id": p.id,
        "purchase_ref": p.purchase_ref,
        "purchase_kind": p.purchase_kind,
        "user_id": p.user_id,
        "amount_minor": p.amount_minor,
        "currency": p.currency,
    }


def locked_payment(
    db: Session, payment_intent_id: str | None, charge_id: str | None = None
) -> Payment | None:
    """The payment a Stripe object names (by its PaymentIntent, else its charge), locked."""
    query = select(Payment).with_for_update()
    if payment_intent_id:
        return db.scalar(query.where(Payment.stripe_payment_intent_id == payment_intent_id))
    if charge_id:
        return db.scalar(query.where(Payment.stripe_charge_id == charge_id))
    return None
