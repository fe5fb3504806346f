"""Use cases of the email service: one function per thing a person or an event can do.

Handlers and endpoints only insert delivery rows; the delivery loop (delivery.py) sends them,
so no request or event handler ever waits on an SMTP server.
"""

from __future__ import annotations

import logging
import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Insert, Select, select
from sqlalchemy.orm import Session

from services.email import domain, reader_zones, suppression, tokens
from services.email.domain import InvalidConfirmation, Kind, SubscriberStatus, SubscriptionNotFound
from services.email.messages import Attachment, Rendered, format_money, render
from services.email.models import Delivery, Subscriber, SubscriberTopic, Topic, rate_limits
from shared import calendar, clock, config, rate_limit
from shared.db import UnitOfWork, insert_with_conflicts, utcnow
from shared.runtime import Runtime

log = logging.getLogger(__name__)

Learn = Callable[[Session], None]
"""Facts an event teaches the audiences, written in the handler's one commit (audiences.py)."""


@dataclass(frozen=True)
class Subscription:
    """What the preference page shows of a subscriber."""

    subscriber_id: str
    email: str
    topics: list[str]
    status: str

    def as_dict(self) -> dict[str, Any]:
        return {"email": self.email, "topics": self.topics, "status": self.status}


# --- topics --------------------------------------------------------------------------------


def list_topics(uow: UnitOfWork) -> list[dict[str, str]]:
    with uow:
        return [
            {"slug": t.slug, "name": t.name, "description": t.description}
            for t in uow.session.scalars(select(Topic).order_by(Topic.name))
        ]


def _topic_names(session: Session) -> dict[str, str]:
    return {slug: name for slug, name in session.execute(select(Topic.slug, Topic.name))}


# --- subscriptions -------------------------------------------------------------------------


def subscribe(
    uow: UnitOfWork,
    address: str,
    topics: list[str],
    name: str | None = None,
    client: str | None = None,
) -> str:
    """Start (or repeat) double opt-in; returns the address as stored.

    The row is created with INSERT ... ON CONFLICT DO NOTHING and then locked, so two requests
    for one address at once still make one subscriber. A request from a stranger (``client``,
    their address) counts against MAIL_REQUEST_LIMIT per address and MAIL_REQUEST_CLIENT_LIMIT
    per client, atomically (shared/rate_limit.py); past either it changes and sends nothing,
    and the caller answers exactly as it would have, so a flood sends at most the limit.
    """
    address = domain.normalize_email(address)
    with uow:
        session = uow.session
        names = _topic_names(session)
        wanted = domain.check_topics(topics, set(names))
        if client is not None and not _may_mail(session, address, client):
            return address
        created = _insert_subscriber(session, address, name)
        sub = session.scalars(
            select(Subscriber).where(Subscriber.email == address).with_for_update()
        ).one()
        current = None if created else SubscriberStatus(sub.status)
        outcome = domain.subscribe(current, sub.topic_slugs, wanted)
        if outcome.new_opt_in and not created:
            sub.nonce = _nonce()
            sub.confirmed_at = None
        sub.status = outcome.status.value
        if name:
            sub.name = name
        _set_topics(sub, outcome.topics)
        if outcome.send_confirmation:
            link = f"{config.public_url()}/confirm/{tokens.confirm_token(sub.id, sub.nonce)}"
            context = {
                "name": sub.name,
                "topics": [names[t] for t in outcome.topics],
                "link": link,
            }
            _queue(
                session,
                Kind.CONFIRM_SUBSCRIPTION,
                address,
                render(Kind.CONFIRM_SUBSCRIPTION, context),
            )
        uow.commit()
    return address


def _may_mail(session: Session, address: str, client: str) -> bool:
    tries = rate_limit.mail_rules().tries(address, client, "subscription")
    return rate_limit.take_all(session, rate_limits, tries, utcnow()) is None


