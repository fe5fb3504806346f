"""Tutoring's rules: availability and bookable slots, the intake form, consultations, sessions.

Nothing here touches Flask, a database session or the broker, so every rule is testable in
microseconds; ``service.py`` loads rows, asks these functions, and commits. No double-booked
slot is the database's job (a unique constraint / row lock); :func:`bookable_slots` only says
which starts are worth offering given the bookings it is shown.

Times: instants (bookings, time off, "now", slots) are timezone-aware ``datetime`` values and
every instant this module returns is in UTC. A tutor's weekly windows and date overrides are
wall-clock ``time`` values in the tutor's own IANA zone, because that is how a person thinks
about "Mondays 09:00-12:00": the wall-clock time stays put across a DST change and its UTC
instant moves.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared import clock
from shared.errors import Conflict, DomainError, NotFound

# --------------------------------------------------------------------------- errors


class InvalidTimeZone(DomainError):
    title = "Unknown time zone"


class InvalidAvailability(DomainError):
    title = "The availability makes no sense"


class InvalidTimeOff(DomainError):
    title = "The time off makes no sense"


class InvalidSlotRules(DomainError):
    title = "The booking settings make no sense"


class InvalidIntake(DomainError):
    title = "The intake form is not valid"


class InvalidTransition(Conflict):
    title = "The consultation cannot do that in its current state"


class ConsultationAlreadyOpen(Conflict):
    title = "You already have an open consultation"


class SessionAlreadyStarted(Conflict):
    title = "The session has already started"


class RescheduleLimitReached(Conflict):
    title = "This session has been rescheduled as often as allowed"


class TooLateToReschedule(DomainError):
    title = "It is too late to reschedule this session"


class SlotTaken(Conflict):
    title = "That time has just been booked"


class SlotNotOffered(DomainError):
    title = "That time is not one of the tutor's bookable slots"


class TutorNotFound(NotFound):
    title = "No such tutor"


class ConsultationNotFound(NotFound):
    title = "No such consultation"


class PlanNotFound(NotFound):
    title = "No such study plan"


class PlanAlreadyExists(Conflict):
    title = "This consultation already has a study plan"


class InvalidPackage(DomainError):
    title = "That package cannot be bought"


class PackageNotFound(NotFound):
    title = "No such package"


class SessionNotFound(NotFound):
    title = "No such session"


class ConsultationFirst(Conflict):
    title = "Book and complete a consultation with this tutor first"


class NoCredit(Conflict):
    title = "You have no hours left with this tutor"


class SessionNotBooked(Conflict):
    title = "The session is not booked any more"


class MeetingNotStarted(Conflict):
    title = "The meeting has not started yet"


class ConsultationNotStarted(MeetingNotStarted):
    title = "The consultation has not started yet"


class SessionNotStarted(MeetingNotStarted):
    title = "The session has not started yet"


# --------------------------------------------------------------------------- helpers


def _require_aware(value: datetime, name: str) -> None:
    """Naive datetimes are a programming error: the suite stores and compares instants in UTC."""
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def zone(name: str | tzinfo, *, field: str = "time_zone") -> tzinfo:
    """An IANA zone by name (or a tzinfo passed through); a bad name is the user's error."""
    if isinstance(name, tzinfo):
        return name
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise InvalidTimeZone(f"{name!r} is not a known IANA time zone", field=field) from exc


def _check_wall_time(value: time, field: str) -> None:
    if not isinstance(value, time) or value.tzinfo is not None:
        raise InvalidAvailability(
            "Availability times are wall-clock times without a zone", field=field
        )


def _check_window(start: time, end: time, field: str) -> None:
    _check_wall_time(start, field)
    _check_wall_time(end, field)
    if end <= start:
        raise InvalidAvailability(
            f"A window must end after it starts ({start:%H:%M}-{end:%H:%M})", field=field
        )


# --------------------------------------------------------------------------- availability


