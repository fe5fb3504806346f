"""Payments' read side: a payment, what services and admins see of it, the admin ledger."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from services.payments import domain
from services.payments.domain import FLAGGED
from services.payments.models import Dispute, Payment, Refund, StripeEvent
from shared.auth import Principal
from shared.db import UnitOfWork


def payment_view(p: Payment) -> dict[str, Any]:
    return {
        "payment_id": p.id,
        "purchase_ref": p.purchase_ref,
        "purchase_kind": p.purchase_kind,
        "user_id": p.user_id,
        "email": p.email,
        "name": p.name,
        "description": p.description,
        "status": p.status,
        "amount_minor": p.amount_minor,
        "currency": p.currency,
        "refunded_minor": p.refunded_minor,
        "stripe_payment_intent_id": p.stripe_payment_intent_id,
        "failure_reason": p.failure_reason,
        "created_at": p.created_at,
        "updated_at": p.updated_at,
    }


def refund_view(r: Refund, p: Payment) -> dict[str, Any]:
    """A refund with the payment it belongs to: its currency, who paid and for what."""
    return {
        "refund_id": r.id,
        "payment_id": r.payment_id,
        "currency": p.currency,
        "purchase_ref": p.purchase_ref,
        "purchase_kind": p.purchase_kind,
        "description": p.description,
        "name": p.name,
        "email": p.email,
        "refund_request_id": r.refund_request_id,
        "stripe_refund_id": r.stripe_refund_id,
        "amount_minor": r.amount_minor,
        "status": r.status,
        "reason": r.reason,
        "error": r.error,
        "created_at": r.created_at,
    }


def dispute_view(d: Dispute) -> dict[str, Any]:
    return {
        "dispute_id": d.id,
        "payment_id": d.payment_id,
        "stripe_dispute_id": d.stripe_dispute_id,
        "amount_minor": d.amount_minor,
        "currency": d.currency,
        "reason": d.reason,
        "status": d.status,
        "created_at": d.created_at,
    }


def payment_for_purchase(uow: UnitOfWork, principal: Principal, purchase_ref: str) -> dict:
    """Services and admins see any payment; a person only their own (others get a 404)."""
    with uow:
        p = uow.session.scalar(select(Payment).where(Payment.purchase_ref == purchase_ref))
        visible = p is not None and (
            principal.is_service or principal.has("admin") or principal.user_id == p.user_id
        )
        if not visible:
            raise domain.PaymentNotFound("No payment for that purchase.", field="purchase_ref")
        return payment_view(p)


def ledger(uow: UnitOfWork, limit: int) -> dict[str, Any]:
    with uow:
        s = uow.session
        payments = s.scalars(select(Payment).order_by(Payment.created_at.desc()).limit(limit))
        refunds = s.execute(
            select(Refund, Payment)
            .join(Payment, Payment.id == Refund.payment_id)
            .order_by(Refund.created_at.desc())
            .limit(limit)
        ).all()
        disputes = s.scalars(select(Dispute).order_by(Dispute.created_at.desc()).limit(limit))
        flagged = s.scalars(
            select(StripeEvent)
            .where(StripeEvent.outcome.startswith(FLAGGED))
            .order_by(StripeEvent.received_at.desc())
            .limit(limit)
        )
        return {
            "payments": [payment_view(p) for p in payments],
            "refunds": [refund_view(r, p) for r, p in refunds],
            "disputes": [dispute_view(d) for d in disputes],
            "flagged_events": [
                {
                    "stripe_event_id": e.id,
                    "type": e.type,
                    "source": e.source,
                    "outcome": e.outcome,
                    "received_at": e.received_at,
                }
                for e in flagged
            ],
        }
