"""Enrollment's events, and the refund command it sends to payments.

Changing a class changes the wire (shared/bus/events.py): add optional fields first, and never
rename a routing key.
"""

from __future__ import annotations

from datetime import date, datetime

from shared.bus.events import (
    Currency,
    Email,
    NonNegative,
    Positive,
    command,
    event,
    record,
)


@record
class EnrollmentFacts:
    """What every enrollment event says, so consumers never need enrollment's tables."""

    enrollment_id: str
    student_id: str
    email: Email
    name: str
    course_slug: str
    course_title: str
    cycle_start: date


@event(
    "enrollment.pending",
    producer="enrollment",
    description="""
A student started checkout: a seat in the cycle is held until ``hold_expires_at`` while the
payment is pending.
""",
)
class EnrollmentPending(EnrollmentFacts):
    amount_minor: NonNegative
    currency: Currency
    hold_expires_at: datetime


@event(
    "enrollment.activated",
    producer="enrollment",
    description="""
The enrollment is paid (or free with a promotion code): the student has a seat and access from
``cycle_start`` until ``access_ends_on``. The email service sends the receipt and the welcome.
""",
)
class EnrollmentActivated(EnrollmentFacts):
    cycle_end: date
    access_ends_on: date
    amount_minor: NonNegative
    currency: Currency
    payment_id: str | None


@event(
    "enrollment.expired",
    producer="enrollment",
    description="""
The seat hold lapsed before payment arrived; the seat is free again.
""",
)
class EnrollmentExpired(EnrollmentFacts):
    pass


@event(
    "enrollment.cancelled",
    producer="enrollment",
    description="""
A pending enrollment was cancelled (by the student or an admin) and its seat released.
""",
)
class EnrollmentCancelled(EnrollmentFacts):
    reason: str


@event(
    "enrollment.deferred",
    producer="enrollment",
    description="""
The student used their one free deferral: the seat moved from ``from_cycle_start`` to
``cycle_start``.
""",
)
class EnrollmentDeferred(EnrollmentFacts):
    from_cycle_start: date
    access_ends_on: date


@event(
    "enrollment.refunded",
    producer="enrollment",
    description="""
The payment was refunded: the enrollment ends and its seat is released.
""",
)
class EnrollmentRefunded(EnrollmentFacts):
    amount_minor: NonNegative
    currency: Currency


@event(
    "enrollment.completed",
    producer="enrollment",
    description="""
The student's access period ended; the enrollment is complete.
""",
)
class EnrollmentCompleted(EnrollmentFacts):
    access_ends_on: date


@event(
    "enrollment.access_expiring",
    producer="enrollment",
    description="""
The student's access ends soon (sent once per enrollment, a few days before ``access_ends_on``).
""",
)
class EnrollmentAccessExpiring(EnrollmentFacts):
    access_ends_on: date


@event(
    "enrollment.waitlist_offered",
    producer="enrollment",
    description="""
A seat freed up in a full cycle and is held for the first student on its waitlist until
``offer_expires_at``; ``enrollment_id`` is the pending enrollment they can pay for.
""",
)
class WaitlistOffered(EnrollmentFacts):
    offer_expires_at: datetime
    amount_minor: NonNegative
    currency: Currency


@command(
    "refund.requested",
    producer="enrollment",
    description="""
A purchase should be refunded (a student asked inside the refund window). Payments refunds it
through Stripe, at most once per payment, and answers with ``payment.refunded``.
""",
)
class RequestRefund:
    refund_request_id: str
    purchase_ref: str
    user_id: str
    amount_minor: Positive | None
    reason: str
