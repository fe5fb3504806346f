"""Composing transactional mail: what every event-driven email is made of.

Moments and days on the reader's clock, the calendar entry and its invite or cancellation, and
queueing rendered emails. Queueing is once per event and kind (``(event_id, kind)`` is
unique), so a redelivered event mails nobody twice; a handler queues all its emails in one
commit, so an event that means two emails queues both or neither. The delivery loop
(delivery.py) sends them: no request or event handler ever waits on an SMTP server.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import date, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Insert
from sqlalchemy.orm import Session

from services.email import domain
from services.email.domain import Kind
from services.email.messages import Attachment, Rendered, render
from services.email.models import Delivery
from services.tutoring.events import MeetingFacts
from shared import calendar, clock, config
from shared.db import UnitOfWork, insert_with_conflicts, utcnow

log = logging.getLogger(__name__)

Learn = Callable[[Session], None]
"""Facts an event teaches the audiences, written in the handler's one commit (audiences.py)."""


# --- on the reader's clock -------------------------------------------------------------------


def when(moment: datetime, zone: str = "UTC") -> str:
    """``Thursday 3 December 2026, 19:00 New York time (EST)``: a moment on the reader's clock."""
    return clock.format_moment_long(moment, zone)


def day(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def zones(event: MeetingFacts) -> tuple[str, str]:
    return zone(event.student_timezone), zone(event.tutor_timezone)


def zone(name: str) -> str:
    """The recipient's IANA zone, or UTC if it is not one: a wrong zone in an event should
    cost the reader a conversion, not lose the email."""
    try:
        return ZoneInfo(name).key
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown time zone in event, using UTC", extra={"timezone": name[:100]})
        return "UTC"


def meeting_time(event: MeetingFacts, zone: str) -> str:
    """``Tuesday 10 March 2026, 09:00 to 09:30 New York time (EDT)``: the reader's wall clock,
    named as every page and email names it (shared/clock.py)."""
    tz = ZoneInfo(zone)
    start = event.starts_at.astimezone(tz)
    end = event.ends_at.astimezone(tz)
    ends = f"{end:%H:%M}" if end.date() == start.date() else f"{day(end.date())}, {end:%H:%M}"
    label = clock.zone_label(zone, event.starts_at)
    return f"{start:%A} {day(start.date())}, {start:%H:%M} to {ends} {label}"


def meeting(
    event: MeetingFacts,
    url: str | None,
    *,
    what: str = "consultation",
    description: str = "Free initial consultation before your USMLE tutoring.",
) -> calendar.Meeting:
    """The calendar entry: the tutor organises, the student attends; UID and SEQUENCE are
    tutoring's, so the invite, any reschedule and the cancellation land on one entry."""
    return calendar.Meeting(
        uid=event.ics_uid,
        sequence=event.ics_sequence,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        summary=f"Preceptor {what}: {event.student_name} with {event.tutor_name}",
        description=description,
        organizer_email=event.tutor_email,
        organizer_name=event.tutor_name,
        attendee_email=event.student_email,
        attendee_name=event.student_name,
        url=url,
    )


def invite(meeting: calendar.Meeting, zone: str) -> Attachment:
    return Attachment("invite.ics", calendar.INVITE_CONTENT_TYPE, calendar.invite(meeting, zone))


def cancellation(meeting: calendar.Meeting, zone: str) -> Attachment:
    ics = calendar.cancellation(meeting, zone)
    return Attachment("cancellation.ics", calendar.CANCEL_CONTENT_TYPE, ics)


# --- links into the site ---------------------------------------------------------------------


def tutoring_url() -> str:
    return f"{config.public_url()}/my/tutoring"


# --- queueing --------------------------------------------------------------------------------


def queue_once(
    uow: UnitOfWork,
    kind: Kind,
    to: str,
    context: dict[str, Any],
    *,
    learn: Learn | None = None,
) -> None:
    """Queue one email for the event being handled (``uow.handling``)."""
    queue_each(uow, to, {kind: context}, learn=learn)


def queue_each(
    uow: UnitOfWork,
    to: str,
    emails: dict[Kind, dict[str, Any]],
    *,
    learn: Learn | None = None,
) -> None:
    """Queue one email per kind for an event in a single commit (a handler commits once)."""
    rendered = {kind: (to, render(kind, context)) for kind, context in emails.items()}
    queue_to_each(uow, rendered, learn=learn)


def queue_to_each(
    uow: UnitOfWork,
    emails: dict[Kind, tuple[str, Rendered]],
    *,
    learn: Learn | None = None,
) -> None:
    """Queue already rendered emails, each to its own recipient, in a single commit.

    ``learn`` writes what the event teaches the audiences (audiences.py) in that same commit.
    """
    with uow:
        if learn is not None:
            learn(uow.session)
        now = utcnow()
        queue_rows(
            uow.session,
            [
                delivery_row(kind, to, email, uow.handling.id, now)
                for kind, (to, email) in emails.items()
            ],
        )
        uow.commit()


def queue(db: Session, kind: Kind, to: str, email: Rendered, event_id: str | None = None) -> None:
    """Insert a delivery; a second one for the same event and kind is silently dropped."""
    queue_rows(db, [delivery_row(kind, to, email, event_id, utcnow())])


def delivery_row(
    kind: Kind, to: str, email: Rendered, event_id: str | None, now: datetime
) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "kind": kind.value,
        "to_address": to,
        "subject": email.subject,
        "text_body": email.text,
        "html_body": email.html,
        "headers": email.headers_json(),
        "attachments": email.attachments_json(),
        "status": domain.DeliveryStatus.QUEUED.value,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "event_id": event_id,
    }


def queue_rows(db: Session, rows: list[dict[str, Any]]) -> None:
    """Insert deliveries in one statement, dropping any an event already queued."""
    if rows:
        db.execute(_queue_statement(db.get_bind().dialect.name), rows)


@cache
def _queue_statement(dialect: str) -> Insert:
    """Built once per dialect: constructing the INSERT for every email cost more than running
    it (a burst of receipts is mostly this statement, docs/benchmarks.md)."""
    return insert_with_conflicts(dialect, Delivery.__table__).on_conflict_do_nothing(
        index_elements=["event_id", "kind"]
    )
