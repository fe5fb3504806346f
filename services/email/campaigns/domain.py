"""The rules of campaigns, audiences and suppression, free of Flask, sessions and SMTP.

A campaign is a small state machine::

    draft ──schedule──▶ scheduled ──(send_at reached)──▶ sending ──(nothing queued)──▶ sent
      │  └────────────send now──────────────────────────▲   │ ▲
      │                                                     pause resume
      └──────────── cancel (from any state but sent) ──▶ cancelled ◀── paused

and each of its recipients another: queued → sent | failed | suppressed (or cancelled when the
campaign is). Merge fields, audience keys, bounce rules, what an enrollment event means for an
audience, and the pacing of sends live here too, so the fast tests check them without a database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from shared.errors import Conflict, DomainError, NotFound


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    PAUSED = "paused"
    SENT = "sent"
    CANCELLED = "cancelled"


class RecipientStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    SUPPRESSED = "suppressed"
    CANCELLED = "cancelled"


class SuppressionReason(StrEnum):
    UNSUBSCRIBED = "unsubscribed"
    HARD_BOUNCE = "hard_bounce"
    COMPLAINT = "complaint"
    MANUAL = "manual"


class EnrollmentFact(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    ENDED = "ended"


MERGE_FIELDS = {"first_name": "there", "course": "your course"}
"""The merge fields a campaign may use, with the value used when a person has none."""

SAMPLE_FIRST_NAME = "Ada"
MAX_RECIPIENT_ATTEMPTS = 3
"""Tries of a recipient the SMTP server refused for now (4xx) before it counts as failed."""


class CampaignNotFound(NotFound):
    title = "No such campaign"


class CampaignNotEditable(Conflict):
    title = "Only a draft campaign can be edited"


class CampaignStateConflict(Conflict):
    title = "The campaign cannot do that in its current state"


class UnknownMergeField(DomainError):
    title = "Unknown merge field"


class UnknownAudience(DomainError):
    title = "Unknown audience"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, field="audience")


class SendAtNotInFuture(DomainError):
    title = "The send time must be in the future"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, field="send_at")


# --- merge fields --------------------------------------------------------------------------

MERGE_FIELD = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")


def check_merge_fields(**texts: str) -> None:
    """Refuse any ``{{...}}`` other than the known merge fields, naming the form field."""
    for field, text in texts.items():
        for match in MERGE_FIELD.finditer(text):
            name = match.group(1)
            if name not in MERGE_FIELDS:
                known = " and ".join(f"{{{{{n}}}}}" for n in MERGE_FIELDS)
                raise UnknownMergeField(
                    f"Unknown merge field {match.group(0)} in {field}; use {known}.", field=field
                )


def first_name(name: str | None) -> str | None:
    """The first word of a person's name, which is what ``{{first_name}}`` says."""
    words = (name or "").split()
    return words[0] if words else None


def merge_values(name: str | None, course: str | None) -> dict[str, str]:
    """Each merge field's value for one person, falling back when the service does not know it."""
    return {
        "first_name": first_name(name) or MERGE_FIELDS["first_name"],
        "course": (course or "").strip() or MERGE_FIELDS["course"],
    }


def fallbacks_for(name: str | None, course: str | None, *texts: str) -> list[dict[str, str]]:
    """The merge fields ``texts`` use that this person has no value for, with what they read
    instead, so a preview can say plainly where "there" or "your course" will appear."""
    used = {m.group(1) for text in texts for m in MERGE_FIELD.finditer(text)}
    own = {"first_name": first_name(name), "course": (course or "").strip() or None}
    return [
        {"field": field, "value": value}
        for field, value in MERGE_FIELDS.items()
        if field in used and not own[field]
    ]


def merge(text: str, values: dict[str, str]) -> str:
    """Replace each merge field by its value (the fields were checked when the text was saved)."""
    return MERGE_FIELD.sub(lambda m: values.get(m.group(1), m.group(0)), text)


# --- audiences -----------------------------------------------------------------------------


class AudienceKind(StrEnum):
    TOPIC = "topic"
    ACTIVE_STUDENTS = "students:active"
    PAST_STUDENTS = "students:past"
    CONSULTED_STUDENTS = "students:consulted"


SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,99}")


@dataclass(frozen=True)
class Audience:
    kind: AudienceKind
    slug: str | None = None
    """The topic or the course, for the kinds that name one."""

    @property
    def key(self) -> str:
        return f"{self.kind.value}:{self.slug}" if self.slug else self.kind.value


