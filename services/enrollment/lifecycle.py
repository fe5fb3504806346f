"""The changes of an enrollment that more than one use case makes.

A pending enrollment is made by enrolling and by a waitlist offer; it is activated by a free
enrollment and by ``payment.succeeded``; a promotion code is given back by a cancelled and by an
expired hold. ``facts`` are the fields every enrollment event carries.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from services.enrollment import domain
from services.enrollment.events import EnrollmentActivated
from services.enrollment.loading import rules_of
from services.enrollment.models import Course, Enrollment, PromoCode, PromoRedemption
from shared import clock
from shared.db import UnitOfWork
from shared.purchases import Checkout, PurchaseKind

PURCHASE = PurchaseKind("enrollment", "enrollment:")
"""How payments names an enrollment's purchase (``enrollment:<id>``)."""


def facts(row: Enrollment, course: Course) -> dict[str, Any]:
    """The fields every enrollment event carries (``EnrollmentFacts`` in the catalogue)."""
    return {
        "enrollment_id": row.id,
        "student_id": row.student_id,
        "email": row.email,
        "name": row.name,
        "course_slug": course.slug,
        "course_title": course.title,
        "cycle_start": row.cycle_start,
    }


def new_enrollment(
    course: Course,
    starts_on: date,
    *,
    student_id: str,
    email: str,
    name: str,
    amount_minor: int,
    promo_code: str | None,
    hold_expires_at: datetime,
    now: datetime,
) -> Enrollment:
    """A pending enrollment holding a seat (the seat itself is taken by ``seats.hold_seat``)."""
    rules = rules_of(course)
    cycle = domain.cycle(rules, domain.cycle_index_of(rules, starts_on))
    return Enrollment(
        id=str(uuid.uuid4()),
        student_id=student_id,
        email=email,
        name=name,
        course_slug=course.slug,
        cycle_start=starts_on,
        status=domain.PENDING_PAYMENT,
        amount_minor=amount_minor,
        list_price_minor=course.price_minor,
        currency=course.currency,
        promo_code=promo_code,
        hold_expires_at=hold_expires_at,
        access_ends_on=cycle.access_ends_on,
        deferrals_used=0,
        refunded_minor=0,
        from_waitlist=False,
        created_at=now,
        updated_at=now,
    )


def activate(
    uow: UnitOfWork, row: Enrollment, course: Course, now: datetime, payment_id: str | None
) -> None:
    """Paid (or free): the enrollment is active and ``enrollment.activated`` goes out."""
    row.status = domain.transition(row.status, domain.PAY)
    row.paid_at = now if row.amount_minor > 0 else None
    row.payment_id = payment_id
    row.updated_at = now
    rules = rules_of(course)
    cycle = domain.cycle(rules, domain.cycle_index_of(rules, row.cycle_start))
    uow.record(
        EnrollmentActivated(
            **facts(row, course),
            cycle_end=cycle.ends_on,
            access_ends_on=row.access_ends_on,
            amount_minor=row.amount_minor,
            currency=row.currency,
            payment_id=payment_id,
        )
    )


def forget_redemption(db: Session, row: Enrollment) -> None:
    """An enrollment that never started gives its promotion code back (and its count)."""
    forgotten = db.execute(
        delete(PromoRedemption).where(PromoRedemption.enrollment_id == row.id)
    ).rowcount
    if forgotten and row.promo_code:
        db.execute(
            update(PromoCode)
            .where(PromoCode.code == row.promo_code, PromoCode.redemptions >= forgotten)
            .values(redemptions=PromoCode.redemptions - forgotten)
            .execution_options(synchronize_session=False)
        )


def checkout_order(view: dict[str, Any]) -> Checkout:
    """What payments needs to open the checkout of an enrollment (as ``enrollment_view``)."""
    return Checkout(
        purchase_id=view["id"],
        user_id=view["student_id"],
        email=view["email"],
        name=view["name"],
        amount_minor=view["amount_minor"],
        currency=view["currency"],
        # Read by people (the admin ledger, Stripe's dashboard): the day as every page writes it.
        description=f"{view['course_title']}, cycle starting {clock.short_day(view['cycle_start'])}",
    )
