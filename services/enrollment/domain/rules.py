"""Enrollment's rules: courses, their repeating cycles, seats, enrollments, refunds and promos.

Nothing here touches Flask, a database session or the broker, so every rule is testable in
microseconds; the use cases (``use_cases/``) load rows, ask these functions, and commit.
Concurrency (no oversold cycle, one redemption per row) is the database's job (``seats.py``);
these functions only decide whether a single request is allowed given the numbers it is shown.

Over 400 lines on purpose: pure functions and small dataclasses under one banner per concept
(errors, courses, cycles, access, states, holds, refunds, waitlist), most of which call each
other (a cycle is computed from a course, a refund window from a cycle); the banners are the
table of contents, and no part is long on its own. Promotion codes, which only price a
checkout, are apart (``promotions.py``); ``services.enrollment.domain`` exports both.

Dates and times: a cycle's days are calendar ``date`` values; instants (holds, payments,
promo expiry, "now") are timezone-aware ``datetime`` values, stored in UTC.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from shared import request_bounds as bounds
from shared.errors import Conflict, DomainError, NotFound

# --------------------------------------------------------------------------- errors


class InvalidCourse(DomainError):
    title = "The course settings make no sense"


class InvalidCycle(DomainError):
    title = "No such cycle"


class CycleFull(Conflict):
    title = "Every seat in this cycle is taken"


class HoldExpired(Conflict):
    title = "The seat hold has expired"


class InvalidTransition(Conflict):
    title = "The enrollment cannot do that in its current state"


class AlreadyDeferred(Conflict):
    title = "The enrollment has already been deferred once"


class DeferralNotAllowed(DomainError):
    title = "The enrollment cannot move to that cycle"


class OutsideRefundWindow(DomainError):
    status = 422
    title = "The refund window has closed"


class NothingToRefund(Conflict):
    title = "Nothing was paid for this enrollment"


class InvalidPromoCode(DomainError):
    title = "The promotion code settings make no sense"


class PromoExpired(DomainError):
    title = "The promotion code has expired"


class PromoExhausted(DomainError):
    title = "The promotion code has been used up"


class PromoNotForCourse(DomainError):
    title = "The promotion code is not valid for this course"


class PromoAlreadyUsed(Conflict):
    title = "You have already used this promotion code"


class PromoCurrencyMismatch(DomainError):
    title = "The promotion code is in a different currency from the course"


class CourseNotFound(NotFound):
    title = "No such course"


class EnrollmentNotFound(NotFound):
    title = "No such enrollment"


class CourseExists(Conflict):
    title = "A course with this slug exists already"


class PromoCodeExists(Conflict):
    title = "A promotion code with this name exists already"


class UnknownPromoCode(DomainError):
    title = "No such promotion code"


class AlreadyEnrolled(Conflict):
    title = "You already have an enrollment in this course"


class AlreadyOnWaitlist(Conflict):
    title = "You are already on this cycle's waitlist"


class CycleNotFull(Conflict):
    title = "This cycle still has seats; enroll instead of joining the waitlist"


class RefundAlreadyRequested(Conflict):
    title = "A refund of this enrollment has already been requested"


def _require_aware(value: datetime, name: str) -> None:
    """Naive datetimes are a programming error: the suite stores and compares instants in UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# --------------------------------------------------------------------------- courses

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
TITLE_MAX = 200