def purge_rate_limits(runtime: Runtime) -> int:
    """Forget confirmation counters no limit looks at any more (the worker runs it hourly)."""
    rules = rate_limit.mail_rules()
    horizon = max(rules.per_address.horizon, rules.per_client.horizon)
    with runtime.uow() as uow:
        purged = rate_limit.purge(uow.session, rate_limits, horizon, utcnow())
        uow.commit()
    return purged


def confirm_subscription(uow: UnitOfWork, token: str) -> dict[str, Any]:
    """Complete double opt-in. Confirming again answers the same and announces nothing new."""
    subscriber_id, nonce = tokens.read_confirm_token(token)
    with uow:
        session = uow.session
        sub = session.get(Subscriber, subscriber_id, with_for_update=True)
        if sub is None or not secrets.compare_digest(sub.nonce, nonce):
            raise InvalidConfirmation()
        # One manage token for the welcome email and the answer: signed twice, the two could
        # differ by their signing second, and the page and the email would show two links.
        manage = tokens.manage_token(sub.id)
        if domain.confirm(SubscriberStatus(sub.status)):
            sub.status = SubscriberStatus.CONFIRMED.value
            sub.confirmed_at = utcnow()
            event = uow.record(
                "subscriber.confirmed",
                {"subscriber_id": sub.id, "email": sub.email, "topics": sub.topic_slugs},
            )
            names = _topic_names(session)
            context = {
                "name": sub.name,
                "topics": [names[t] for t in sub.topic_slugs],
                "preferences_url": f"{config.public_url()}/preferences/{manage}",
                "unsubscribe_url": f"{config.public_url()}/unsubscribe/{manage}",
            }
            _queue(session, Kind.SUBSCRIBED, sub.email, render(Kind.SUBSCRIBED, context), event.id)
        view = _view(sub)
        uow.commit()
    return {**view.as_dict(), "manage_token": manage}


def preferences(uow: UnitOfWork, manage_token: str) -> dict[str, Any]:
    recipient = tokens.read_recipient_token(manage_token)  # a campaign email's link
    if recipient is not None:
        return suppression.recipient_preferences(uow, *recipient)
    subscriber_id = tokens.read_manage_token(manage_token)
    with uow:
        return _view(_subscriber(uow.session, subscriber_id)).as_dict()


def change_topics(uow: UnitOfWork, manage_token: str, topics: list[str]) -> dict[str, Any]:
    """Replace the topics. It never changes consent: an unsubscribed address subscribes again
    through double opt-in, and leaving every topic is what unsubscribe is for."""
    recipient = tokens.read_recipient_token(manage_token)  # a campaign email's link
    if recipient is not None:
        subscriber_id = suppression.subscriber_of(uow, recipient[1])
    else:
        subscriber_id = tokens.read_manage_token(manage_token)
    with uow:
        session = uow.session
        wanted = domain.check_topics(topics, set(_topic_names(session)))
        sub = _subscriber(session, subscriber_id, lock=True)
        _set_topics(sub, wanted)
        session.flush()
        view = _view(sub)
        uow.commit()
    return view.as_dict()


def unsubscribe(uow: UnitOfWork, manage_token: str) -> dict[str, Any]:
    """One-click unsubscribe (RFC 8058). Repeating it changes nothing and announces nothing.

    A campaign email's link (a recipient token) also puts the address on the suppression list.
    """
    recipient = tokens.read_recipient_token(manage_token)
    if recipient is not None:
        return suppression.recipient_unsubscribe(uow, *recipient)
    subscriber_id = tokens.read_manage_token(manage_token)
    with uow:
        sub = _subscriber(uow.session, subscriber_id, lock=True)
        if domain.unsubscribe(SubscriberStatus(sub.status)):
            sub.status = SubscriberStatus.UNSUBSCRIBED.value
            sub.unsubscribed_at = utcnow()
            sub.nonce = _nonce()  # confirmation links sent before now stop working
            uow.record("subscriber.unsubscribed", {"subscriber_id": sub.id, "email": sub.email})
        answer = {"email": sub.email, "status": sub.status}
        uow.commit()
    return answer


