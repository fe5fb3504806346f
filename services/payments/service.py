"""Payments' use cases: open a payment, apply what Stripe tells us, refund, reconcile, report.

Stripe is called inside the unit of work while the payment row is locked (``FOR UPDATE``):
two concurrent calls for one purchase, or two refund requests for one payment, take turns, so
the second sees what the first did instead of making a second PaymentIntent or refund.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Insert, bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.enrollment.events import RequestRefund
from services.payments import domain
from services.payments.models import Customer, Dispute, Payment, Refund, StripeEvent
from services.payments.stripe_gateway import StripeGateway, StripeRefused, gateway, id_of
from shared import context, metrics
from shared.auth import Principal
from shared.bus.handlers import handles
from shared.db import UnitOfWork, insert_with_conflicts, utcnow

log = logging.getLogger(__name__)

RECONCILE_WINDOW = timedelta(days=3)


def _new_id() -> str:
    return str(uuid.uuid4())


# --- views ---------------------------------------------------------------------------------


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


def _facts(p: Payment) -> dict[str, Any]:
    """The fields every payment event carries (shared.bus.catalogue.PaymentFacts)."""
    return {
        "payment_id": p.id,
        "purchase_ref": p.purchase_ref,
        "purchase_kind": p.purchase_kind,
        "user_id": p.user_id,
        "amount_minor": p.amount_minor,
        "currency": p.currency,
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


# --- opening a payment ---------------------------------------------------------------------


def _customer_for(uow: UnitOfWork, gateway: StripeGateway, cmd: dict[str, Any]) -> str:
    """The user's one Stripe customer, made on their first purchase."""
    row = uow.session.scalar(select(Customer).where(Customer.user_id == cmd["user_id"]))
    if row is not None:
        return row.stripe_customer_id
    stripe_id = gateway.create_customer(cmd["user_id"], cmd["email"], cmd["name"])
    # Its own short transaction: a concurrent first purchase of the same user settles on one
    # row (the unique user_id), and Stripe's idempotency key gives both the same customer.
    with uow.db.session() as own:
        own.add(
            Customer(
                id=_new_id(),
                user_id=cmd["user_id"],
                stripe_customer_id=stripe_id,
                email=cmd["email"],
                created_at=utcnow(),
            )
        )
        try:
            own.commit()
        except IntegrityError:
            own.rollback()
            existing = own.scalar(select(Customer).where(Customer.user_id == cmd["user_id"]))
            if existing is not None:
                return existing.stripe_customer_id
            raise
    return stripe_id


def _check_same_purchase(p: Payment, cmd: dict[str, Any]) -> None:
    asked = (cmd["user_id"], cmd["amount_minor"], domain.normalize_currency(cmd["currency"]))
    if (p.user_id, p.amount_minor, p.currency) != asked:
        raise domain.PurchaseMismatch(
            "This purchase_ref already has a payment for another user, amount or currency.",
            field="purchase_ref",
        )


def open_payment(
    uow: UnitOfWork, gateway: StripeGateway, cmd: dict[str, Any]
) -> tuple[dict[str, Any], bool]:
    """The payment of a purchase with its PaymentIntent; True when it was made by this call."""
    created = False
    with uow:
        now = utcnow()
        uow.session.add(
            Payment(
                id=_new_id(),
                purchase_ref=cmd["purchase_ref"],
                purchase_kind=cmd["purchase_kind"],
                user_id=cmd["user_id"],
                email=cmd["email"],
                name=cmd["name"],
                description=cmd.get("description") or "",
                amount_minor=cmd["amount_minor"],
                currency=domain.normalize_currency(cmd["currency"]),
                status=domain.REQUIRES_PAYMENT,
                refunded_minor=0,
                created_at=now,
                updated_at=now,
            )
        )
        try:
            uow.commit()
            created = True
        except IntegrityError:
            uow.rollback()  # the purchase already has its payment: use that one
    with uow:
        by_ref = select(Payment).where(Payment.purchase_ref == cmd["purchase_ref"])
        p = uow.session.scalar(by_ref)
        _check_same_purchase(p, cmd)
        if p.stripe_payment_intent_id is None:
            # The customer first, before the lock: it commits in a transaction of its own,
            # which would wait forever for the lock of this one on SQLite (one writer a file).
            customer_id = _customer_for(uow, gateway, cmd)
        p = uow.session.scalar(by_ref.with_for_update().execution_options(populate_existing=True))
        if p.stripe_payment_intent_id is None:
            metadata = {
                "purchase_ref": p.purchase_ref,
                "purchase_kind": p.purchase_kind,
                "user_id": p.user_id,
                "payment_id": p.id,
                # Stripe's webhook arrives as a request of its own: this lets the events it
                # causes carry the checkout's correlation id (see process_stripe_event).
                "correlation_id": context.current_correlation_id(),
            }
            if p.description:
                metadata["description"] = p.description[:500]
            intent = gateway.create_payment_intent(
                amount_minor=p.amount_minor,
                currency=p.currency,
                customer_id=customer_id,
                metadata=metadata,
                idempotency_key=f"pi-{p.purchase_ref}",
            )
            p.stripe_payment_intent_id = intent.id
            p.client_secret = intent.client_secret
            p.updated_at = utcnow()
            uow.commit()
            log.info(
                "payment intent created",
                extra={"payment_id": p.id, "payment_intent": intent.id},
            )
        view = payment_view(p)
        view["client_secret"] = p.client_secret
        return view, created