@dataclass(frozen=True)
class Course:
    """A curriculum of ``cycle_length_days`` that restarts every ``cadence_days`` from ``anchor_date``.

    Constructing one validates it, so a ``Course`` in hand always makes sense; use
    :func:`new_course` for input from people (it trims and upper-cases first).
    """

    slug: str
    title: str
    price_minor: int
    currency: str
    cycle_length_days: int
    cadence_days: int
    anchor_date: date
    seats_per_cycle: int
    access_days: int
    refund_window_days: int
    published: bool = False

    def __post_init__(self) -> None:
        if not SLUG_RE.match(self.slug):
            raise InvalidCourse(
                "A slug is lower-case letters and digits separated by single hyphens",
                field="slug",
            )
        if not self.title or len(self.title) > TITLE_MAX:
            raise InvalidCourse(f"A title has 1 to {TITLE_MAX} characters", field="title")
        if not _is_int(self.price_minor) or self.price_minor < 0:
            raise InvalidCourse(
                "The price is a whole number of minor units, 0 or more", field="price_minor"
            )
        if not isinstance(self.currency, str) or not CURRENCY_RE.match(self.currency):
            raise InvalidCourse(
                "The currency is a three-letter ISO 4217 code such as USD", field="currency"
            )
        for name in ("cycle_length_days", "cadence_days", "seats_per_cycle", "access_days"):
            value = getattr(self, name)
            if not _is_int(value) or value < 1:
                raise InvalidCourse(f"{name} must be a whole number of at least 1", field=name)
        if self.access_days < self.cycle_length_days:
            # Access that ends before the curriculum does would lock students out mid-course.
            raise InvalidCourse(
                "Access must last at least as long as the cycle", field="access_days"
            )
        if not _is_int(self.refund_window_days) or self.refund_window_days < 0:
            raise InvalidCourse(
                "refund_window_days must be a whole number, 0 or more", field="refund_window_days"
            )
        if self.refund_window_days > self.cycle_length_days:
            # A refund after the curriculum has finished is a gift, not a window.
            raise InvalidCourse(
                "The refund window cannot outlast the cycle", field="refund_window_days"
            )
        if not isinstance(self.anchor_date, date) or isinstance(self.anchor_date, datetime):
            raise InvalidCourse("The anchor is a calendar date", field="anchor_date")
        if not bounds.EARLIEST <= self.anchor_date <= bounds.LATEST:
            # Cycles, access and refund deadlines are the anchor plus days: near the calendar's
            # end that addition overflows, and no course of this school starts there.
            raise InvalidCourse(
                f"The anchor is a date between {bounds.EARLIEST} and {bounds.LATEST}",
                field="anchor_date",
            )


def new_course(
    *,
    slug: str,
    title: str,
    price_minor: int,
    currency: str,
    cycle_length_days: int,
    cadence_days: int,
    anchor_date: date,
    seats_per_cycle: int,
    access_days: int,
    refund_window_days: int,
    published: bool = False,
) -> Course:
    """Build a course from what an admin typed: trim text, upper-case the currency, validate.

    Raises :class:`InvalidCourse` naming the offending ``field`` so the form can point at it.
    """
    return Course(
        slug=slug.strip().lower() if isinstance(slug, str) else slug,
        title=title.strip() if isinstance(title, str) else title,
        price_minor=price_minor,
        currency=currency.strip().upper() if isinstance(currency, str) else currency,
        cycle_length_days=cycle_length_days,
        cadence_days=cadence_days,
        anchor_date=anchor_date,
        seats_per_cycle=seats_per_cycle,
        access_days=access_days,
        refund_window_days=refund_window_days,
        published=published,
    )


# --------------------------------------------------------------------------- cycles


@dataclass(frozen=True)
class Cycle:
    """One run of a course. Days are inclusive except ``access_ends_on`` (see below).

    - ``starts_on`` = anchor + index * cadence
    - ``ends_on`` = the last day of the curriculum: ``starts_on + cycle_length_days - 1``
    - ``access_ends_on`` = ``starts_on + access_days``: the first day *without* access, so
      access covers exactly ``access_days`` days, ``[starts_on, access_ends_on)``.
    """

    index: int
    starts_on: date
    ends_on: date
    access_ends_on: date


def cycle_start(course: Course, index: int) -> date:
    """The start date of cycle ``index``; cycle 0 starts on the anchor, none start before it."""
    if not _is_int(index) or index < 0:
        raise InvalidCycle("Cycles are numbered from 0 at the anchor date", field="cycle_index")
    return course.anchor_date + timedelta(days=index * course.cadence_days)


def cycle(course: Course, index: int) -> Cycle:
    """Cycle ``index`` with its derived dates (cycles are computed, never stored as a list)."""
    starts_on = cycle_start(course, index)
    return Cycle(
        index=index,
        starts_on=starts_on,
        ends_on=starts_on + timedelta(days=course.cycle_length_days - 1),
        access_ends_on=starts_on + timedelta(days=course.access_days),
    )