@dataclass(frozen=True)
class WeeklyWindow:
    """A recurring window on one weekday (0 = Monday), wall-clock in the tutor's zone."""

    weekday: int
    start: time
    end: time

    def __post_init__(self) -> None:
        if not _is_int(self.weekday) or not 0 <= self.weekday <= 6:
            raise InvalidAvailability("Weekday must be 0 (Monday) to 6 (Sunday)", field="weekly")
        _check_window(self.start, self.end, "weekly")


@dataclass(frozen=True)
class DateOverride:
    """One local date's windows, replacing that weekday's; an empty tuple is a day off."""

    day: date
    windows: tuple[tuple[time, time], ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.day, date) or isinstance(self.day, datetime):
            raise InvalidAvailability("An override is for a calendar date", field="overrides")
        object.__setattr__(self, "windows", tuple(tuple(w) for w in self.windows))
        for start, end in self.windows:
            _check_window(start, end, "overrides")


@dataclass(frozen=True)
class TimeOff:
    """An absolute stretch the tutor is away (may span midnight or days)."""

    starts_at: datetime
    ends_at: datetime

    def __post_init__(self) -> None:
        _require_aware(self.starts_at, "starts_at")
        _require_aware(self.ends_at, "ends_at")
        if self.ends_at <= self.starts_at:
            raise InvalidTimeOff("Time off must end after it starts", field="ends_at")


@dataclass(frozen=True)
class Busy:
    """An existing booking (consultation or session) of the tutor."""

    starts_at: datetime
    ends_at: datetime

    def __post_init__(self) -> None:
        _require_aware(self.starts_at, "starts_at")
        _require_aware(self.ends_at, "ends_at")
        if self.ends_at <= self.starts_at:
            raise ValueError("A booking must end after it starts")


@dataclass(frozen=True)
class SlotRules:
    """The booking settings: meeting length, buffer between meetings, notice, horizon, grid."""

    length_minutes: int
    buffer_minutes: int = 15
    min_notice_hours: int = 24
    horizon_days: int = 28
    step_minutes: int = 30

    def __post_init__(self) -> None:
        checks = (
            ("length_minutes", 1, 24 * 60),
            ("buffer_minutes", 0, 24 * 60),
            ("min_notice_hours", 0, 24 * 365),
            ("horizon_days", 1, 366),
            ("step_minutes", 1, 24 * 60),
        )
        for name, low, high in checks:
            value = getattr(self, name)
            if not _is_int(value) or not low <= value <= high:
                raise InvalidSlotRules(f"{name} must be a whole number {low}-{high}", field=name)


@dataclass(frozen=True, order=True)
class Slot:
    """A bookable meeting, as UTC instants; :meth:`local` shows it in a viewer's zone."""

    starts_at: datetime
    ends_at: datetime

    def local(self, tz: str | tzinfo) -> tuple[datetime, datetime]:
        """Start and end in the viewer's zone (a student abroad sees their own clock)."""
        viewer = zone(tz)
        return self.starts_at.astimezone(viewer), self.ends_at.astimezone(viewer)


def _resolve_start(wall: datetime, tz: tzinfo) -> datetime | None:
    """The UTC instant of a local wall-clock time, or None if the clock skips it.

    Spring-forward gap: the time never happens, so no meeting may start then (None).
    Fall-back overlap: the time happens twice; we take the first occurrence (``fold=0``), so a
    repeated hour offers its starts once, not twice.
    """
    utc = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if utc.astimezone(tz).replace(tzinfo=None) != wall:
        return None
    return utc


