"""Payments' events about enrollments: paid, failed, refunded (each handled here, ``@handles``)."""

from __future__ import annotations

import uuid

from services.enrollment import domain, loading
from services.enrollment.events import EnrollmentRefunded, RequestRefund
from services.enrollment.lifecycle import PURCHASE, activate, facts
from services.enrollment.seats import release_seat
from services.payments.events import PaymentFailed, PaymentRefunded, PaymentSucceeded
from shared.bus.handlers import handles
from shared.db import UnitOfWork, utcnow
from shared.purchases import purchase_paid_for

LATE_PAYMENT_REFUNDS = uuid.UUID("5b0d3c8e-6f0e-4d51-9a0e-2f8f6f1c7a11")
"""The namespace of the refund request ids of payments that came too late (uuid5 of the
payment id): the same payment always asks for the same refund."""


@handles(PaymentSucceeded)
def payment_succeeded(uow: UnitOfWork, event: PaymentSucceeded) -> None:
    """Activate the enrollment; money for a seat already given up goes back (refund.requested)."""
    now = utcnow()
    with uow:
        row = purchase_paid_for(uow, loading.locked_enrollment, PURCHASE, event, "succeeded")
        if row is None:
            return
        course = loading.course(uow.session, row.course_slug, published_only=False)
        if row.status == domain.PENDING_PAYMENT:
            # Still pending means the seat is still ours, even if the hold's time has passed.
            activate(uow, row, course, now, event.payment_id)
        elif row.payment_id == event.payment_id:
            return  # this payment was applied already
        else:
            # Expired or cancelled (the seat went back, maybe to someone else), or a second
            # payment for an enrollment already paid: the money goes back.
            uow.record(
                RequestRefund(
                    # One request per payment, however often its success is announced: payments
                    # refunds a request id once (a unique key), so a second event is a no-op.
                    refund_request_id=str(uuid.uuid5(LATE_PAYMENT_REFUNDS, event.payment_id)),
                    purchase_ref=event.purchase_ref,
                    user_id=event.user_id,
                    amount_minor=event.amount_minor or None,
                    reason=f"payment arrived for an enrollment that is {row.status}",
                )
            )
            if row.status != domain.ACTIVE:
                row.last_payment_error = "The payment arrived after the seat was released."
                row.updated_at = now
        uow.commit()


@handles(PaymentFailed)
def payment_failed(uow: UnitOfWork, event: PaymentFailed) -> None:
    """The enrollment stays pending (the student may retry until the hold ends); keep the reason."""
    with uow:
        row = purchase_paid_for(uow, loading.locked_enrollment, PURCHASE, event, "failed")
        if row is None or row.status != domain.PENDING_PAYMENT:
            return
        row.last_payment_error = event.reason[:1000]
        row.updated_at = utcnow()
        uow.commit()


@handles(PaymentRefunded)
def payment_refunded(uow: UnitOfWork, event: PaymentRefunded) -> None:
    """Money went back: an active enrollment ends and its seat is released (and offered)."""
    now = utcnow()
    with uow:
        row = purchase_paid_for(uow, loading.locked_enrollment, PURCHASE, event, "refunded")
        if row is None:
            return
        course = loading.course(uow.session, row.course_slug, published_only=False)
        row.refunded_minor += event.amount_minor
        row.updated_at = now
        if row.status == domain.ACTIVE:
            row.status = domain.transition(row.status, domain.REFUND)
            row.refunded_at = now
            release_seat(uow, course, row.cycle_start, now)
            uow.record(
                EnrollmentRefunded(
                    **facts(row, course), amount_minor=event.amount_minor, currency=row.currency
                )
            )
        uow.commit()
