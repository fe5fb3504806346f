"""Buying hours with a tutor: a package priced and paid through payments, then credited.

The package is committed before payments is asked for a checkout, so nothing is held while
the student pays; the hours arrive with ``payment.succeeded`` and unused ones leave with
``payment.refunded``. The purchase itself (its reference, its checkout kept on the row, the
payment's status) is the building block enrollment uses too, ``shared/purchases.py``: a read of
a pending package is answered from tutoring's database alone.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from services.payments.events import PaymentRefunded, PaymentSucceeded
from services.tutoring import domain, loading
from services.tutoring.events import PackagePurchased
from services.tutoring.models import Package, Tutor
from services.tutoring.queries import package_view
from shared.auth import Principal
from shared.bus.handlers import handles
from shared.db import UnitOfWork, utcnow
from shared.errors import Forbidden, PaymentsUnavailable
from shared.payments_client import PaymentsClient
from shared.purchases import (
    Checkout,
    PurchaseKind,
    checkout_for_read,
    keep_checkout,
    open_checkout,
    purchase_paid_for,
)

log = logging.getLogger(__name__)

PACKAGE = PurchaseKind("tutoring_package", "package:")
"""How payments names a package's purchase (``package:<id>``)."""


def buy_package(
    uow: UnitOfWork, payments: PaymentsClient, principal: Principal, tutor_id: str, hours: int
) -> dict[str, Any]:
    """Price the package and commit it, THEN ask payments for the checkout.

    Nothing is held while the student pays, so a payments outage only cancels the package
    (503) and the student tries again; the hours arrive with ``payment.succeeded``. The
    checkout is kept on the package, so its page reads it without payments.
    """
    if not principal.email or not principal.name:
        raise Forbidden("Only a person's own account can buy a package.")
    now = utcnow()
    with uow:
        tutor = loading.tutor(uow.session, tutor_id)
        row = Package(
            id=loading.new_id(),
            student_id=principal.user_id,
            student_email=principal.email,
            student_name=principal.name,
            tutor_id=tutor.id,
            hours=hours,
            amount_minor=domain.package_price(tutor.session_rate_minor, hours),
            currency=tutor.currency,
            status="pending_payment",
            refunded_minor=0,
            refunded_hours=0,
            created_at=now,
            updated_at=now,
        )
        uow.session.add(row)
        uow.commit()
        view, order = package_view(row, tutor), _checkout_order(row, tutor)
    try:
        view["checkout"] = open_checkout(payments, PACKAGE, order)
    except PaymentsUnavailable:
        _cancel_unpaid(uow, view["id"])
        raise
    keep_checkout(uow, loading.locked_package, view["id"], view["checkout"])
    return view


def get_package(
    uow: UnitOfWork, payments: PaymentsClient, principal: Principal, package_id: str
) -> dict[str, Any]:
    """One package; a pending one carries its checkout again so the student can pay.

    The checkout is the one kept when it was opened, so reading it does not call payments.
    """
    with uow:
        row = loading.owned_package(uow.session, principal, package_id)
        tutor = uow.session.get(Tutor, row.tutor_id)
        view, order = package_view(row, tutor), _checkout_order(row, tutor)
        stored = row.stored_checkout()
    if view["status"] == "pending_payment":
        view["checkout"] = checkout_for_read(
            uow, loading.locked_package, stored, payments, PACKAGE, order
        )
    return view


@handles(PaymentSucceeded)
def payment_succeeded(uow: UnitOfWork, event: PaymentSucceeded) -> None:
    """The package is paid: its hours go on the student's balance with that tutor, once
    (payments for other purchase kinds are ignored)."""
    with uow:
        row = purchase_paid_for(uow, loading.locked_package, PACKAGE, event, "succeeded")
        if row is None:
            return
        if row.status in ("paid", "refunded"):
            if row.payment_id != event.payment_id:
                log.warning("a second payment for a paid package", extra={"package": row.id})
        else:
            _credit_hours(uow, row, event.payment_id)
        uow.commit()


@handles(PaymentRefunded)
def payment_refunded(uow: UnitOfWork, event: PaymentRefunded) -> None:
    """Money for a package went back: the hours it covers leave the balance, unused ones only."""
    with uow:
        row = purchase_paid_for(uow, loading.locked_package, PACKAGE, event, "refunded")
        if row is not None and row.status in ("paid", "refunded"):
            _take_back_hours(uow.session, row, event.amount_minor)
        uow.commit()


def _credit_hours(uow: UnitOfWork, row: Package, payment_id: str) -> None:
    """The package becomes paid and its hours go on the ledger (``package.purchased``)."""
    now = utcnow()
    row.status, row.payment_id, row.updated_at = "paid", payment_id, now
    ledger = loading.ledger(uow.session, row.student_id, row.tutor_id)
    ledger.purchased += row.hours
    ledger.updated_at = now
    tutor = uow.session.get(Tutor, row.tutor_id)
    uow.record(
        PackagePurchased(
            package_id=row.id,
            student_id=row.student_id,
            student_email=row.student_email,
            student_name=row.student_name,
            tutor_id=tutor.id,
            tutor_name=tutor.name,
            hours=row.hours,
            amount_minor=row.amount_minor,
            currency=row.currency,
        )
    )


def _take_back_hours(db: Session, row: Package, amount_minor: int) -> None:
    """The hours a refund covers leave the package and, as far as unused, the ledger."""
    now = utcnow()
    row.refunded_minor += amount_minor
    covered = domain.hours_refunded(row.hours, row.amount_minor, row.refunded_minor)
    newly = covered - row.refunded_hours
    row.refunded_hours = covered
    if covered >= row.hours:
        row.status = "refunded"
    row.updated_at = now
    if newly > 0:
        ledger = loading.ledger(db, row.student_id, row.tutor_id)
        before = loading.hours_available(ledger)
        after = domain.credits_after_refund(ledger.purchased, ledger.used, ledger.refunded + newly)
        ledger.refunded += before - after
        ledger.updated_at = now


def _checkout_order(row: Package, tutor: Tutor) -> Checkout:
    """What payments needs to open the package's checkout."""
    return Checkout(
        purchase_id=row.id,
        user_id=row.student_id,
        email=row.student_email,
        name=row.student_name,
        amount_minor=row.amount_minor,
        currency=row.currency,
        # Read by people (the admin ledger, Stripe's dashboard).
        description=f"{row.hours} h of tutoring with {tutor.name}",
    )


def _cancel_unpaid(uow: UnitOfWork, package_id: str) -> None:
    """Payments could not open the checkout: the package is cancelled, the student retries."""
    with uow:
        uow.session.execute(
            update(Package)
            .where(Package.id == package_id, Package.status == "pending_payment")
            .values(status="cancelled", updated_at=utcnow())
        )
        uow.commit()