# --- transactional email from events ---------------------------------------------------------


_STAFF_AS = {
    "tutor": "a tutor",
    "marketing": "a member of the marketing team",
    "admin": "an administrator",
}


def welcome(uow: UnitOfWork, event_id: str, data: dict[str, Any]) -> None:
    """The welcome, and (in its commit) the zone the person reads times in, if identity knows it.

    Staff who accepted an invitation are not students: their welcome says what they joined as
    and where to sign in, not which courses to browse.
    """
    context = {"name": data["name"], "staff_as": _staff_as(data.get("roles") or [])}
    _queue_once(
        uow,
        Kind.WELCOME,
        data["email"],
        context,
        event_id,
        learn=lambda session: reader_zones.remember(session, data),
    )


def _staff_as(roles: list[str]) -> str | None:
    """How a staff welcome names the person's part (None: a student, who gets the student welcome)."""
    if "student" in roles:
        return None
    return next((_STAFF_AS[role] for role in roles if role in _STAFF_AS), None)


def invite(uow: UnitOfWork, event_id: str, data: dict[str, Any]) -> None:
    context = {
        "name": data["name"],
        "role": data["role"],
        "link": f"{config.public_url()}/invitation/{data['token']}",
        "expires_at": _when(data["expires_at"], reader_zones.reader_zone(uow, data["email"])),
    }
    _queue_once(uow, Kind.INVITATION, data["email"], context, event_id)


def password_reset(uow: UnitOfWork, event_id: str, data: dict[str, Any]) -> None:
    context = {
        "name": data["name"],
        "link": f"{config.public_url()}/password-reset/{data['token']}",
        "expires_at": _when(data["expires_at"], reader_zones.reader_zone(uow, data["email"])),
    }
    _queue_once(uow, Kind.PASSWORD_RESET, data["email"], context, event_id)


def registration_attempted(uow: UnitOfWork, event_id: str, data: dict[str, Any]) -> None:
    """Someone registered with the owner's address: point the owner to sign-in and reset."""
    context = {
        "name": data["name"],
        "login_link": f"{config.public_url()}/login",
        "reset_link": f"{config.public_url()}/password-reset",
    }
    _queue_once(uow, Kind.REGISTRATION_ATTEMPTED, data["email"], context, event_id)


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
        "cycle_end": _day(data["cycle_end"]),
        "access_ends_on": _day(data["access_ends_on"]),
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
            "paid_at": _when(paid_at, reader_zones.reader_zone(uow, data["email"]))
            if paid_at
            else None,
        }
    _queue_each(uow, data["email"], event_id, emails, learn=learn)


def enrollment_expired(uow: UnitOfWork, event_id: str, data: dict[str, Any]) -> None:
    context = {**_enrollment(data), "course_url": _course_url(data["course_slug"])}
    _queue_once(uow, Kind.SEAT_HOLD_EXPIRED, data["email"], context, event_id)


def waitlist_offered(uow: UnitOfWork, event_id: str, data: dict[str, Any]) -> None:
    context = {
        **_enrollment(data),
        "amount": format_money(data["amount_minor"], data["currency"]),
        "free": data["amount_minor"] == 0,
        "link": f"{config.public_url()}/checkout/{data['enrollment_id']}",
        "expires_at": _when(data["offer_expires_at"], reader_zones.reader_zone(uow, data["email"])),
    }
    _queue_once(uow, Kind.WAITLIST_OFFER, data["email"], context, event_id)


def enrollment_refunded(
    uow: UnitOfWork, event_id: str, data: dict[str, Any], *, learn: Learn | None = None
) -> None:
    context = {
        **_enrollment(data),
        "amount": format_money(data["amount_minor"], data["currency"]),
        "course_url": _course_url(data["course_slug"]),
    }
    _queue_once(uow, Kind.REFUND_CONFIRMATION, data["email"], context, event_id, learn=learn)


