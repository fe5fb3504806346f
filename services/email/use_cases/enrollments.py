"""Enrollment's events become emails: receipt and course welcome, an expired seat hold, a
waitlist offer, a refund, access about to end, and a deferral."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.email import compose, reader_zones
from services.email.compose import Learn
from services.email.domain import Kind
from services.email.messages import format_money
from shared import config
from shared.db import UnitOfWork


def enrollment_activated(
    uow: UnitOfWork,
    event_id: str,
    data: dict[str, Any],
    *,
    learn: Learn | None = None,
    paid_at: datetime | None = None,
) -> None:
    """The receipt and the course welcome, queued in one commit: both or neither.

    A free enrollment (a 100% promotion) has nothing to give a receipt for, so it gets only the
    welcome. The receipt says when the payment went through (the event's moment), on the
    student's clock.
    """
    facts = _enrollment(data)
    dates = {
        "cycle_end": compose.day(data["cycle_end"]),
        "access_ends_on": compose.day(data["access_ends_on"]),
    }
    emails = {
        Kind.COURSE_WELCOME: {
            **facts,
            **dates,
            "course_url": _course_url(data["course_slug"]),
        },
    }
    if data["amount_minor"] > 0:
        emails[Kind.ENROLLMENT_RECEIPT] = {
            **facts,
            **dates,
            "amount": format_money(data["amount_minor"], data["currency"]),
            "payment_reference": data["payment_id"],
            "paid_at": compose.when(paid_at, reader_zones.reader_zone(uow, data["email"]))
            if paid_at
            else None,
        }
    compose.queue_each(uow, data["email"], event_id, emails, learn=learn)


def enrollment_expired(uow: UnitOfWork, event_id: str, data: dict[str, Any]) -> None:
    context = {**_enrollment(data), "course_url": _course_url(data["course_slug"])}
    compose.queue_once(uow, Kind.SEAT_HOLD_EXPIRED, data["email"], context, event_id)


def waitlist_offered(uow: UnitOfWork, event_id: str, data: dict[str, Any]) -> None:
    context = {
        **_enrollment(data),
        "amount": format_money(data["amount_minor"], data["currency"]),
        "free": data["amount_minor"] == 0,
        "link": f"{config.public_url()}/checkout/{data['enrollment_id']}",
        "expires_at": compose.when(
            data["offer_expires_at"], reader_zones.reader_zone(uow, data["email"])
        ),
    }
    compose.queue_once(uow, Kind.WAITLIST_OFFER, data["email"], context, event_id)


def enrollment_refunded(
    uow: UnitOfWork, event_id: str, data: dict[str, Any], *, learn: Learn | None = None
) -> None:
    context = {
        **_enrollment(data),
        "amount": format_money(data["amount_minor"], data["currency"]),
        "course_url": _course_url(data["course_slug"]),
    }
    compose.queue_once(uow, Kind.REFUND_CONFIRMATION, data["email"], context, event_id, learn=learn)


def access_expiring(uow: UnitOfWork, event_id: str, data: dict[str, Any]) -> None:
    context = {**_enrollment(data), "access_ends_on": compose.day(data["access_ends_on"])}
    compose.queue_once(uow, Kind.ACCESS_EXPIRING, data["email"], context, event_id)


def enrollment_deferred(uow: UnitOfWork, event_id: str, data: dict[str, Any]) -> None:
    context = {
        **_enrollment(data),
        "from_cycle_start": compose.day(data["from_cycle_start"]),
        "access_ends_on": compose.day(data["access_ends_on"]),
    }
    compose.queue_once(uow, Kind.ENROLLMENT_DEFERRED, data["email"], context, event_id)


def _enrollment(data: dict[str, Any]) -> dict[str, Any]:
    """What every enrollment email says: who, which course, which cycle, and where to look."""
    return {
        "name": data["name"],
        "course_title": data["course_title"],
        "cycle_start": compose.day(data["cycle_start"]),
        "enrollment_id": data["enrollment_id"],
        "enrollments_url": f"{config.public_url()}/my/enrollments",
    }


def _course_url(slug: str) -> str:
    return f"{config.public_url()}/courses/{slug}"