def first_open_index(course: Course, today: date) -> int:
    """The index of the first cycle starting on or after ``today`` (0 before the anchor).

    A cycle starting today is still open: a student can enroll on the first morning.
    """
    days_after_anchor = (today - course.anchor_date).days
    if days_after_anchor <= 0:
        return 0
    return -(-days_after_anchor // course.cadence_days)  # ceiling division


def upcoming_cycles(course: Course, today: date, count: int = 4) -> list[Cycle]:
    """The next ``count`` cycles starting on or after ``today``: the ones open for enrollment.

    Starts are ``anchor + k * cadence`` for ``k >= 0``; before the anchor date the first open
    cycle is the anchor's. Whether the course is published is the caller's concern.
    """
    if not _is_int(count) or count < 1:
        raise InvalidCycle("Ask for at least one cycle", field="count")
    first = first_open_index(course, today)
    return [cycle(course, first + k) for k in range(count)]


def check_seat_available(seats_taken: int, seats_per_cycle: int) -> None:
    """Refuse a new hold when held plus paid seats already fill the cycle (offer the waitlist).

    This only gives a friendly early answer; the database constraint is what prevents overselling.
    """
    if seats_taken >= seats_per_cycle:
        raise CycleFull("This cycle is full; you can join its waitlist", field="cycle_index")


# --------------------------------------------------------------------------- access


def access_window(cycle: Cycle) -> tuple[date, date]:
    """``(first day with access, first day without)``: half-open, ``access_days`` days long."""
    return cycle.starts_on, cycle.access_ends_on


def has_access(cycle: Cycle, today: date) -> bool:
    """Whether a student of ``cycle`` may use the course material on ``today``."""
    start, end = access_window(cycle)
    return start <= today < end


def access_expiring_soon(access_ends_on: date, today: date, notice_days: int = 7) -> bool:
    """True while access still runs but stops within ``notice_days`` days (time to send a reminder).

    ``access_ends_on`` is the first day without access, so on ``access_ends_on - notice_days``
    the reminder becomes due, and from ``access_ends_on`` on it is no longer "soon" but over.
    """
    days_left = (access_ends_on - today).days
    return 0 < days_left <= notice_days


# --------------------------------------------------------------------------- enrollment states

PENDING_PAYMENT = "pending_payment"
ACTIVE = "active"
COMPLETED = "completed"
EXPIRED = "expired"
CANCELLED = "cancelled"
REFUNDED = "refunded"
STATES = (PENDING_PAYMENT, ACTIVE, COMPLETED, EXPIRED, CANCELLED, REFUNDED)
FINAL_STATES = frozenset({COMPLETED, EXPIRED, CANCELLED, REFUNDED})

PAY = "pay"
EXPIRE_HOLD = "expire_hold"
CANCEL = "cancel"
COMPLETE = "complete"
REFUND = "refund"
DEFER = "defer"
ACTIONS = (PAY, EXPIRE_HOLD, CANCEL, COMPLETE, REFUND, DEFER)

TRANSITIONS: dict[tuple[str, str], str] = {
    (PENDING_PAYMENT, PAY): ACTIVE,
    (PENDING_PAYMENT, EXPIRE_HOLD): EXPIRED,
    (PENDING_PAYMENT, CANCEL): CANCELLED,
    (ACTIVE, COMPLETE): COMPLETED,
    (ACTIVE, REFUND): REFUNDED,
    (ACTIVE, DEFER): ACTIVE,
}
"""``(state, action) -> next state``; every pair not listed is refused."""

MAX_DEFERRALS = 1


def transition(current: str, action: str, *, deferrals_used: int = 0) -> str:
    """The state an enrollment moves to when ``action`` happens, or :class:`InvalidTransition`.

    ``defer`` keeps the enrollment active but is allowed only ``MAX_DEFERRALS`` times, so it also
    needs ``deferrals_used`` (raises :class:`AlreadyDeferred`).
    """
    try:
        new_state = TRANSITIONS[(current, action)]
    except KeyError:
        raise InvalidTransition(
            f"An enrollment that is {current.replace('_', ' ')} cannot {action.replace('_', ' ')}",
            field="state",
        ) from None
    if action == DEFER and deferrals_used >= MAX_DEFERRALS:
        raise AlreadyDeferred(
            "An enrollment can be deferred only once; it has been deferred already",
            field="cycle_index",
        )
    return new_state


STUDENT_ACTIONS = (PAY, DEFER, REFUND)
"""What a student may ask of their own enrollment (the rest happen to it: holds lapse, access
ends, refunds arrive)."""


def allowed_actions(
    state: str, *, deferrals_used: int, refund_requested: bool, refundable: bool
) -> list[str]:
    """The student actions :data:`TRANSITIONS` and the limits allow now, for the page to offer.

    A page that offers only these never shows a button the service would refuse: ``defer`` after
    the one deferral or while a refund is under way, ``refund`` twice or outside its window
    (``refundable`` is :func:`refund_allowed`'s answer, which needs the clock and the cycle).
    """
    allowed = []
    for action in STUDENT_ACTIONS:
        if (state, action) not in TRANSITIONS:
            continue
        if action == DEFER and (deferrals_used >= MAX_DEFERRALS or refund_requested):
            continue
        if action == REFUND and (refund_requested or not refundable):
            continue
        allowed.append(action)
    return allowed


@dataclass(frozen=True)
class Enrollment:
    """What the rules need to know about one student's place in one cycle."""

    state: str
    cycle_index: int
    deferrals_used: int = 0

    def apply(self, action: str) -> Enrollment:
        """The enrollment after ``action`` (anything but ``defer``, which needs a target)."""
        if action == DEFER:
            raise ValueError("use defer_enrollment(), a deferral needs a target cycle")
        return replace(self, state=transition(self.state, action))


def defer_target_ok(
    current_cycle_index: int, target_cycle_index: int, open_indexes: Collection[int]
) -> None:
    """Allow moving to ``target_cycle_index`` only if it starts later and is open for enrollment.

    Deferring backwards or sideways is not a deferral, and a cycle that has started (or is not
    yet open) cannot take new students.
    """
    if target_cycle_index <= current_cycle_index:
        raise DeferralNotAllowed("You can defer only to a later cycle", field="cycle_index")
    if target_cycle_index not in open_indexes:
        raise DeferralNotAllowed(
            "That cycle is not open for enrollment; choose one of the next starts",
            field="cycle_index",
        )


def defer_enrollment(
    enrollment: Enrollment, target_cycle_index: int, open_indexes: Collection[int]
) -> Enrollment:
    """Move an active enrollment to a later open cycle, using up its one free deferral."""
    transition(enrollment.state, DEFER, deferrals_used=enrollment.deferrals_used)
    defer_target_ok(enrollment.cycle_index, target_cycle_index, open_indexes)
    return replace(
        enrollment,
        cycle_index=target_cycle_index,
        deferrals_used=enrollment.deferrals_used + 1,
    )


# --------------------------------------------------------------------------- seat holds

HOLD_MINUTES = 30


def hold_expires_at(now: datetime, minutes: int = HOLD_MINUTES) -> datetime:
    """When a seat held for a pending payment goes back to the pool."""
    _require_aware(now, "now")
    return now + timedelta(minutes=minutes)


def is_hold_expired(hold_expires_at: datetime, now: datetime) -> bool:
    """A hold is expired from its expiry instant on (``now >= hold_expires_at``)."""
    _require_aware(hold_expires_at, "hold_expires_at")
    _require_aware(now, "now")
    return now >= hold_expires_at


def check_hold(hold_expires_at: datetime, now: datetime) -> None:
    """Raise :class:`HoldExpired` when a payment arrives for a seat no longer held."""
    if is_hold_expired(hold_expires_at, now):
        raise HoldExpired("The seat was released before payment completed", field="enrollment")


# --------------------------------------------------------------------------- refunds


def refund_deadline(cycle_start: date, refund_window_days: int, tz: tzinfo = UTC) -> datetime:
    """The first instant at which a refund is no longer allowed (midnight in ``tz``)."""
    return datetime.combine(cycle_start + timedelta(days=refund_window_days), time(0), tzinfo=tz)


def refund_allowed(
    paid_at: datetime | None,
    cycle_start: date,
    refund_window_days: int,
    now: datetime,
    *,
    tz: tzinfo = UTC,
) -> bool:
    """Return True when a refund may be requested now; otherwise raise.

    The rule: a paid enrollment is refundable at any time before its cycle starts and during the
    first ``refund_window_days`` days of the cycle, i.e. while
    ``now < midnight (in tz) at the start of cycle_start + refund_window_days``.
    With a window of 0 refunds close when the cycle starts; with 7 and a start on 1 March,
    the last refundable day is 7 March. ``cycle_start`` is the enrollment's current cycle, so a
    deferral moves the window with it. ``tz`` is the school's time zone for "midnight".

    Raises :class:`NothingToRefund` when nothing was paid (``paid_at`` is None, e.g. a 100%
    promotion) and :class:`OutsideRefundWindow` once the window has closed.
    """
    _require_aware(now, "now")
    if paid_at is None:
        raise NothingToRefund("This enrollment was free; there is nothing to refund")
    _require_aware(paid_at, "paid_at")
    deadline = refund_deadline(cycle_start, refund_window_days, tz)
    if now >= deadline:
        last_day = deadline.date() - timedelta(days=1)
        raise OutsideRefundWindow(
            f"Refunds for this cycle were possible until the end of {last_day.isoformat()} "
            f"({refund_window_days} days after the cycle started on {cycle_start.isoformat()})"
        )
    return True


# --------------------------------------------------------------------------- waitlist

WAITLIST_OFFER_HOURS = 24


@dataclass(frozen=True)
class WaitlistEntry:
    """A student waiting for a seat in a full cycle; lower ``position`` was there first."""

    student_id: str
    cycle_index: int
    position: int
    joined_at: datetime | None = None


def next_on_waitlist(entries: Iterable[WaitlistEntry]) -> WaitlistEntry | None:
    """Who is offered the next free seat: the lowest position (None when nobody waits).

    Positions should be unique; if two ever tie, the earlier ``joined_at`` wins, then the
    student id, so the answer never depends on the order rows came back in.
    """
    far_future = datetime.max.replace(tzinfo=UTC)
    return min(
        entries,
        key=lambda e: (e.position, e.joined_at or far_future, e.student_id),
        default=None,
    )


def waitlist_offer_expires_at(now: datetime, hours: int = WAITLIST_OFFER_HOURS) -> datetime:
    """When an offered seat passes to the next student if not taken."""
    _require_aware(now, "now")
    return now + timedelta(hours=hours)


# --------------------------------------------------------------------------- cycles by date


def cycle_index_of(course: Course, starts_on: date) -> int:
    """The index of the cycle starting on ``starts_on``; a date that is no start is refused.

    People and URLs name a cycle by its start date; the rules above count cycles by index.
    """
    days = (starts_on - course.anchor_date).days
    if days < 0 or days % course.cadence_days:
        raise InvalidCycle(
            f"No cycle of this course starts on {starts_on.isoformat()}", field="cycle_start"
        )
    return days // course.cadence_days


def open_cycle(course: Course, starts_on: date | None, today: date, count: int = 4) -> Cycle:
    """The open cycle a student asked for (default: the next start), or :class:`InvalidCycle`.

    Only the next ``count`` starts take new students: a cycle that has begun is closed, and one
    further out is not open yet.
    """
    cycles = upcoming_cycles(course, today, count)
    if starts_on is None:
        return cycles[0]
    for candidate in cycles:
        if candidate.starts_on == starts_on:
            return candidate
    cycle_index_of(course, starts_on)  # a date that is no start at all says so
    raise InvalidCycle(
        "That cycle is not open for enrollment; choose one of the next starts",
        field="cycle_start",
    )