def pay_with_card(
    uow: UnitOfWork, gateway: StripeGateway, principal: Principal, payment_id: str, token: str
) -> dict[str, Any]:
    """The buyer's card for their payment, confirmed on the server.

    Fulfilment still waits for Stripe's ``payment_intent.succeeded`` webhook; this only tells
    the checkout page whether to show 3-D Secure, an error, or the "confirming" page. A card
    declined before any charge exists gets no webhook from Stripe, so the failure is published
    here.
    """
    with uow:
        p = uow.session.scalar(select(Payment).where(Payment.id == payment_id).with_for_update())
        if p is None or p.user_id != principal.user_id:
            raise domain.PaymentNotFound("No such payment of yours.", field="payment_id")
        if p.status not in domain.UNPAID or p.stripe_payment_intent_id is None:
            raise domain.AlreadyPaid("This purchase is already paid.", field="payment_id")
        customer = uow.session.scalar(select(Customer).where(Customer.user_id == p.user_id))
        try:
            intent = gateway.pay_with_card(
                payment_intent=p.stripe_payment_intent_id,
                customer_id=customer.stripe_customer_id,
                card_token=token,
            )
        except StripeRefused as exc:
            reason = str(exc) or "Your card was declined."
            p.status = domain.on_failure(p.status) or p.status
            p.failure_reason = reason
            p.updated_at = utcnow()
            uow.record("payment.failed", {**_facts(p), "reason": reason})
            uow.commit()
            raise domain.CardDeclined(reason, field="card") from exc
        return {"payment_id": p.id, "status": intent.status, "client_secret": p.client_secret}


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


# --- what Stripe tells us (webhook and reconciliation) --------------------------------------


def _locked_payment(
    session: Session, payment_intent_id: str | None, charge_id: str | None = None
) -> Payment | None:
    query = select(Payment).with_for_update()
    if payment_intent_id:
        return session.scalar(query.where(Payment.stripe_payment_intent_id == payment_intent_id))
    if charge_id:
        return session.scalar(query.where(Payment.stripe_charge_id == charge_id))
    return None


FLAGGED = "flagged"
"""How a Stripe event's outcome starts when it was recorded but not applied, because what it
says does not match our payment (an amount or a currency we never asked for). Operations
lists them in the ledger (``flagged_events``), logs an error and counts them in
``preceptor_stripe_events_total{outcome="flagged"}``."""


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
    p = _locked_payment(uow.session, intent.get("id"))
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
    uow.record(
        "payment.succeeded", {**_facts(p), "stripe_payment_intent_id": p.stripe_payment_intent_id}
    )
    return "payment succeeded"


def _on_intent_failed(uow: UnitOfWork, intent: dict[str, Any]) -> str:
    p = _locked_payment(uow.session, intent.get("id"))
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
    uow.record("payment.failed", {**_facts(p), "reason": reason})
    return "payment failed"


def _on_intent_processing(uow: UnitOfWork, intent: dict[str, Any]) -> str:
    p = _locked_payment(uow.session, intent.get("id"))
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
    p = _locked_payment(uow.session, id_of(charge.get("payment_intent")), charge.get("id"))
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
        _apply_refund(uow, p, refund["id"], amount, metadata.get("refund_request_id"), metadata)
        applied += 1
    return f"{applied} refund(s) recorded"


def _apply_refund(
    uow: UnitOfWork,
    p: Payment,
    stripe_refund_id: str,
    amount: int,
    refund_request_id: str | None,
    metadata: dict[str, Any],
    row: Refund | None = None,
) -> None:
    now = utcnow()
    if row is None:
        row = Refund(id=_new_id(), payment_id=p.id, created_at=now)
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
        "payment.refunded",
        {
            **_facts(p),
            "amount_minor": amount,
            "refund_id": stripe_refund_id,
            "refund_request_id": refund_request_id,
        },
    )


def _on_dispute_created(uow: UnitOfWork, dispute: dict[str, Any]) -> str:
    p = _locked_payment(
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
            id=_new_id(),
            payment_id=p.id,
            stripe_dispute_id=dispute["id"],
            amount_minor=int(dispute.get("amount") or p.amount_minor),
            currency=domain.normalize_currency(dispute.get("currency") or p.currency),
            reason=reason[:100],
            status=(dispute.get("status") or "needs_response")[:50],
            created_at=utcnow(),
        )
    )
    uow.record("payment.disputed", {**_facts(p), "reason": reason})
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


# --- refunds we are asked for ----------------------------------------------------------------


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
            id=_new_id(),
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
        _apply_refund(
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