def access_expiring(uow: UnitOfWork, event_id: str, data: dict[str, Any]) -> None:
    context = {**_enrollment(data), "access_ends_on": _day(data["access_ends_on"])}
    _queue_once(uow, Kind.ACCESS_EXPIRING, data["email"], context, event_id)


def enrollment_deferred(uow: UnitOfWork, event_id: str, data: dict[str, Any]) -> None:
    context = {
        **_enrollment(data),
        "from_cycle_start": _day(data["from_cycle_start"]),
        "access_ends_on": _day(data["access_ends_on"]),
    }
    _queue_once(uow, Kind.ENROLLMENT_DEFERRED, data["email"], context, event_id)


# --- tutoring: consultations and study plans ----------------------------------------------


def consultation_booked(uow: UnitOfWork, event_id: str, data: dict[str, Any]) -> None:
    """Both people get a confirmation with a METHOD:REQUEST invite, each in their own zone.

    One commit queues both, so the student is never told of a meeting the tutor does not know.
    """
    student_zone, tutor_zone = _zones(data)
    tutoring_url = _tutoring_url()
    consultation_url = _consultation_url(data["consultation_id"])
    student = {
        "name": data["student_name"],
        "tutor_name": data["tutor_name"],
        "when": _meeting_time(data, student_zone),
        "tutoring_url": tutoring_url,
    }
    tutor = {
        "name": data["tutor_name"],
        "student_name": data["student_name"],
        "student_email": data["student_email"],
        "when": _meeting_time(data, tutor_zone),
        "consultation_url": consultation_url,
    }
    student_meeting = _meeting(data, tutoring_url)
    tutor_meeting = _meeting(data, consultation_url)
    _queue_to_each(
        uow,
        event_id,
        {
            Kind.CONSULTATION_BOOKED_STUDENT: (
                data["student_email"],
                render(
                    Kind.CONSULTATION_BOOKED_STUDENT,
                    student,
                    (_invite(student_meeting, student_zone),),
                ),
            ),
            Kind.CONSULTATION_BOOKED_TUTOR: (
                data["tutor_email"],
                render(
                    Kind.CONSULTATION_BOOKED_TUTOR,
                    tutor,
                    (_invite(tutor_meeting, tutor_zone),),
                ),
            ),
        },
    )


def consultation_cancelled(uow: UnitOfWork, event_id: str, data: dict[str, Any]) -> None:
    """Both people learn who cancelled; the METHOD:CANCEL (same UID, the event's sequence,
    which tutoring already bumped) removes the entry the invite made in their calendars."""
    student_zone, tutor_zone = _zones(data)
    by_student = data["cancelled_by"] == "student"
    shared_facts = {"reason": data["reason"].strip()}
    student = {
        **shared_facts,
        "name": data["student_name"],
        "tutor_name": data["tutor_name"],
        "when": _meeting_time(data, student_zone),
        "by_you": by_student,
        "tutoring_url": _tutoring_url(),
    }
    tutor = {
        **shared_facts,
        "name": data["tutor_name"],
        "student_name": data["student_name"],
        "when": _meeting_time(data, tutor_zone),
        "by_you": not by_student,
        "consultation_url": _consultation_url(data["consultation_id"]),
    }
    meeting = _meeting(data, None)
    _queue_to_each(
        uow,
        event_id,
        {
            Kind.CONSULTATION_CANCELLED_STUDENT: (
                data["student_email"],
                render(
                    Kind.CONSULTATION_CANCELLED_STUDENT,
                    student,
                    (_cancellation(meeting, student_zone),),
                ),
            ),
            Kind.CONSULTATION_CANCELLED_TUTOR: (
                data["tutor_email"],
                render(
                    Kind.CONSULTATION_CANCELLED_TUTOR,
                    tutor,
                    (_cancellation(meeting, tutor_zone),),
                ),
            ),
        },
    )