def _resolve_bound(wall: datetime, tz: tzinfo) -> datetime:
    """The UTC instant a window starts or ends at, even when the wall time is in a gap.

    Ambiguous times take the first occurrence (``fold=0``) like meeting starts do. A bound in a
    spring-forward gap becomes the instant the clock jumps (the first real instant whose wall
    clock reads at or after it), found by bisecting the at most a-few-hours span between the
    two offsets' readings.
    """
    exact = _resolve_start(wall, tz)
    if exact is not None:
        return exact
    a = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    b = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    low, high = min(a, b), max(a, b)  # low reads before the gap, high after it
    while high - low > timedelta(minutes=1):
        mid = low + (high - low) / 2
        mid = mid.replace(second=0, microsecond=0)
        if mid <= low:
            break
        if mid.astimezone(tz).replace(tzinfo=None) >= wall:
            high = mid
        else:
            low = mid
    return high


def _overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    return a_start < b_end and b_start < a_end


def _windows_by_day(
    weekly: Sequence[WeeklyWindow], overrides: Sequence[DateOverride]
) -> tuple[dict[int, list[tuple[time, time]]], dict[date, tuple[tuple[time, time], ...]]]:
    by_weekday: dict[int, list[tuple[time, time]]] = {d: [] for d in range(7)}
    for window in weekly:
        by_weekday[window.weekday].append((window.start, window.end))
    by_date: dict[date, tuple[tuple[time, time], ...]] = {}
    for override in overrides:
        if override.day in by_date:
            raise InvalidAvailability(
                f"More than one override for {override.day.isoformat()}", field="overrides"
            )
        by_date[override.day] = override.windows
    return by_weekday, by_date


def bookable_slots(
    tutor_tz: str,
    weekly: Sequence[WeeklyWindow],
    overrides: Sequence[DateOverride],
    time_off: Sequence[TimeOff],
    busy: Sequence[Busy],
    rules: SlotRules,
    now: datetime,
) -> list[Slot]:
    """Every meeting a student may book now, as sorted UTC slots.

    For each of the tutor's local dates from today to ``now + horizon``: that date's override
    windows if it has one, else its weekday's windows. Candidate starts are wall-clock times
    every ``step_minutes`` from a window's start; a meeting lasts ``length_minutes`` of real
    time and must end by the window's end instant. A candidate is dropped if it starts before
    ``now + min_notice``, ends after ``now + horizon``, overlaps time off, or leaves less than
    ``buffer_minutes`` before or after any busy interval (a gap of exactly the buffer is fine).
    Wall times the clock skips are not offered; repeated wall times are offered once, at their
    first occurrence (see :func:`_resolve_start`). Overlapping windows do not duplicate slots.
    """
    _require_aware(now, "now")
    tz = zone(tutor_tz, field="time_zone")
    by_weekday, by_date = _windows_by_day(weekly, overrides)

    length = timedelta(minutes=rules.length_minutes)
    step = timedelta(minutes=rules.step_minutes)
    buffer = timedelta(minutes=rules.buffer_minutes)
    earliest = now + timedelta(hours=rules.min_notice_hours)
    latest = now + timedelta(days=rules.horizon_days)
    blocked = [(t.starts_at, t.ends_at) for t in time_off]
    booked = [(b.starts_at - buffer, b.ends_at + buffer) for b in busy]

    found: set[Slot] = set()
    day = now.astimezone(tz).date()
    last_day = latest.astimezone(tz).date()
    while day <= last_day:
        windows = by_date.get(day, by_weekday[day.weekday()])
        for start, end in windows:
            wall_start = datetime.combine(day, start)
            wall_end = datetime.combine(day, end)
            window_end = _resolve_bound(wall_end, tz)
            wall = wall_start
            while wall < wall_end:
                starts_at = _resolve_start(wall, tz)
                wall += step
                if starts_at is None:
                    continue
                ends_at = starts_at + length
                if ends_at > window_end:
                    continue
                if starts_at < earliest or ends_at > latest:
                    continue
                if any(_overlaps(starts_at, ends_at, s, e) for s, e in blocked):
                    continue
                if any(_overlaps(starts_at, ends_at, s, e) for s, e in booked):
                    continue
                found.add(Slot(starts_at, ends_at))
        day += timedelta(days=1)
    return sorted(found)


