"""Consultations and sessions: their states, what may happen to them and when (the
cut-off, reschedules, a meeting held only once begun, reminders)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Literal

from services.tutoring.domain.errors import (
    ConsultationAlreadyOpen,
    ConsultationNotStarted,
    InvalidTransition,
    MeetingNotStarted,
    RescheduleLimitReached,
    SessionAlreadyStarted,
    SessionNotBooked,
    SessionNotStarted,
    TooLateToReschedule,
)
from services.tutoring.domain.zones import (
    is_int,
    require_aware,
    zone,
)
from shared import clock


class ConsultationState(StrEnum):
    BOOKED = "booked"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


ConsultationAction = Literal["complete", "cancel", "mark_no_show"]

#: The whole machine: only a booked consultation moves, and every move ends it.
CONSULTATION_TRANSITIONS: dict[tuple[ConsultationState, str], ConsultationState] = {
    (ConsultationState.BOOKED, "complete"): ConsultationState.COMPLETED,
    (ConsultationState.BOOKED, "cancel"): ConsultationState.CANCELLED,
    (ConsultationState.BOOKED, "mark_no_show"): ConsultationState.NO_SHOW,
}
CONSULTATION_ACTIONS = ("complete", "cancel", "mark_no_show")
OPEN_CONSULTATION_STATES = frozenset({ConsultationState.BOOKED})


def consultation_transition(state: str, action: str) -> ConsultationState:
    """The state after ``action``; :class:`InvalidTransition` if the state does not allow it.

    An unknown state or action name is a programming error (``ValueError``): the API offers
    one endpoint per action, so a person cannot send one.
    """
    current = ConsultationState(state)
    if action not in CONSULTATION_ACTIONS:
        raise ValueError(f"Unknown consultation action {action!r}")
    try:
        return CONSULTATION_TRANSITIONS[(current, action)]
    except KeyError:
        raise InvalidTransition(
            f"A {current.value} consultation cannot {action.replace('_', ' ')}", field="state"
        ) from None


def ensure_no_open_consultation(states: Iterable[str]) -> None:
    """One open (booked) consultation per student at a time: it is the free first step."""
    if any(ConsultationState(s) in OPEN_CONSULTATION_STATES for s in states):
        raise ConsultationAlreadyOpen(
            "Finish or cancel your booked consultation before booking another",
            field="starts_at",
        )


# --------------------------------------------------------------------------- meetings held

MeetingKind = Literal["consultation", "session"]

#: What a tutor records about a meeting once it has begun, as the refusal names it. Completing
#: a session is also writing its lesson note, so "complete" covers the note too.
AFTER_START_ACTIONS: dict[str, str] = {
    "complete": "completed",
    "mark_no_show": "marked as a no-show",
}

_NOT_STARTED: dict[str, type[MeetingNotStarted]] = {
    "consultation": ConsultationNotStarted,
    "session": SessionNotStarted,
}


def ensure_meeting_started(
    kind: MeetingKind, action: str, starts_at: datetime, now: datetime, tutor_tz: str | tzinfo
) -> None:
    """A meeting's outcome (held, missed, its lesson note) is known only once it has begun.

    Before ``starts_at`` nobody can say the student came or stayed away, and a meeting marked
    done early would sit among the student's past meetings with a date still to come. At the
    start instant itself it has begun. The refusal says when, on the tutor's clock (they are the
    one who acts), so they know when to come back.
    """
    require_aware(starts_at, "starts_at")
    require_aware(now, "now")
    if action not in AFTER_START_ACTIONS:
        raise ValueError(f"Unknown after-start action {action!r}")
    if kind not in _NOT_STARTED:
        raise ValueError(f"Unknown meeting kind {kind!r}")
    if now >= starts_at:
        return
    tz = zone(tutor_tz)
    when = clock.format_moment(starts_at, getattr(tz, "key", "UTC"))
    raise _NOT_STARTED[kind](
        f"This {kind} starts {when}; it can be {AFTER_START_ACTIONS[action]} once it has started.",
        field="starts_at",
    )


# --------------------------------------------------------------------------- session states


class SessionState(StrEnum):
    BOOKED = "booked"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


def ensure_session_booked(state: str) -> None:
    """Only a booked session can be cancelled, moved or completed; every move ends or keeps it."""
    if SessionState(state) != SessionState.BOOKED:
        raise SessionNotBooked(f"The session is {state}", field="state")


def ensure_session_started(
    starts_at: datetime, now: datetime, tutor_tz: str | tzinfo = "UTC"
) -> None:
    """A lesson note describes a lesson that happened: not before the session's start."""
    ensure_meeting_started("session", "complete", starts_at, now, tutor_tz)


