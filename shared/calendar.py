"""iCalendar output: meeting invites, cancellations and a student's published feed.

Both the tutoring service (the feed URL) and the email service (the ``.ics`` attached to a
booking or cancellation email) need the same bytes, so they are built here, once. The module is
pure: plain values in, RFC 5545 bytes out; no Flask, SQLAlchemy or kombu.

How calendar clients tie messages together (RFC 5546, iTIP):

- A booking is sent as ``METHOD:REQUEST`` with a stable ``UID`` (see :func:`stable_uid`) and
  ``SEQUENCE`` 0.
- A **reschedule** is another ``METHOD:REQUEST`` with the *same* UID and a *higher* SEQUENCE;
  clients then move the existing entry instead of adding a second one. The caller owns the
  sequence (store it with the booking and bump it on every change it sends out).
- A **cancellation** is ``METHOD:CANCEL`` with the same UID and a SEQUENCE bumped by the caller
  past the last one sent, so clients accept it as newer than the invite.

Times: the caller passes aware datetimes (stored in UTC, docs/architecture.md, data rules). Events are written in the
reader's IANA zone (``DTSTART;TZID=America/New_York:...``) together with the matching
``VTIMEZONE`` so Outlook and Google show the right local time on both sides of a DST change;
``DTSTAMP`` is always UTC as the RFC requires.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vCalAddress, vDuration, vText

PRODID = "-//Preceptor//Tutoring//EN"

#: ``Content-Type`` values for the HTTP feed and for email attachments. Mail clients (Outlook in
#: particular) only offer Accept/Decline when the MIME part carries the ``method`` parameter.
FEED_CONTENT_TYPE = "text/calendar; charset=utf-8"
INVITE_CONTENT_TYPE = "text/calendar; charset=utf-8; method=REQUEST"
CANCEL_CONTENT_TYPE = "text/calendar; charset=utf-8; method=CANCEL"

#: How often subscribers should re-fetch the feed (Apple and Outlook honour these; Google
#: polls on its own schedule).
FEED_REFRESH = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Meeting:
    """A timed meeting (consultation or tutoring session) between a tutor and a student.

    ``uid`` must stay the same for the life of the meeting (use :func:`stable_uid`);
    ``sequence`` goes up by one every time a changed invite or a cancellation is sent.
    """

    uid: str
    sequence: int
    starts_at: datetime
    ends_at: datetime
    summary: str
    description: str
    organizer_email: str
    organizer_name: str
    attendee_email: str
    attendee_name: str
    location: str | None = None
    url: str | None = None

    def __post_init__(self) -> None:
        # A naive datetime would silently be read as floating local time by every client.
        for name in ("starts_at", "ends_at"):
            value: datetime = getattr(self, name)
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError(f"Meeting.{name} must be timezone-aware, got {value!r}")
        if self.ends_at <= self.starts_at:
            raise ValueError("Meeting.ends_at must be after starts_at")
        if self.sequence < 0:
            raise ValueError("Meeting.sequence must not be negative")
        if not self.uid:
            raise ValueError("Meeting.uid must not be empty")


@dataclass(frozen=True, slots=True)
class AllDayItem:
    """One study-plan day in the feed (a study topic, a free day, a checkpoint)."""

    uid: str
    day: date
    summary: str
    description: str = ""


def stable_uid(kind: str, id: str, domain: str = "preceptor") -> str:
    """The UID a calendar object keeps for life, e.g. ``session-42@preceptor``.

    Built from our own identifiers rather than a random UUID so every message about the same
    booking (invite, reschedule, cancel, feed entry) lands on the same calendar entry without
    storing a separate UID.
    """
    for label, part in (("kind", kind), ("id", id), ("domain", domain)):
        if not part or any(c.isspace() for c in part) or "@" in part:
            raise ValueError(f"stable_uid {label} must be non-empty, without spaces or '@'")
    return f"{kind}-{id}@{domain}"


def invite(meeting: Meeting, tz: str, *, stamp: datetime | None = None) -> bytes:
    """A ``METHOD:REQUEST`` invite for a booking or a reschedule (same UID, higher SEQUENCE).

    ``tz`` is the recipient's IANA zone; ``stamp`` (DTSTAMP, default now) is only for
    reproducible output.
    """
    calendar = _calendar("REQUEST")
    event = _timed_event(meeting, tz, stamp, status="CONFIRMED")
    event.add("attendee", _attendee(meeting, rsvp=True))
    return _finish(calendar, [event], [meeting], tz)


def cancellation(meeting: Meeting, tz: str, *, stamp: datetime | None = None) -> bytes:
    """A ``METHOD:CANCEL`` for a meeting sent earlier; the caller bumps ``meeting.sequence``.

    The attendee is listed (RFC 5546 requires it for CANCEL) but no reply is asked for.
    """
    calendar = _calendar("CANCEL")
    event = _timed_event(meeting, tz, stamp, status="CANCELLED")
    event.add("attendee", _attendee(meeting, rsvp=False))
    return _finish(calendar, [event], [meeting], tz)


def feed(
    name: str,
    meetings: Sequence[Meeting],
    all_day: Sequence[AllDayItem],
    tz: str,
    *,
    stamp: datetime | None = None,
) -> bytes:
    """A subscribable ``METHOD:PUBLISH`` calendar: booked meetings plus study-plan days.

    Meetings carry their organizer but no attendee, so subscribing never prompts for an RSVP;
    cancelled meetings are simply left out by the caller (a feed shows current state).
    Study-plan days are all-day (``VALUE=DATE``) and transparent, so they never show the
    student as busy.
    """
    calendar = _calendar("PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", ZoneInfo(tz).key)
    calendar.add("refresh-interval", FEED_REFRESH, parameters={"VALUE": "DURATION"})
    # An X- property has no known type, so write the RFC 5545 duration text ourselves.
    calendar.add("x-published-ttl", vDuration(FEED_REFRESH).to_ical().decode())
    events = [_timed_event(meeting, tz, stamp, status="CONFIRMED") for meeting in meetings]
    events += [_all_day_event(item, stamp) for item in all_day]
    return _finish(calendar, events, meetings, tz)


def _calendar(method: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    return calendar


def _timed_event(meeting: Meeting, tz: str, stamp: datetime | None, *, status: str) -> Event:
    zone = ZoneInfo(tz)
    event = Event()
    event.add("uid", meeting.uid)
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", _utc_stamp(stamp))
    # Written as local wall time with TZID (not UTC) so clients render the reader's zone and
    # the VTIMEZONE below carries the DST rules.
    event.add("dtstart", meeting.starts_at.astimezone(zone))
    event.add("dtend", meeting.ends_at.astimezone(zone))
    event.add("summary", meeting.summary)
    if meeting.description:
        event.add("description", meeting.description)
    if meeting.location:
        event.add("location", meeting.location)
    if meeting.url:
        event.add("url", meeting.url)
    event.add("status", status)
    event.add("transp", "OPAQUE")
    organizer = vCalAddress(f"mailto:{meeting.organizer_email}")
    organizer.params["CN"] = vText(meeting.organizer_name)
    event.add("organizer", organizer)
    return event


def _attendee(meeting: Meeting, *, rsvp: bool) -> vCalAddress:
    attendee = vCalAddress(f"mailto:{meeting.attendee_email}")
    attendee.params["CN"] = vText(meeting.attendee_name)
    attendee.params["ROLE"] = "REQ-PARTICIPANT"
    attendee.params["PARTSTAT"] = "NEEDS-ACTION"
    attendee.params["RSVP"] = "TRUE" if rsvp else "FALSE"
    return attendee


def _all_day_event(item: AllDayItem, stamp: datetime | None) -> Event:
    event = Event()
    event.add("uid", item.uid)
    event.add("dtstamp", _utc_stamp(stamp))
    # A date (not datetime) value makes icalendar write VALUE=DATE; DTEND is exclusive.
    event.add("dtstart", item.day)
    event.add("dtend", item.day + timedelta(days=1))
    event.add("summary", item.summary)
    if item.description:
        event.add("description", item.description)
    event.add("transp", "TRANSPARENT")
    return event


def _finish(
    calendar: Calendar, events: Sequence[Event], meetings: Sequence[Meeting], tz: str
) -> bytes:
    """Add the VTIMEZONE (first, before the events that refer to it) and serialise."""
    if meetings:
        years = [m.starts_at.astimezone(UTC).year for m in meetings]
        years += [m.ends_at.astimezone(UTC).year for m in meetings]
        calendar.add_component(_vtimezone(ZoneInfo(tz).key, min(years) - 1, max(years) + 1))
    for event in events:
        calendar.add_component(event)
    return calendar.to_ical()


@lru_cache(maxsize=64)
def _vtimezone(tzid: str, first_year: int, last_year: int) -> Timezone:
    """VTIMEZONE for ``tzid`` from Jan 1 of ``first_year`` to Jan 1 after ``last_year``.

    Bounded to the years the calendar uses, so an invite carries a few transitions instead of
    the library's default 1970-2038 table; cached because every email and feed fetch needs it.
    Callers only serialise it, never mutate it.
    """
    return Timezone.from_tzid(
        tzid, first_date=date(first_year, 1, 1), last_date=date(last_year + 1, 1, 1)
    )


def _utc_stamp(stamp: datetime | None) -> datetime:
    if stamp is None:
        return datetime.now(UTC).replace(microsecond=0)
    if stamp.tzinfo is None:
        raise ValueError("stamp must be timezone-aware")
    return stamp.astimezone(UTC).replace(microsecond=0)