def parse_audience(key: str) -> Audience:
    """``topic:<slug>``, ``students:active:<course_slug>``, ``students:past``, ``students:consulted``."""
    key = key.strip()
    if key == AudienceKind.PAST_STUDENTS.value:
        return Audience(AudienceKind.PAST_STUDENTS)
    if key == AudienceKind.CONSULTED_STUDENTS.value:
        return Audience(AudienceKind.CONSULTED_STUDENTS)
    for kind in (AudienceKind.ACTIVE_STUDENTS, AudienceKind.TOPIC):
        prefix = f"{kind.value}:"
        if key.startswith(prefix) and SLUG.fullmatch(key.removeprefix(prefix)):
            return Audience(kind, key.removeprefix(prefix))
    raise UnknownAudience(
        f"Unknown audience {key!r}: use topic:<slug>, students:active:<course>, "
        "students:past or students:consulted."
    )


def audience_label(audience: Audience, topic_names: dict[str, str], courses: dict[str, str]) -> str:
    if audience.kind is AudienceKind.TOPIC:
        return f"Subscribers: {topic_names.get(audience.slug, audience.slug)}"
    if audience.kind is AudienceKind.ACTIVE_STUDENTS:
        return f"Active students: {courses.get(audience.slug, audience.slug)}"
    if audience.kind is AudienceKind.PAST_STUDENTS:
        return "Past students"
    return "Students with a completed consultation"


def enrollment_fact_after(current: EnrollmentFact | None, event_type: str) -> EnrollmentFact:
    """What an enrollment event means for the audiences, whatever order the events arrive in.

    Completion is final; a refund or cancellation ends the enrollment; an activation arriving
    after either of those (events are not ordered) changes nothing.
    """
    if event_type == "enrollment.completed":
        return EnrollmentFact.COMPLETED
    if event_type in ("enrollment.refunded", "enrollment.cancelled"):
        return current if current is EnrollmentFact.COMPLETED else EnrollmentFact.ENDED
    if event_type == "enrollment.activated":
        return current or EnrollmentFact.ACTIVE
    raise ValueError(f"not an enrollment fact: {event_type}")


# --- the campaign state machine ------------------------------------------------------------


def check_editable(status: CampaignStatus) -> None:
    if status is not CampaignStatus.DRAFT:
        raise CampaignNotEditable(f"The campaign is {status.value}; only a draft can be edited.")


def _refuse(action: str, status: CampaignStatus) -> CampaignStateConflict:
    return CampaignStateConflict(f"A {status.value} campaign cannot be {action}.")


def schedule(status: CampaignStatus, send_at: datetime, now: datetime) -> CampaignStatus:
    if status not in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
        raise _refuse("scheduled", status)
    if send_at.tzinfo is None or send_at <= now:
        raise SendAtNotInFuture("Choose a time in the future, with its time zone.")
    return CampaignStatus.SCHEDULED


def send_now(status: CampaignStatus) -> CampaignStatus:
    if status not in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
        raise _refuse("sent now", status)
    return CampaignStatus.SENDING


def pause(status: CampaignStatus) -> CampaignStatus:
    if status is CampaignStatus.PAUSED:
        return status
    if status is not CampaignStatus.SENDING:
        raise _refuse("paused", status)
    return CampaignStatus.PAUSED


def resume(status: CampaignStatus) -> CampaignStatus:
    if status is CampaignStatus.SENDING:
        return status
    if status is not CampaignStatus.PAUSED:
        raise _refuse("resumed", status)
    return CampaignStatus.SENDING


def cancel(status: CampaignStatus) -> CampaignStatus:
    if status is CampaignStatus.CANCELLED:
        return status
    if status is CampaignStatus.SENT:
        raise _refuse("cancelled", status)
    return CampaignStatus.CANCELLED


# --- bounces -------------------------------------------------------------------------------


class BounceTypeRequired(DomainError):
    title = "A bounce needs its bounce_type"

    def __init__(self) -> None:
        super().__init__("Say whether the bounce is hard or soft.", field="bounce_type")


def suppression_for_report(report_type: str, bounce_type: str | None) -> SuppressionReason | None:
    """A hard bounce or a complaint suppresses the address; a soft bounce is only recorded."""
    if report_type == "complaint":
        return SuppressionReason.COMPLAINT
    if bounce_type is None:
        raise BounceTypeRequired()
    return SuppressionReason.HARD_BOUNCE if bounce_type == "hard" else None


# --- pacing --------------------------------------------------------------------------------


class Pacer:
    """Spaces sends ``1/rate`` seconds apart on average, without drifting when a send is slow.

    ``wait(now)`` says how long to sleep before the next send; a sender that fell behind (a slow
    SMTP reply) catches up by at most one second's worth of messages, never in a burst.
    """

    def __init__(self, rate: float) -> None:
        if rate <= 0:
            raise ValueError("the send rate must be positive")
        self.interval = 1.0 / rate
        self.next_at: float | None = None

    def wait(self, now: float) -> float:
        if self.next_at is None or self.next_at < now - 1.0:
            self.next_at = now
        delay = max(self.next_at - now, 0.0)
        self.next_at += self.interval
        return delay
