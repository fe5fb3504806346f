"""Opening a purchase's payment (its Stripe customer and PaymentIntent) and paying it by card."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.payments import domain
from services.payments.events import PaymentFailed
from services.payments.loading import facts, new_id
from services.payments.models import Customer, Payment
from services.payments.queries import payment_view
from services.payments.stripe_gateway import StripeGateway, StripeRefused
from shared import context
from shared.auth import Principal
from shared.db import UnitOfWork, utcnow

log = logging.getLogger(__name__)


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
                id=new_id(),
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


def _insert_payment(uow: UnitOfWork, cmd: dict[str, Any]) -> bool:
    """A purchase's first payment row; False if a racing call inserted it first."""
    with uow:
        now = utcnow()
        uow.session.add(
            Payment(
                id=new_id(),
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
        except IntegrityError:
            uow.rollback()  # a racing call made the purchase's payment: use that one
            return False
    return True


def open_payment(
    uow: UnitOfWork, gateway: StripeGateway, cmd: dict[str, Any]
) -> tuple[dict[str, Any], bool]:
    """The payment of a purchase with its PaymentIntent; True when it was made by this call.

    A purchase asked for again (a retried checkout) finds its payment by one SELECT; only a
    new one is inserted, and two racing first calls settle on one row by the unique
    ``purchase_ref`` (the loser's INSERT fails and it uses the winner's).
    """
    by_ref = select(Payment).where(Payment.purchase_ref == cmd["purchase_ref"])
    with uow:
        exists = uow.session.scalar(by_ref.with_only_columns(Payment.id)) is not None
    created = False if exists else _insert_payment(uow, cmd)
    with uow:
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
            uow.record(PaymentFailed(**facts(p), reason=reason))
            uow.commit()
            raise domain.CardDeclined(reason, field="card") from exc
        return {"payment_id": p.id, "status": intent.status, "client_secret": p.client_secret}
