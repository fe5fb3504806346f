"""Enrollment's events become emails: receipt and course welcome, an expired seat hold, a
waitlist offer, a refund, access about to end, and a deferral."""

from __future__ import annotations

from typing import Any

from services.email import audiences, compose, reader_zones
from services.email.compose import Learn
from services.email.domain import Kind
from services.email.messages import format_money
from services.enrollment.events import (
    EnrollmentAccessExpiring,
    EnrollmentActivated,
    EnrollmentCancelled,
    EnrollmentCompleted,
    EnrollmentDeferred,
    EnrollmentExpired,
    EnrollmentFacts,
    EnrollmentRefunded,
    WaitlistOffered,
)
from shared import config
from shared.bus.handlers import handles
from shared.db import UnitOfWork


@handles(EnrollmentActivated)
def enrollment_activated(uow: UnitOfWork, event: EnrollmentActivated) -> None:
    """The receipt and the course welcome, queued in one commit: both or neither.

    A free enrollment (a 100% promotion) has nothing to give a receipt for, so it gets only the
    welcome. The receipt says when the payment went through (the event's moment), on the
    student's clock.
    """
    facts = _enrollment(event)
    dates = {
        "cycle_end": compose.day(event.cycle_end),
        "access_ends_on": compose.day(event.access_ends_on),
    }
    emails = {
        Kind.COURSE_WELCOME: {
            **facts,
            **dates,
            "course_url": _course_url(event.course_slug),
        },
    }
    if event.amount_minor > 0:
        emails[Kind.ENROLLMENT_RECEIPT] = {
            **facts,
            **dates,
            "amount": format_money(event.amount_minor, event.currency),
            "payment_reference": event.payment_id,
            "paid_at": compose.when(
                uow.handling.occurred_at, reader_zones.reader_zone(uow, event.email)
            ),
        }
    compose.queue_each(uow, event.email, emails, learn=_audience_fact(event))


@handles(EnrollmentExpired)
def enrollment_expired(uow: UnitOfWork, event: EnrollmentExpired) -> None:
    context = {**_enrollment(event), "course_url": _course_url(event.course_slug)}
    compose.queue_once(uow, Kind.SEAT_HOLD_EXPIRED, event.email, context)


@handles(WaitlistOffered)
def waitlist_offered(uow: UnitOfWork, event: WaitlistOffered) -> None:
    context = {
        **_enrollment(event),
        "amount": format_money(event.amount_minor, event.currency),
        "free": event.amount_minor == 0,
        "link": f"{config.public_url()}/checkout/{event.enrollment_id}",
        "expires_at": compose.when(
            event.offer_expires_at, reader_zones.reader_zone(uow, event.email)
        ),
    }
    compose.queue_once(uow, Kind.WAITLIST_OFFER, event.email, context)


@handles(EnrollmentRefunded)
def enrollment_refunded(uow: UnitOfWork, event: EnrollmentRefunded) -> None:
    context = {
        **_enrollment(event),
        "amount": format_money(event.amount_minor, event.currency),
        "course_url": _course_url(event.course_slug),
    }
    compose.queue_once(
        uow, Kind.REFUND_CONFIRMATION, event.email, context, learn=_audience_fact(event)
    )


@handles(EnrollmentAccessExpiring)
def access_expiring(uow: UnitOfWork, event: EnrollmentAccessExpiring) -> None:
    context = {**_enrollment(event), "access_ends_on": compose.day(event.access_ends_on)}
    compose.queue_once(uow, Kind.ACCESS_EXPIRING, event.email, context)


@handles(EnrollmentDeferred)
def enrollment_deferred(uow: UnitOfWork, event: EnrollmentDeferred) -> None:
    context = {
        **_enrollment(event),
        "from_cycle_start": compose.day(event.from_cycle_start),
        "access_ends_on": compose.day(event.access_ends_on),
    }
    compose.queue_once(uow, Kind.ENROLLMENT_DEFERRED, event.email, context)


def _enrollment(event: EnrollmentFacts) -> dict[str, Any]:
    """What every enrollment email says: who, which course, which cycle, and where to look."""
    return {
        "name": event.name,
        "course_title": event.course_title,
        "cycle_start": compose.day(event.cycle_start),
        "enrollment_id": event.enrollment_id,
        "enrollments_url": f"{config.public_url()}/my/enrollments",
    }


def _course_url(slug: str) -> str:
    return f"{config.public_url()}/courses/{slug}"


# --- audience facts (campaigns) ----------------------------------------------------------------


@handles(EnrollmentCompleted)
@handles(EnrollmentCancelled)
def enrollment_ended(uow: UnitOfWork, event: EnrollmentCompleted | EnrollmentCancelled) -> None:
    """No email: what the event teaches the audiences, in a commit of its own."""
    audiences.learn(uow, _audience_fact(event))


def _audience_fact(event: EnrollmentFacts) -> Learn:
    """The student's place in the audiences, written in the handler's one commit."""
    return lambda db: audiences.learn_enrollment(db, event.type, event)
