"""Buying hours with a tutor: a package priced and paid through payments, then credited.

The package is committed before payments is asked for a checkout, so nothing is held while
the student pays; the hours arrive with ``payment.succeeded`` and unused ones leave with
``payment.refunded``. (Issue 14 later swaps the purchase plumbing here for one shared with
enrollment; the use cases keep their names.)
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from contextlib import suppress
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.payments.events import PaymentFacts, PaymentRefunded, PaymentSucceeded
from services.tutoring import domain, loading
from services.tutoring.models import Package, Tutor
from services.tutoring.queries import package_view
from shared.auth import Principal
from shared.bus.handlers import handles
from shared.db import UnitOfWork, utcnow
from shared.errors import Forbidden, PaymentsUnavailable
from shared.payments_client import PaymentsClient

log = logging.getLogger(__name__)

PURCHASE_KIND = "tutoring_package"
PURCHASE_PREFIX = "package:"


def purchase_ref(package_id: str) -> str:
    return f"{PURCHASE_PREFIX}{package_id}"


def buy_package(
    uow: UnitOfWork, payments: PaymentsClient, principal: Principal, tutor_id: str, hours: int
) -> dict[str, Any]:
    """Price the package and commit it, THEN ask payments for the checkout.

    Nothing is held while the student pays, so a payments outage only cancels the package
    (503) and the student tries again; the hours arrive with ``payment.succeeded``.
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
        view = package_view(row, tutor)
        facts = {**view, "email": row.student_email, "name": row.student_name}
    try:
        view["checkout"] = _checkout(payments, facts)
    except PaymentsUnavailable:
        _cancel_unpaid(uow, view["id"])
        raise
    return view


def get_package(
    uow: UnitOfWork, payments: PaymentsClient, principal: Principal, package_id: str
) -> dict[str, Any]:
    """One package; a pending one carries its (same) checkout again so the student can pay."""
    with uow:
        row = loading.owned_package(uow.session, principal, package_id)
        view = package_view(row, uow.session.get(Tutor, row.tutor_id))
        facts = {**view, "email": row.student_email, "name": row.student_name}
    if view["status"] == "pending_payment":
        # Without payments the page says "try again"; the package itself stays readable.
        with suppress(PaymentsUnavailable):
            view["checkout"] = _checkout(payments, facts)
    return view


@handles(PaymentSucceeded)
def payment_succeeded(uow: UnitOfWork, event: PaymentSucceeded) -> None:
    """The package is paid: its hours go on the student's balance with that tutor (payments
    for other purchase kinds are ignored)."""
    with uow:
        row = _paid_package(uow.session, event)
        if row is None:
            return
        if row.status in ("paid", "refunded"):
            if row.payment_id != event.payment_id:
                log.warning("a second payment for a paid package", extra={"package": row.id})
            uow.commit()
            return
        now = utcnow()
        row.status, row.payment_id, row.updated_at = "paid", event.payment_id, now
        ledger = loading.ledger(uow.session, row.student_id, row.tutor_id)
        ledger.purchased += row.hours
        ledger.updated_at = now
        tutor = uow.session.get(Tutor, row.tutor_id)
        uow.record(
            "package.purchased",
            {
                "package_id": row.id,
                "student_id": row.student_id,
                "student_email": row.student_email,
                "student_name": row.student_name,
                "tutor_id": tutor.id,
                "tutor_name": tutor.name,
                "hours": row.hours,
                "amount_minor": row.amount_minor,
                "currency": row.currency,
            },
        )
        uow.commit()


@handles(PaymentRefunded)
def payment_refunded(uow: UnitOfWork, event: PaymentRefunded) -> None:
    """Money for a package went back: the hours it covers leave the balance, unused ones only."""
    with uow:
        row = _paid_package(uow.session, event)
        if row is None or row.status not in ("paid", "refunded"):
            uow.commit()
            return
        now = utcnow()
        row.refunded_minor += event.amount_minor
        covered = domain.hours_refunded(row.hours, row.amount_minor, row.refunded_minor)
        newly = covered - row.refunded_hours
        row.refunded_hours = covered
        if covered >= row.hours:
            row.status = "refunded"
        row.updated_at = now
        if newly > 0:
            ledger = loading.ledger(uow.session, row.student_id, row.tutor_id)
            before = loading.hours_available(ledger)
            after = domain.credits_after_refund(
                ledger.purchased, ledger.used, ledger.refunded + newly
            )
            ledger.refunded += before - after
            ledger.updated_at = now
        uow.commit()


def _checkout(payments: PaymentsClient, facts: Mapping[str, Any]) -> dict[str, Any]:
    """The package's PaymentIntent: payments makes it once and hands the same one back later."""
    intent = payments.create_intent(
        purchase_kind=PURCHASE_KIND,
        purchase_ref=purchase_ref(facts["id"]),
        user_id=facts["student_id"],
        email=facts["email"],
        name=facts["name"],
        amount_minor=facts["amount_minor"],
        currency=facts["currency"],
        description=f"{facts['hours']} h of tutoring with {facts['tutor_name']}",
    )
    return {k: intent[k] for k in ("client_secret", "publishable_key", "js_url", "payment_id")}


def _cancel_unpaid(uow: UnitOfWork, package_id: str) -> None:
    """Payments could not open the checkout: the package is cancelled, the student retries."""
    with uow:
        uow.session.execute(
            update(Package)
            .where(Package.id == package_id, Package.status == "pending_payment")
            .values(status="cancelled", updated_at=utcnow())
        )
        uow.commit()


def _paid_package(db: Session, event: PaymentFacts) -> Package | None:
    """The package a payments event is about (locked), or None if it is not ours."""
    if event.purchase_kind != PURCHASE_KIND:
        return None
    ref = event.purchase_ref
    package_id = ref.removeprefix(PURCHASE_PREFIX) if ref.startswith(PURCHASE_PREFIX) else None
    row = None
    if package_id:
        row = db.scalar(select(Package).where(Package.id == package_id).with_for_update())
    if row is None:
        log.warning("payment for an unknown package", extra={"ref": ref})
    return row