# --------------------------------------------------------------------------- intake

EXAMS = ("step1", "step2ck")

#: Disciplines and organ systems as the USMLE content outlines name them, as URL-safe slugs.
KNOWN_AREAS = (
    "anatomy",
    "behavioral-science",
    "biochemistry",
    "biostatistics",
    "cardiovascular",
    "dermatology",
    "endocrine",
    "ethics",
    "gastrointestinal",
    "genetics",
    "hematology-oncology",
    "immunology",
    "microbiology",
    "musculoskeletal",
    "neurology",
    "pathology",
    "pharmacology",
    "physiology",
    "psychiatry",
    "renal",
    "reproductive",
    "respiratory",
)

MAX_ATTEMPTS = 6
MIN_WEEKLY_HOURS = 1
MAX_WEEKLY_HOURS = 80
EXAM_HORIZON_YEARS = 2


@dataclass(frozen=True)
class Intake:
    """What a student tells us before a consultation; a study plan is built from it."""

    exam: str
    exam_date: date
    attempts: int
    weekly_hours: int
    weak_areas: tuple[str, ...]


def _years_later(day: date, years: int) -> date:
    """Same calendar date ``years`` later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def validate_intake(
    exam: str,
    exam_date: date,
    attempts: int,
    weekly_hours: int,
    weak_areas: Sequence[str],
    today: date,
) -> Intake:
    """Check the intake form and return it normalised, or raise :class:`InvalidIntake`.

    Fields are checked in form order (exam, exam_date, attempts, weekly_hours, weak_areas) and
    the *first* offending one is raised with ``field=`` set, so the message names one thing to
    fix. ``exam`` and areas are trimmed and lower-cased first; areas keep the student's order.
    The exam date must be strictly after ``today`` (the student's local date, which the
    service derives from their zone) and no later than two years from today: a plan to an exam
    today or in the past is meaningless, and a date years away is almost always a typo.
    """
    exam_slug = exam.strip().lower() if isinstance(exam, str) else exam
    if exam_slug not in EXAMS:
        raise InvalidIntake(f"Exam must be one of {', '.join(EXAMS)}", field="exam")
    if not isinstance(exam_date, date) or isinstance(exam_date, datetime):
        raise InvalidIntake("Exam date must be a calendar date", field="exam_date")
    if exam_date <= today:
        raise InvalidIntake("The exam date must be in the future", field="exam_date")
    if exam_date > _years_later(today, EXAM_HORIZON_YEARS):
        raise InvalidIntake(
            f"The exam date must be within {EXAM_HORIZON_YEARS} years", field="exam_date"
        )
    if not _is_int(attempts) or not 0 <= attempts <= MAX_ATTEMPTS:
        raise InvalidIntake(f"Attempts so far must be 0-{MAX_ATTEMPTS}", field="attempts")
    if not _is_int(weekly_hours) or not MIN_WEEKLY_HOURS <= weekly_hours <= MAX_WEEKLY_HOURS:
        raise InvalidIntake(
            f"Weekly hours must be {MIN_WEEKLY_HOURS}-{MAX_WEEKLY_HOURS}", field="weekly_hours"
        )
    if isinstance(weak_areas, str):
        raise InvalidIntake("Weak areas must be a list", field="weak_areas")
    areas: list[str] = []
    for raw in weak_areas:
        area = raw.strip().lower() if isinstance(raw, str) else raw
        if area not in KNOWN_AREAS:
            raise InvalidIntake(f"Unknown area {raw!r}", field="weak_areas")
        if area in areas:
            raise InvalidIntake(f"Area {area!r} is listed twice", field="weak_areas")
        areas.append(area)
    return Intake(exam_slug, exam_date, attempts, weekly_hours, tuple(areas))


# --------------------------------------------------------------------------- consultations


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
    _require_aware(starts_at, "starts_at")
    _require_aware(now, "now")
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


# --------------------------------------------------------------------------- sessions

DEFAULT_CUTOFF_HOURS = 24
DEFAULT_RESCHEDULE_LIMIT = 2


@dataclass(frozen=True)
class CancellationOutcome:
    """Whether the hour goes back on the student's balance, and whether it was inside the cut-off."""

    credit_returned: bool
    late: bool


