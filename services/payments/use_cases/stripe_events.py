"""What Stripe tells us, by webhook or by reconciliation: each event applied once."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Insert, bindparam, select, update
from sqlalchemy.exc import IntegrityError

from services.payments import domain
from services.payments.domain import FLAGGED
from services.payments.events import PaymentDisputed, PaymentFailed, PaymentSucceeded
from services.payments.loading import facts, locked_payment, new_id
from services.payments.models import Dispute, Payment, Refund, StripeEvent
from services.payments.stripe_gateway import StripeGateway, id_of
from services.payments.use_cases.refunds import apply_refund
from shared import context, metrics
from shared.db import UnitOfWork, insert_with_conflicts, utcnow

log = logging.getLogger(__name__)

RECONCILE_WINDOW = timedelta(days=3)


def _mismatch(p: Payment, obj: dict[str, Any]) -> str | None:
    """Why a Stripe object's amount or currency is not our payment's, or None if they agree.

    A signed event is Stripe's word, but a PaymentIntent changed behind our back (in the
    dashboard, by a leaked key) must not fulfil a purchase for another price: a person looks.
    """
    amount, currency = obj.get("amount"), obj.get("currency")
    try:
        same_amount = amount is not None and int(amount) == p.amount_minor
    except (TypeError, ValueError):
        same_amount = False
    same_currency = isinstance(currency, str) and currency.upper() == p.currency
    if same_amount and same_currency:
        return None
    return (
        f"{FLAGGED}: Stripe says {str(amount)[:20]} {str(currency)[:10]}, "
        f"the payment is {p.amount_minor} {p.currency}"
    )


def _on_intent_succeeded(uow: UnitOfWork, intent: dict[str, Any]) -> str:
    p = locked_payment(uow.session, intent.get("id"))
    if p is None:
        return "ignored: not our payment"
    if (mismatch := _mismatch(p, intent)) is not None:
        return mismatch
    new = domain.on_success(p.status)
    if new is None:
        return f"no change: already {p.status}"
    p.status = new
    p.stripe_charge_id = id_of(intent.get("latest_charge")) or p.stripe_charge_id
    p.failure_reason = None
    p.updated_at = utcnow()
    uow.record(PaymentSucceeded(**facts(p), stripe_payment_intent_id=p.stripe_payment_intent_id))
    return "payment succeeded"


def _on_intent_failed(uow: UnitOfWork, intent: dict[str, Any]) -> str:
    p = locked_payment(uow.session, intent.get("id"))
    if p is None:
        return "ignored: not our payment"
    if (mismatch := _mismatch(p, intent)) is not None:
        return mismatch
    new = domain.on_failure(p.status)
    if new is None:
        return f"no change: already {p.status}"
    error = intent.get("last_payment_error") or {}
    reason = error.get("message") or error.get("code") or "The payment failed."
    p.status = new
    p.failure_reason = reason
    p.updated_at = utcnow()
    uow.record(PaymentFailed(**facts(p), reason=reason))
    return "payment failed"


def _on_intent_processing(uow: UnitOfWork, intent: dict[str, Any]) -> str:
    p = locked_payment(uow.session, intent.get("id"))
    if p is None:
        return "ignored: not our payment"
    if (mismatch := _mismatch(p, intent)) is not None:
        return mismatch
    new = domain.on_processing(p.status)
    if new is None:
        return f"no change: already {p.status}"
    p.status = new
    p.updated_at = utcnow()
    return "payment processing"


def _on_charge_refunded(uow: UnitOfWork, gateway: StripeGateway, charge: dict[str, Any]) -> str:
    p = locked_payment(uow.session, id_of(charge.get("payment_intent")), charge.get("id"))
    if p is None:
        return "ignored: not our payment"
    if (mismatch := _mismatch(p, charge)) is not None:
        return mismatch
    listed = charge.get("refunds")
    if isinstance(listed, dict) and "data" in listed and not listed.get("has_more"):
        refunds = listed["data"]
    else:  # API versions since 2022-11-15 leave the charge's refunds out: ask Stripe.
        refunds = gateway.refunds_of(charge=charge["id"])
    known = set(
        uow.session.scalars(select(Refund.stripe_refund_id).where(Refund.payment_id == p.id))
    )
    applied = 0
    for refund in sorted(refunds, key=lambda r: r.get("created") or 0):
        if refund.get("status") != "succeeded" or refund["id"] in known:
            continue
        currency = refund.get("currency")
        if isinstance(currency, str) and currency.upper() != p.currency:
            return f"{FLAGGED}: a refund in {currency[:10]}, the payment is in {p.currency}"
        amount = int(refund["amount"])
        metadata = refund.get("metadata") or {}
        # A refund we asked for carries its request id: keep it, so a retried request finds it.
        apply_refund(uow, p, refund["id"], amount, metadata.get("refund_request_id"), metadata)
        applied += 1
    return f"{applied} refund(s) recorded"


def _on_dispute_created(uow: UnitOfWork, dispute: dict[str, Any]) -> str:
    p = locked_payment(
        uow.session, id_of(dispute.get("payment_intent")), id_of(dispute.get("charge"))
    )
    if p is None:
        return "ignored: not our payment"
    known = uow.session.scalar(select(Dispute).where(Dispute.stripe_dispute_id == dispute["id"]))
    if known is not None:
        return "no change: dispute already recorded"
    reason = dispute.get("reason") or "general"
    uow.session.add(
        Dispute(
            id=new_id(),
            payment_id=p.id,
            stripe_dispute_id=dispute["id"],
            amount_minor=int(dispute.get("amount") or p.amount_minor),
            currency=domain.normalize_currency(dispute.get("currency") or p.currency),
            reason=reason[:100],
            status=(dispute.get("status") or "needs_response")[:50],
            created_at=utcnow(),
        )
    )
    uow.record(PaymentDisputed(**facts(p), reason=reason))
    return "dispute recorded"


def process_stripe_event(
    uow: UnitOfWork, gateway: StripeGateway, event: dict[str, Any], source: str
) -> bool:
    """Apply one Stripe event exactly once; False when it had been seen already.

    The ``stripe_events`` row is inserted first: a concurrent delivery of the same event waits
    on its primary key and then finds it taken, so the effects and the events they publish
    happen once, whichever of webhook or reconciliation gets there first.
    """
    with uow:
        created = event.get("created")
        first = uow.session.execute(
            _record_stripe_event(uow.session.get_bind().dialect.name),
            {
                "id": event["id"],
                "type": event["type"],
                "source": source,
                "outcome": "",
                "stripe_created_at": datetime.fromtimestamp(created, UTC) if created else None,
                "received_at": utcnow(),
            },
        ).first()
        if first is None:
            _count_stripe_event(source, event["type"], "duplicate")
            return False
        obj = (event.get("data") or {}).get("object") or {}
        kind = event["type"]
        with context.flow(correlation=_correlation_of(obj), causation=event["id"]):
            outcome = _apply_stripe_event(uow, gateway, kind, obj)
        uow.session.execute(_SET_OUTCOME, {"event_id": event["id"], "outcome": outcome[:200]})
        try:
            uow.commit()
        except IntegrityError:
            _count_stripe_event(source, kind, "duplicate")
            return False
        _count_stripe_event(source, kind, _outcome_kind(outcome))
        if outcome.startswith(FLAGGED):
            log.error(
                "stripe event flagged, not applied: it does not match our payment",
                extra={"stripe_event": event["id"], "type": kind, "outcome": outcome},
            )
            return True
        log.info(
            "stripe event applied",
            extra={
                "stripe_event": event["id"],
                "type": kind,
                "source": source,
                "outcome": outcome,
            },
        )
        return True


@cache
def _record_stripe_event(dialect: str) -> Insert:
    """The ``stripe_events`` row, or nothing if the event id is there already: a concurrent
    delivery's insert waits on the key until the first commits, then finds it taken. Built
    once per dialect, like ``_SET_OUTCOME``: constructing a webhook's statements cost more
    than running them (docs/benchmarks.md)."""
    return (
        insert_with_conflicts(dialect, StripeEvent.__table__)
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(StripeEvent.id)  # a row back: inserted now (rowcount is not reliable here)
    )


_SET_OUTCOME = (
    update(StripeEvent.__table__)
    .where(StripeEvent.__table__.c.id == bindparam("event_id"))
    .values(outcome=bindparam("outcome"))
)
"""On the table, not the mapped class: an ORM ``update()`` also works out which loaded objects it
changes, work for nothing on a row no object holds (the payment's own changes are flushed at
the commit)."""


def _correlation_of(obj: dict[str, Any]) -> str:
    """The flow a Stripe object belongs to: the checkout that opened its PaymentIntent.

    Refunds and disputes have no metadata of ours; they stay in the flow that brought them.
    """
    metadata = obj.get("metadata") or {}
    found = metadata.get("correlation_id") if isinstance(metadata, dict) else None
    if isinstance(found, str) and found:
        return found[:100]
    return context.current_correlation_id()


def _apply_stripe_event(
    uow: UnitOfWork, gateway: StripeGateway, kind: str, obj: dict[str, Any]
) -> str:
    if kind == "payment_intent.succeeded":
        return _on_intent_succeeded(uow, obj)
    if kind == "payment_intent.payment_failed":
        return _on_intent_failed(uow, obj)
    if kind == "payment_intent.processing":
        return _on_intent_processing(uow, obj)
    if kind == "charge.refunded":
        return _on_charge_refunded(uow, gateway, obj)
    if kind == "charge.dispute.created":
        return _on_dispute_created(uow, obj)
    return "ignored: type not handled"


def _outcome_kind(outcome: str) -> str:
    """The metric's outcome: ``applied`` when it changed something, ``flagged`` when it did not
    match our payment, else ``ignored``."""
    if outcome.startswith(FLAGGED):
        return FLAGGED
    return "ignored" if outcome.startswith(("ignored", "no change")) else "applied"


def _count_stripe_event(source: str, kind: str, outcome: str) -> None:
    metrics.STRIPE_EVENTS.labels(source, kind, outcome).inc()


def reconcile(uow_factory: Any, gateway: StripeGateway, now: datetime | None = None) -> int:
    """Apply recent Stripe events the webhook never delivered; returns how many were new."""
    since = (now or utcnow()) - RECONCILE_WINDOW
    events = gateway.events_since(since)
    if not events:
        return 0
    with uow_factory() as uow:
        seen = set(
            uow.session.scalars(
                select(StripeEvent.id).where(StripeEvent.id.in_([e["id"] for e in events]))
            )
        )
    applied = 0
    for event in events:
        if event["id"] not in seen and process_stripe_event(
            uow_factory(), gateway, event, "reconcile"
        ):
            applied += 1
    return applied
