"""The scheduled jobs: lapsed holds expire, access-ending notices go out, access completes.

Each job reads the due ids, then handles each enrollment in its own transaction (locked, its
state checked again), so one bad row never holds up the rest and a racing event wins cleanly.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from services.enrollment import domain, loading
from services.enrollment.events import (
    EnrollmentAccessExpiring,
    EnrollmentCompleted,
    EnrollmentExpired,
)
from services.enrollment.lifecycle import PURCHASE, facts, forget_redemption
from services.enrollment.models import Enrollment
from services.enrollment.seats import release_seat
from shared.db import UnitOfWork, utcnow
from shared.errors import PaymentsUnavailable
from shared.payments_client import PaymentsClient

NOTICE_DAYS = 7

UowFactory = Callable[[], UnitOfWork]


def _ids(uow: UnitOfWork, query: Any) -> list[str]:
    with uow:
        return list(uow.session.scalars(query.limit(500)))


def expire_holds(
    uow_factory: UowFactory, payments: PaymentsClient | None = None, now: datetime | None = None
) -> int:
    """Expire every lapsed hold, each in its own transaction; returns how many expired.

    If payments says the money is already in (or on its way), the hold is kept: the
    ``payment.succeeded`` event is coming and will activate it. If payments cannot be asked,
    the hold expires as the rules say, and a late payment is refunded.
    """
    now = now or utcnow()
    due = _ids(
        uow_factory(),
        select(Enrollment.id).where(
            Enrollment.status == domain.PENDING_PAYMENT, Enrollment.hold_expires_at <= now
        ),
    )
    expired = 0
    for enrollment_id in due:
        if payments is not None and _payment_in_flight(payments, enrollment_id):
            continue
        uow = uow_factory()
        with uow:
            db = uow.session
            row = loading.locked_enrollment(db, enrollment_id)
            if row is None or row.status != domain.PENDING_PAYMENT:
                continue
            if not domain.is_hold_expired(row.hold_expires_at, now):
                continue
            course = loading.course(db, row.course_slug, published_only=False)
            row.status = domain.transition(row.status, domain.EXPIRE_HOLD)
            row.updated_at = now
            forget_redemption(db, row)
            uow.record(EnrollmentExpired(**facts(row, course)))
            release_seat(uow, course, row.cycle_start, now)
            uow.commit()
            expired += 1
    return expired


def _payment_in_flight(payments: PaymentsClient, enrollment_id: str) -> bool:
    try:
        payment = payments.payment(PURCHASE.ref(enrollment_id))
    except PaymentsUnavailable:
        return False
    return payment is not None and payment.get("status") in ("succeeded", "processing")


def send_access_notices(uow_factory: UowFactory, now: datetime | None = None) -> int:
    """Tell each active student, once, that their access ends within ``NOTICE_DAYS`` days."""
    now = now or utcnow()
    today = now.date()
    due = _ids(
        uow_factory(),
        select(Enrollment.id).where(
            Enrollment.status == domain.ACTIVE,
            Enrollment.access_notice_sent_at.is_(None),
            Enrollment.access_ends_on <= today + timedelta(days=NOTICE_DAYS),
            Enrollment.access_ends_on > today,
        ),
    )
    sent = 0
    for enrollment_id in due:
        uow = uow_factory()
        with uow:
            db = uow.session
            row = loading.locked_enrollment(db, enrollment_id)
            if (
                row is None
                or row.status != domain.ACTIVE
                or row.access_notice_sent_at is not None
                or not domain.access_expiring_soon(row.access_ends_on, today, NOTICE_DAYS)
            ):
                continue
            course = loading.course(db, row.course_slug, published_only=False)
            row.access_notice_sent_at = now
            uow.record(
                EnrollmentAccessExpiring(**facts(row, course), access_ends_on=row.access_ends_on)
            )
            uow.commit()
            sent += 1
    return sent


def complete_finished(uow_factory: UowFactory, now: datetime | None = None) -> int:
    """Complete every active enrollment whose access has ended."""
    now = now or utcnow()
    today = now.date()
    due = _ids(
        uow_factory(),
        select(Enrollment.id).where(
            Enrollment.status == domain.ACTIVE, Enrollment.access_ends_on <= today
        ),
    )
    completed = 0
    for enrollment_id in due:
        uow = uow_factory()
        with uow:
            db = uow.session
            row = loading.locked_enrollment(db, enrollment_id)
            if row is None or row.status != domain.ACTIVE or row.access_ends_on > today:
                continue
            course = loading.course(db, row.course_slug, published_only=False)
            row.status = domain.transition(row.status, domain.COMPLETE)
            row.updated_at = now
            uow.record(EnrollmentCompleted(**facts(row, course), access_ends_on=row.access_ends_on))
            uow.commit()
            completed += 1
    return completed