def consultation_completed(
    uow: UnitOfWork, event_id: str, data: dict[str, Any], *, learn: Learn | None = None
) -> None:
    context = {
        "name": data["student_name"],
        "tutor_name": data["tutor_name"],
        "tutoring_url": _tutoring_url(),
    }
    _queue_once(
        uow, Kind.CONSULTATION_COMPLETED, data["student_email"], context, event_id, learn=learn
    )


def study_plan_published(uow: UnitOfWork, event_id: str, data: dict[str, Any]) -> None:
    context = {
        "name": data["student_name"],
        "tutor_name": data["tutor_name"],
        "version": data["version"],
        "exam": domain.exam_name(data["exam"]),
        "exam_date": _day(data["exam_date"]),
        "tutoring_url": _tutoring_url(),
    }
    _queue_once(uow, Kind.STUDY_PLAN_PUBLISHED, data["student_email"], context, event_id)


# --- tutoring: packages and paid sessions ------------------------------------------------


def package_purchased(uow: UnitOfWork, event_id: str, data: dict[str, Any]) -> None:
    """The receipt is also the student's news that the hours are there to book, so it goes
    out even for a package that cost nothing."""
    hours = data["hours"]
    context = {
        "name": data["student_name"],
        "tutor_name": data["tutor_name"],
        "hours": hours,
        "hours_label": _hours(hours),
        "amount": format_money(data["amount_minor"], data["currency"]),
        "package_id": data["package_id"],
        "tutoring_url": _tutoring_url(),
    }
    _queue_once(uow, Kind.PACKAGE_RECEIPT, data["student_email"], context, event_id)


def session_booked(uow: UnitOfWork, event_id: str, data: dict[str, Any]) -> None:
    """Both people get a METHOD:REQUEST in their own zone. A move is the same UID with the
    higher sequence tutoring sent, so calendars shift the entry rather than add another."""
    moved = data["rescheduled"]
    student_zone, tutor_zone = _zones(data)
    student = {
        **_session_people(data),
        "name": data["student_name"],
        "when": _meeting_time(data, student_zone),
        "moved": moved,
        "change": "was moved" if moved else "is booked",
        "tutoring_url": _tutoring_url(),
    }
    tutor = {
        **_session_people(data),
        "name": data["tutor_name"],
        "when": _meeting_time(data, tutor_zone),
        "moved": moved,
        "change": "moved" if moved else "booked",
        "tutor_url": _tutor_url(),
    }
    _queue_to_each(
        uow,
        event_id,
        {
            Kind.SESSION_BOOKED_STUDENT: (
                data["student_email"],
                render(
                    Kind.SESSION_BOOKED_STUDENT,
                    student,
                    (_invite(_session(data, _tutoring_url()), student_zone),),
                ),
            ),
            Kind.SESSION_BOOKED_TUTOR: (
                data["tutor_email"],
                render(
                    Kind.SESSION_BOOKED_TUTOR,
                    tutor,
                    (_invite(_session(data, _tutor_url()), tutor_zone),),
                ),
            ),
        },
    )