def _cutoff(starts_at: datetime, now: datetime, cutoff_hours: int) -> datetime:
    _require_aware(starts_at, "starts_at")
    _require_aware(now, "now")
    if not _is_int(cutoff_hours) or cutoff_hours < 0:
        raise ValueError("cutoff_hours must be a whole number >= 0")
    return starts_at - timedelta(hours=cutoff_hours)


def free_cancellation_until(
    starts_at: datetime, cutoff_hours: int = DEFAULT_CUTOFF_HOURS
) -> datetime:
    """The last moment a student may cancel or move a session and keep the hour.

    Published with each session (``can_cancel_until``) so pages warn from the same line that
    :func:`cancellation_outcome` and :func:`check_reschedule` apply.
    """
    _require_aware(starts_at, "starts_at")
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
    if not _is_int(reschedules_done) or reschedules_done < 0:
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
        if not _is_int(value) or value < 0:
            raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")
    return max(0, purchased_hours - used_hours - refunded_hours)


# --------------------------------------------------------------------------- packages

PACKAGE_HOURS = (1, 5, 10)
#: Percent off the hourly rate by package size (the 10-hour package is the loyal student's deal).
PACKAGE_DISCOUNT_PERCENT = {1: 0, 5: 0, 10: 10}


def package_price(rate_minor: int | None, hours: int) -> int:
    """What a package costs in minor units: the tutor's hourly rate times hours, less the discount.

    A tutor without a rate sells no sessions yet; that is the buyer's 422, not a free package.
    Discounted prices round down (the student never pays a fraction of a cent more).
    """
    if hours not in PACKAGE_HOURS:
        raise InvalidPackage(
            f"Packages come in {', '.join(map(str, PACKAGE_HOURS))} hours", field="hours"
        )
    if rate_minor is None or not _is_int(rate_minor) or rate_minor <= 0:
        raise InvalidPackage("This tutor has not set a session rate yet", field="tutor_id")
    return rate_minor * hours * (100 - PACKAGE_DISCOUNT_PERCENT[hours]) // 100


def package_options(rate_minor: int | None) -> list[dict[str, int]]:
    """Every package a student can buy at this hourly rate, priced, for the page that sells them.

    The site shows these as they are (it computes no price, discount or list of sizes); a tutor
    without a rate sells nothing yet, so the list is empty rather than free.
    """
    if rate_minor is None or not _is_int(rate_minor) or rate_minor <= 0:
        return []
    return [
        {
            "hours": hours,
            "amount_minor": package_price(rate_minor, hours),
            "full_minor": rate_minor * hours,
            "discount_percent": PACKAGE_DISCOUNT_PERCENT[hours],
        }
        for hours in PACKAGE_HOURS
    ]


def hours_refunded(hours: int, amount_minor: int, refunded_minor: int) -> int:
    """How many of a package's hours its refunds so far pay back (rounded up, at most all).

    A full refund returns every hour; a partial one returns the hours it covers, a started
    hour counting as a whole one (the student got the money for it back).
    """
    if amount_minor <= 0 or refunded_minor <= 0:
        return 0
    covered = -(-refunded_minor * hours // amount_minor)
    return min(hours, covered)


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
    _require_aware(starts_at, "starts_at")
    _require_aware(now, "now")
    if reminder_sent_for is not None and reminder_sent_for == starts_at:
        return False
    return now < starts_at <= now + timedelta(hours=lead_hours)
