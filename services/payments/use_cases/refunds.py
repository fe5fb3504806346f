"""Refunds: asked for on the bus (``refund.requested``), or learned from Stripe, applied once."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from services.enrollment.events import RequestRefund
from services.payments import domain
from services.payments.events import PaymentRefunded
from services.payments.loading import facts, new_id
from services.payments.models import Payment, Refund
from services.payments.stripe_gateway import StripeGateway, StripeRefused, gateway
from shared.bus.handlers import handles
from shared.db import UnitOfWork, utcnow

log = logging.getLogger(__name__)


def apply_refund(
    uow: UnitOfWork,
    p: Payment,
    stripe_refund_id: str,
    amount: int,
    refund_request_id: str | None,
    metadata: dict[str, Any],
    row: Refund | None = None,
) -> None:
    """Record a refund Stripe made (ours, or one made on Stripe's dashboard), add it to
    the payment's refunded total (capped at what was paid) and announce ``payment.refunded``."""
    now = utcnow()
    if row is None:
        row = Refund(id=new_id(), payment_id=p.id, created_at=now)
        uow.session.add(row)
    row.refund_request_id = refund_request_id
    row.stripe_refund_id = stripe_refund_id
    row.amount_minor = amount
    row.status = domain.REFUND_SUCCEEDED
    row.reason = row.reason or metadata.get("reason")
    p.refunded_minor = domain.add_refund(p.amount_minor, p.refunded_minor, amount)
    p.status = domain.status_after_refund(p.amount_minor, p.refunded_minor)
    p.updated_at = now
    uow.session.flush()
    uow.record(
        PaymentRefunded(
            **{**facts(p), "amount_minor": amount},  # this refund's amount, not the payment's
            refund_id=stripe_refund_id,
            refund_request_id=refund_request_id,
        )
    )


@handles(RequestRefund, outside_effects=True)
def refund(uow: UnitOfWork, command: RequestRefund, stripe: StripeGateway | None = None) -> str:
    """Refund a purchase through Stripe at most once per request, never beyond what was paid.

    Outside effects: the Stripe refund is made inside the handler, so the consumer commits this
    command on its own right after it (shared/bus/handlers.py), not in a batch.

    A request we refuse by rule (nothing paid, more than is left) is recorded as a refused
    refund with its reason — it is an answer, not a failure to retry, so it is not
    dead-lettered and nothing is published. An unknown purchase raises (retried, then
    dead-lettered): the request cannot be answered at all.
    """
    request_id = command.refund_request_id
    stripe = stripe or gateway()
    with uow:
        s = uow.session
        p = s.scalar(
            select(Payment).where(Payment.purchase_ref == command.purchase_ref).with_for_update()
        )
        if p is None:
            raise domain.PaymentNotFound(f"No payment for purchase {command.purchase_ref}.")
        if s.scalar(select(Refund).where(Refund.refund_request_id == request_id)) is not None:
            uow.commit()
            return "already handled"
        now = utcnow()
        row = Refund(
            id=new_id(),
            payment_id=p.id,
            refund_request_id=request_id,
            amount_minor=command.amount_minor or 0,
            status="pending",
            reason=command.reason,
            created_at=now,
        )
        s.add(row)
        try:
            amount = domain.refund_amount(
                p.status, p.amount_minor, p.refunded_minor, command.amount_minor
            )
            refund = stripe.refund(
                payment_intent=p.stripe_payment_intent_id,
                amount_minor=amount,
                refund_request_id=request_id,
                reason=command.reason or "",
            )
        except (domain.RefundRefused, StripeRefused) as exc:
            row.status = domain.REFUND_REFUSED
            row.error = str(exc)
            uow.commit()
            log.warning(
                "refund refused",
                extra={"refund_request_id": request_id, "payment_id": p.id, "error": str(exc)},
            )
            return "refused"
        apply_refund(
            uow,
            p,
            refund["id"],
            int(refund["amount"]),
            request_id,
            refund.get("metadata") or {},
            row,
        )
        uow.commit()
        return "refunded"