def session_cancelled(uow: UnitOfWork, event_id: str, data: dict[str, Any]) -> None:
    """Both learn who cancelled, with a METHOD:CANCEL for the entry; the student also learns
    whether the hour came back or was forfeited by a late cancellation."""
    student_zone, tutor_zone = _zones(data)
    by_student = data["cancelled_by"] == "student"
    facts = {
        **_session_people(data),
        "reason": data["reason"].strip(),
        "credit_returned": data["credit_returned"],
    }
    student = {
        **facts,
        "name": data["student_name"],
        "when": _meeting_time(data, student_zone),
        "by_you": by_student,
        "tutoring_url": _tutoring_url(),
    }
    tutor = {
        **facts,
        "name": data["tutor_name"],
        "when": _meeting_time(data, tutor_zone),
        "by_you": not by_student,
        "tutor_url": _tutor_url(),
    }
    meeting = _session(data, None)
    _queue_to_each(
        uow,
        event_id,
        {
            Kind.SESSION_CANCELLED_STUDENT: (
                data["student_email"],
                render(
                    Kind.SESSION_CANCELLED_STUDENT,
                    student,
                    (_cancellation(meeting, student_zone),),
                ),
            ),
            Kind.SESSION_CANCELLED_TUTOR: (
                data["tutor_email"],
                render(
                    Kind.SESSION_CANCELLED_TUTOR,
                    tutor,
                    (_cancellation(meeting, tutor_zone),),
                ),
            ),
        },
    )


def session_completed(uow: UnitOfWork, event_id: str, data: dict[str, Any]) -> None:
    """The lesson note, kept as the tutor wrote it: blank lines part paragraphs, single line
    breaks stay line breaks. The event has no zone for the student, so the time is on the
    clock the student's account names (UTC if none)."""
    context = {
        "name": data["student_name"],
        "tutor_name": data["tutor_name"],
        "held_at": _when(data["starts_at"], reader_zones.reader_zone(uow, data["student_email"])),
        "lesson_note": data["lesson_note"].strip(),
        "note_paragraphs": _paragraphs(data["lesson_note"]),
        "tutoring_url": _tutoring_url(),
    }
    _queue_once(uow, Kind.SESSION_LESSON_NOTE, data["student_email"], context, event_id)


def session_reminder_due(uow: UnitOfWork, event_id: str, data: dict[str, Any]) -> None:
    """The day-before reminder carries the invite again (same UID and sequence), so someone
    who missed or deleted the first one can still add the session to their calendar."""
    student_zone, tutor_zone = _zones(data)
    student = {
        **_session_people(data),
        "name": data["student_name"],
        "when": _meeting_time(data, student_zone),
        "start_time": _start_time(data, student_zone),
        "tutoring_url": _tutoring_url(),
    }
    tutor = {
        **_session_people(data),
        "name": data["tutor_name"],
        "when": _meeting_time(data, tutor_zone),
        "start_time": _start_time(data, tutor_zone),
        "tutor_url": _tutor_url(),
    }
    _queue_to_each(
        uow,
        event_id,
        {
            Kind.SESSION_REMINDER_STUDENT: (
                data["student_email"],
                render(
                    Kind.SESSION_REMINDER_STUDENT,
                    student,
                    (_invite(_session(data, _tutoring_url()), student_zone),),
                ),
            ),
            Kind.SESSION_REMINDER_TUTOR: (
                data["tutor_email"],
                render(
                    Kind.SESSION_REMINDER_TUTOR,
                    tutor,
                    (_invite(_session(data, _tutor_url()), tutor_zone),),
                ),
            ),
        },
    )


def _session_people(data: dict[str, Any]) -> dict[str, Any]:
    return {"tutor_name": data["tutor_name"], "student_name": data["student_name"]}


def _session(data: dict[str, Any], url: str | None) -> calendar.Meeting:
    return _meeting(data, url, what="tutoring session", description="1:1 USMLE tutoring session.")


def _start_time(data: dict[str, Any], zone: str) -> str:
    """``10:00 EDT``: the reader's wall clock, for a subject line."""
    start = data["starts_at"].astimezone(ZoneInfo(zone))
    return f"{start:%H:%M} {clock.abbreviation(start)}"


def _hours(hours: int) -> str:
    return "1 hour" if hours == 1 else f"{hours} hours"


def _paragraphs(note: str) -> list[list[str]]:
    blocks = re.split(r"\n\s*\n", note.strip().replace("\r\n", "\n"))
    return [[line.rstrip() for line in block.split("\n")] for block in blocks if block.strip()]


