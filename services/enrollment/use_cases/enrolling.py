"""Enrolling: hold a seat, price it (with a promotion code), then open the checkout."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.enrollment import domain, loading
from services.enrollment.events import EnrollmentCancelled, EnrollmentPending
from services.enrollment.lifecycle import (
    PURCHASE,
    activate,
    checkout_order,
    facts,
    forget_redemption,
    new_enrollment,
)
from services.enrollment.loading import (
    already_enrolled,
    fields_named,
    has_live_enrollment,
    rules_of,
)
from services.enrollment.models import Course, PromoCode, PromoRedemption
from services.enrollment.queries import OPEN_CYCLES, enrollment_view
from services.enrollment.seats import hold_seat, release_seat
from shared.auth import Principal
from shared.db import UnitOfWork, utcnow
from shared.errors import Forbidden, PaymentsUnavailable
from shared.payments_client import PaymentsClient
from shared.purchases import keep_checkout, open_checkout


def enroll(
    uow: UnitOfWork,
    payments: PaymentsClient,
    principal: Principal,
    course_slug: str,
    cycle_start: date | None = None,
    promo_code: str | None = None,
) -> dict[str, Any]:
    """Hold a seat and price the enrollment, commit it, THEN ask payments for the checkout.

    The seat is held before payments is called so no student pays for a seat that is gone;
    if payments cannot be reached the hold is released at once (503). The checkout is kept
    on the enrollment, so the checkout page and its status polls read it without payments.
    """
    if not principal.email or not principal.name:
        raise Forbidden("Only a person's own account can enroll.")
    view = _hold_and_price(uow, principal, course_slug, cycle_start, promo_code)
    if view["status"] != domain.PENDING_PAYMENT:
        return view  # free: active already, nothing to pay
    try:
        view["checkout"] = open_checkout(payments, PURCHASE, checkout_order(view))
    except PaymentsUnavailable:
        cancel_hold(uow, view["id"], "payments unavailable")
        raise
    keep_checkout(uow, loading.locked_enrollment, view["id"], view["checkout"])
    return view


def _hold_and_price(
    uow: UnitOfWork,
    principal: Principal,
    course_slug: str,
    cycle_start: date | None,
    promo_code: str | None,
) -> dict[str, Any]:
    """The committed pending enrollment (active at once when the price comes to nothing)."""
    now = utcnow()
    with uow:
        db = uow.session
        course = loading.course(db, course_slug)
        with fields_named(cycle_index="cycle_start"):
            cycle = domain.open_cycle(rules_of(course), cycle_start, now.date(), OPEN_CYCLES)
        if has_live_enrollment(db, principal.user_id, course.slug):
            raise already_enrolled()
        price, promo = course.price_minor, None
        if promo_code:
            price, promo = _promo_price(db, course, promo_code, principal.user_id, now)
        hold_seat(db, course, cycle.starts_on)
        row = new_enrollment(
            course,
            cycle.starts_on,
            student_id=principal.user_id,
            email=principal.email,
            name=principal.name,
            amount_minor=price,
            promo_code=promo.code if promo else None,
            hold_expires_at=domain.hold_expires_at(now),
            now=now,
        )
        db.add(row)
        if promo is not None:
            db.add(
                PromoRedemption(
                    code=promo.code,
                    enrollment_id=row.id,
                    student_id=principal.user_id,
                    discount_minor=course.price_minor - price,
                    redeemed_at=now,
                )
            )
        with _one_live_enrollment_per_course():
            db.flush()
        uow.record(
            EnrollmentPending(
                **facts(row, course),
                amount_minor=row.amount_minor,
                currency=row.currency,
                hold_expires_at=row.hold_expires_at,
            )
        )
        if price == 0:
            activate(uow, row, course, now, payment_id=None)  # free: no checkout at all
        with _one_live_enrollment_per_course():
            uow.commit()
        return enrollment_view(row, course)


def cancel_hold(uow: UnitOfWork, enrollment_id: str, reason: str) -> None:
    """A pending enrollment whose checkout could not open: the seat and the code go back."""
    now = utcnow()
    with uow:
        db = uow.session
        row = loading.locked_enrollment(db, enrollment_id)
        if row is None or row.status != domain.PENDING_PAYMENT:
            return
        course = loading.course(db, row.course_slug, published_only=False)
        row.status = domain.transition(row.status, domain.CANCEL)
        row.updated_at = now
        forget_redemption(db, row)
        release_seat(uow, course, row.cycle_start, now)
        uow.record(EnrollmentCancelled(**facts(row, course), reason=reason))
        uow.commit()


@contextmanager
def _one_live_enrollment_per_course() -> Iterator[None]:
    """The database's unique index settles two racing enrollments of one student in one
    course: its violation becomes :class:`AlreadyEnrolled`."""
    try:
        yield
    except IntegrityError as err:
        if "uq_enrollments_one_live_per_course" in str(err.orig):
            raise already_enrolled() from err
        raise


def _promo_price(
    db: Session, course: Course, code: str, student_id: str, now: datetime
) -> tuple[int, PromoCode]:
    """The price after a code, with one redemption of it taken.

    The redemption is taken first, by one conditional UPDATE of the code's counter (``WHERE
    redemptions < max_redemptions``): the database settles a race for the last use, on
    SQLite (which ignores ``FOR UPDATE``) as on PostgreSQL. That UPDATE also makes racing
    redemptions of the code take turns until commit, so the per-student count read after it
    is current. A rule that then refuses the code rolls the redemption back with the rest.
    """
    normalized = domain.normalize_promo_code(code)
    taken = (
        db.execute(
            update(PromoCode)
            .where(
                PromoCode.code == normalized,
                or_(
                    PromoCode.max_redemptions.is_(None),
                    PromoCode.redemptions < PromoCode.max_redemptions,
                ),
            )
            .values(redemptions=PromoCode.redemptions + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )
    row = db.scalar(
        select(PromoCode)
        .where(PromoCode.code == normalized)
        .execution_options(populate_existing=True)
    )
    if row is None:
        raise domain.UnknownPromoCode(f"There is no promotion code {code!r}", field="promo_code")
    before = row.redemptions - 1 if taken else row.redemptions
    used = select(func.count()).select_from(PromoRedemption).where(PromoRedemption.code == row.code)
    mine = db.scalar(used.where(PromoRedemption.student_id == student_id))
    with fields_named(code="promo_code"):
        price = domain.price_with_promo(
            course.price_minor,
            course.currency,
            _promo_rules(row),
            course.slug,
            now,
            before,
            mine,
        )
        if not taken:  # the counter is the truth, even if the rules would have let it through
            raise domain.PromoExhausted(f"The code {row.code} has been used up", field="code")
    return price, row


def _promo_rules(row: PromoCode) -> domain.PromoCode:
    return domain.PromoCode(
        code=row.code,
        kind=row.kind,
        value=row.value,
        course_slug=row.course_slug,
        max_redemptions=row.max_redemptions,
        per_student_limit=row.per_student_limit,
        expires_at=row.expires_at,
        currency=row.currency,
    )