def reminder_due(
    starts_at: datetime, reminder_sent_for: datetime | None, now: datetime, lead_hours: int = 24
) -> bool:
    """Is a reminder owed: the session starts within ``lead_hours`` and none went for this start.

    Keyed on the start time, so a moved session is reminded of its new time once, and a
    reminder already sent for this start is never sent again.
    """
    require_aware(starts_at, "starts_at")
    require_aware(now, "now")
    if reminder_sent_for is not None and reminder_sent_for == starts_at:
        return False
    return now < starts_at <= now + timedelta(hours=lead_hours)


# --------------------------------------------------------------------------- sessions

DEFAULT_CUTOFF_HOURS = 24
DEFAULT_RESCHEDULE_LIMIT = 2


@dataclass(frozen=True)
class CancellationOutcome:
    """Whether the hour goes back on the student's balance, and whether it was inside the cut-off."""

    credit_returned: bool
    late: bool


def _cutoff(starts_at: datetime, now: datetime, cutoff_hours: int) -> datetime:
    require_aware(starts_at, "starts_at")
    require_aware(now, "now")
    if not is_int(cutoff_hours) or cutoff_hours < 0:
        raise ValueError("cutoff_hours must be a whole number >= 0")
    return starts_at - timedelta(hours=cutoff_hours)


def free_cancellation_until(
    starts_at: datetime, cutoff_hours: int = DEFAULT_CUTOFF_HOURS
) -> datetime:
    """The last moment a student may cancel or move a session and keep the hour.

    Published with each session (``can_cancel_until``) so pages warn from the same line that
    :func:`cancellation_outcome` and :func:`check_reschedule` apply.
    """
    require_aware(starts_at, "starts_at")
    return starts_at - timedelta(hours=cutoff_hours)


def cancellation_outcome(
    starts_at: datetime,
    now: datetime,
    by: Literal["student", "tutor"],
    cutoff_hours: int = DEFAULT_CUTOFF_HOURS,
) -> CancellationOutcome:
    """What cancelling a booked session does to the student's credit.

    ``late`` means ``now`` is at or after the cut-off (``starts_at - cutoff_hours``). A student
    who cancels late forfeits the hour (the tutor kept the time free); a tutor's cancellation
    always returns it, late or not. A session that has started cannot be cancelled by anyone:
    what happened to it is a completion or a no-show, not a cancellation.
    """
    cutoff = _cutoff(starts_at, now, cutoff_hours)
    if by not in ("student", "tutor"):
        raise ValueError(f"by must be 'student' or 'tutor', got {by!r}")
    if now >= starts_at:
        raise SessionAlreadyStarted("The session has already started", field="starts_at")
    late = now >= cutoff
    return CancellationOutcome(credit_returned=by == "tutor" or not late, late=late)


def check_reschedule(
    reschedules_done: int,
    starts_at: datetime,
    now: datetime,
    limit: int = DEFAULT_RESCHEDULE_LIMIT,
    cutoff_hours: int = DEFAULT_CUTOFF_HOURS,
) -> None:
    """May the student move this session? Raise the reason if not.

    The limit is checked first (it holds whatever the time), then the cut-off: moving a
    session at or after ``starts_at - cutoff_hours`` (including after it started) is
    :class:`TooLateToReschedule`, the same line as a free cancellation.
    """
    cutoff = _cutoff(starts_at, now, cutoff_hours)
    if not is_int(reschedules_done) or reschedules_done < 0:
        raise ValueError("reschedules_done must be a whole number >= 0")
    if reschedules_done >= limit:
        raise RescheduleLimitReached(
            f"A session can be rescheduled at most {limit} times", field="starts_at"
        )
    if now >= cutoff:
        raise TooLateToReschedule(
            f"Sessions can be moved up to {cutoff_hours} hours before they start",
            field="starts_at",
        )


def credits_after_refund(purchased_hours: int, used_hours: int, refunded_hours: int) -> int:
    """Hours left on a package after a refund: the refund takes unused hours away first.

    ``purchased - used - refunded``, never below zero (a refund of more than is unused leaves
    nothing, and used hours are never taken back).
    """
    for name, value in (
        ("purchased_hours", purchased_hours),
        ("used_hours", used_hours),
        ("refunded_hours", refunded_hours),
    ):
        if not is_int(value) or value < 0:
            raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")
    return max(0, purchased_hours - used_hours - refunded_hours)