def _tutor_url() -> str:
    return f"{config.public_url()}/tutor"


def _tutoring_url() -> str:
    return f"{config.public_url()}/my/tutoring"


def _consultation_url(consultation_id: str) -> str:
    return f"{config.public_url()}/tutor/consultations/{consultation_id}"


def _zones(data: dict[str, Any]) -> tuple[str, str]:
    return _zone(data["student_timezone"]), _zone(data["tutor_timezone"])


def _zone(name: str) -> str:
    """The recipient's IANA zone, or UTC if it is not one: a wrong zone in an event should
    cost the reader a conversion, not lose the email."""
    try:
        return ZoneInfo(name).key
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown time zone in event, using UTC", extra={"timezone": name[:100]})
        return "UTC"


def _meeting_time(data: dict[str, Any], zone: str) -> str:
    """``Tuesday 10 March 2026, 09:00 to 09:30 New York time (EDT)``: the reader's wall clock,
    named as every page and email names it (shared/clock.py)."""
    tz = ZoneInfo(zone)
    start = data["starts_at"].astimezone(tz)
    end = data["ends_at"].astimezone(tz)
    ends = f"{end:%H:%M}" if end.date() == start.date() else f"{_day(end.date())}, {end:%H:%M}"
    label = clock.zone_label(zone, data["starts_at"])
    return f"{start:%A} {_day(start.date())}, {start:%H:%M} to {ends} {label}"


def _meeting(
    data: dict[str, Any],
    url: str | None,
    *,
    what: str = "consultation",
    description: str = "Free initial consultation before your USMLE tutoring.",
) -> calendar.Meeting:
    """The calendar entry: the tutor organises, the student attends; UID and SEQUENCE are
    tutoring's, so the invite, any reschedule and the cancellation land on one entry."""
    return calendar.Meeting(
        uid=data["ics_uid"],
        sequence=data["ics_sequence"],
        starts_at=data["starts_at"],
        ends_at=data["ends_at"],
        summary=f"Preceptor {what}: {data['student_name']} with {data['tutor_name']}",
        description=description,
        organizer_email=data["tutor_email"],
        organizer_name=data["tutor_name"],
        attendee_email=data["student_email"],
        attendee_name=data["student_name"],
        url=url,
    )


def _invite(meeting: calendar.Meeting, zone: str) -> Attachment:
    return Attachment("invite.ics", calendar.INVITE_CONTENT_TYPE, calendar.invite(meeting, zone))


def _cancellation(meeting: calendar.Meeting, zone: str) -> Attachment:
    ics = calendar.cancellation(meeting, zone)
    return Attachment("cancellation.ics", calendar.CANCEL_CONTENT_TYPE, ics)


def _enrollment(data: dict[str, Any]) -> dict[str, Any]:
    """What every enrollment email says: who, which course, which cycle, and where to look."""
    return {
        "name": data["name"],
        "course_title": data["course_title"],
        "cycle_start": _day(data["cycle_start"]),
        "enrollment_id": data["enrollment_id"],
        "enrollments_url": f"{config.public_url()}/my/enrollments",
    }


def _course_url(slug: str) -> str:
    return f"{config.public_url()}/courses/{slug}"


def _queue_once(
    uow: UnitOfWork,
    kind: Kind,
    to: str,
    context: dict[str, Any],
    event_id: str,
    *,
    learn: Learn | None = None,
) -> None:
    _queue_each(uow, to, event_id, {kind: context}, learn=learn)


def _queue_each(
    uow: UnitOfWork,
    to: str,
    event_id: str,
    emails: dict[Kind, dict[str, Any]],
    *,
    learn: Learn | None = None,
) -> None:
    """Queue one email per kind for an event in a single commit (a handler commits once)."""
    rendered = {kind: (to, render(kind, context)) for kind, context in emails.items()}
    _queue_to_each(uow, event_id, rendered, learn=learn)


def _queue_to_each(
    uow: UnitOfWork,
    event_id: str,
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
        _queue_rows(
            uow.session,
            [_delivery_row(kind, to, email, event_id, now) for kind, (to, email) in emails.items()],
        )
        uow.commit()


def _when(moment: datetime, zone: str = "UTC") -> str:
    """``Thursday 3 December 2026, 19:00 New York time (EST)``: a moment on the reader's clock."""
    return clock.format_moment_long(moment, zone)


def _day(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


# --- staff views ---------------------------------------------------------------------------


def recent_deliveries(uow: UnitOfWork, status: str | None, limit: int) -> list[dict[str, Any]]:
    query: Select = select(Delivery).order_by(Delivery.created_at.desc(), Delivery.id).limit(limit)
    if status:
        query = query.where(Delivery.status == status)
    with uow:
        return [
            {
                "id": d.id,
                "kind": d.kind,
                "to": d.to_address,
                "subject": d.subject,
                "status": d.status,
                "attempts": d.attempts,
                "last_error": d.last_error,
                "created_at": d.created_at,
                "sent_at": d.sent_at,
            }
            for d in uow.session.scalars(query)
        ]


def list_subscribers(uow: UnitOfWork, status: str | None, limit: int) -> list[dict[str, Any]]:
    query: Select = (
        select(Subscriber).order_by(Subscriber.created_at.desc(), Subscriber.id).limit(limit)
    )
    if status:
        query = query.where(Subscriber.status == status)
    with uow:
        return [
            {
                "id": s.id,
                "email": s.email,
                "name": s.name,
                "status": s.status,
                "topics": s.topic_slugs,
                "created_at": s.created_at,
                "confirmed_at": s.confirmed_at,
                "unsubscribed_at": s.unsubscribed_at,
            }
            for s in uow.session.scalars(query)
        ]


# --- helpers -------------------------------------------------------------------------------


def _nonce() -> str:
    return secrets.token_hex(8)


def _insert_subscriber(session: Session, address: str, name: str | None) -> bool:
    statement = (
        insert_with_conflicts(session, Subscriber.__table__)
        .values(
            id=str(uuid.uuid4()),
            email=address,
            name=name,
            status=SubscriberStatus.PENDING.value,
            nonce=_nonce(),
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["email"])
    )
    return session.execute(statement).rowcount == 1


def _queue(
    session: Session, kind: Kind, to: str, email: Rendered, event_id: str | None = None
) -> None:
    """Insert a delivery; a second one for the same event and kind is silently dropped."""
    _queue_rows(session, [_delivery_row(kind, to, email, event_id, utcnow())])


def _delivery_row(
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


def _queue_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert deliveries in one statement, dropping any an event already queued."""
    if rows:
        session.execute(_queue_statement(session.get_bind().dialect.name), rows)


@cache
def _queue_statement(dialect: str) -> Insert:
    """Built once per dialect: constructing the INSERT for every email cost more than running
    it (a burst of receipts is mostly this statement, docs/benchmarks.md)."""
    return insert_with_conflicts(dialect, Delivery.__table__).on_conflict_do_nothing(
        index_elements=["event_id", "kind"]
    )


def _subscriber(session: Session, subscriber_id: str, *, lock: bool = False) -> Subscriber:
    sub = session.get(Subscriber, subscriber_id, with_for_update=lock)
    if sub is None:
        raise SubscriptionNotFound()
    return sub


def _set_topics(sub: Subscriber, slugs: list[str]) -> None:
    wanted = set(slugs)
    for row in list(sub.topics):
        if row.topic_slug not in wanted:
            sub.topics.remove(row)
    have = set(sub.topic_slugs)
    for slug in slugs:
        if slug not in have:
            sub.topics.append(SubscriberTopic(topic_slug=slug))


def _view(sub: Subscriber) -> Subscription:
    return Subscription(sub.id, sub.email, sorted(sub.topic_slugs), sub.status)
