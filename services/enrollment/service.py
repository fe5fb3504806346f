"""Enrollment's use cases: one function per thing a student, an admin, an event or a job does.

Each opens the unit of work, loads rows, asks ``domain`` for the rules, changes the rows and
records the events it causes, then commits once. Seats are counted by the database: a hold is
a conditional ``UPDATE ... WHERE taken < capacity`` on the cycle's row (with a CHECK behind
it), and every enrollment that changes state is locked (``SELECT ... FOR UPDATE``) first, so a
seat is released exactly once even when a payment, a sweep and a student act at the same time.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import fields as dataclass_fields
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.enrollment import domain
from services.enrollment.models import (
    Course,
    CycleSeats,
    Enrollment,
    PromoCode,
    PromoRedemption,
    WaitlistEntry,
)
from shared import clock
from shared.auth import Principal, ensure_owner
from shared.db import UnitOfWork, insert_with_conflicts, utcnow
from shared.errors import DomainError, Forbidden, PaymentsUnavailable
from shared.listing import build_each
from shared.payments_client import PaymentsClient

log = logging.getLogger(__name__)

OPEN_CYCLES = 4
"""How many upcoming starts take enrollments (and the catalogue shows)."""
NOTICE_DAYS = 7
PURCHASE_PREFIX = "enrollment:"
LIVE = (domain.PENDING_PAYMENT, domain.ACTIVE)
LATE_PAYMENT_REFUNDS = uuid.UUID("5b0d3c8e-6f0e-4d51-9a0e-2f8f6f1c7a11")
"""The namespace of the refund request ids of payments that came too late (uuid5 of the
payment id): the same payment always asks for the same refund."""

UowFactory = Callable[[], UnitOfWork]


@contextmanager
def _fields_named(**renames: str) -> Iterator[None]:
    """Report a domain error under the field name the HTTP contract uses."""
    try:
        yield
    except DomainError as err:
        if err.field in renames:
            err.field = renames[err.field]
        raise


def purchase_ref(enrollment_id: str) -> str:
    return f"{PURCHASE_PREFIX}{enrollment_id}"


def enrollment_id_of(ref: str) -> str | None:
    return ref.removeprefix(PURCHASE_PREFIX) if ref.startswith(PURCHASE_PREFIX) else None


# --- views ---------------------------------------------------------------------------------------


def rules_of(course: Course) -> domain.Course:
    names = [f.name for f in dataclass_fields(domain.Course)]
    return domain.Course(**{n: getattr(course, n) for n in names})


def _seats(session: Session, slug: str, starts: list[date]) -> dict[date, tuple[int, int]]:
    rows = session.execute(
        select(CycleSeats.starts_on, CycleSeats.capacity, CycleSeats.taken).where(
            CycleSeats.course_slug == slug, CycleSeats.starts_on.in_(starts)
        )
    ).all()
    return {r.starts_on: (r.capacity, r.taken) for r in rows}


def _cycles_view(session: Session, course: Course, today: date) -> list[dict[str, Any]]:
    cycles = domain.upcoming_cycles(rules_of(course), today, OPEN_CYCLES)
    counts = _seats(session, course.slug, [c.starts_on for c in cycles])
    views = []
    for c in cycles:
        capacity, taken = counts.get(c.starts_on, (course.seats_per_cycle, 0))
        left = max(0, capacity - taken)
        views.append(
            {
                "start": c.starts_on,
                "end": c.ends_on,
                "seats_total": capacity,
                "seats_left": left,
                "status": "open" if left else "full",
            }
        )
    return views


def course_view(session: Session, course: Course, now: datetime) -> dict[str, Any]:
    cycles = _cycles_view(session, course, now.date())
    return {
        "slug": course.slug,
        "title": course.title,
        "description": course.description,
        "price_minor": course.price_minor,
        "currency": course.currency,
        "cycle_length_days": course.cycle_length_days,
        "cadence_days": course.cadence_days,
        "anchor_date": course.anchor_date,
        "seats_per_cycle": course.seats_per_cycle,
        "access_days": course.access_days,
        "refund_window_days": course.refund_window_days,
        "published": course.published,
        "next_cycles": cycles,
        "cycles": cycles,
    }


def _refundable(row: Enrollment, course: Course, now: datetime) -> bool:
    try:
        return domain.refund_allowed(row.paid_at, row.cycle_start, course.refund_window_days, now)
    except DomainError:
        return False


def enrollment_view(
    row: Enrollment, course: Course, checkout: dict[str, Any] | None = None
) -> dict[str, Any]:
    rules = rules_of(course)
    cycle = domain.cycle(rules, domain.cycle_index_of(rules, row.cycle_start))
    refund_requested = row.refund_request_id is not None
    allowed = domain.allowed_actions(
        row.status,
        deferrals_used=row.deferrals_used,
        refund_requested=refund_requested,
        refundable=row.status == domain.ACTIVE and _refundable(row, course, utcnow()),
    )
    list_price = row.amount_minor if row.list_price_minor is None else row.list_price_minor
    return {
        "id": row.id,
        "status": row.status,
        "student_id": row.student_id,
        "email": row.email,
        "name": row.name,
        "course_slug": course.slug,
        "course_title": course.title,
        "cycle_start": row.cycle_start,
        "cycle_end": cycle.ends_on,
        "access_ends_on": row.access_ends_on,
        "amount_minor": row.amount_minor,
        "list_price_minor": list_price,
        "discount_minor": list_price - row.amount_minor,
        "currency": row.currency,
        "promo_code": row.promo_code,
        "hold_expires_at": row.hold_expires_at if row.status == domain.PENDING_PAYMENT else None,
        "paid_at": row.paid_at,
        "deferrals_used": row.deferrals_used,
        "deferred_from": row.deferred_from,
        "refund_requested": refund_requested,
        "refund_requested_at": row.refund_requested_at,
        "refunded_minor": row.refunded_minor,
        "refunded_at": row.refunded_at,
        "allowed_actions": allowed,
        "last_payment_error": row.last_payment_error,
        "from_waitlist": row.from_waitlist,
        "created_at": row.created_at,
        "checkout": checkout,
    }


def _facts(row: Enrollment, course: Course) -> dict[str, Any]:
    """The fields every enrollment event carries (``EnrollmentFacts`` in the catalogue)."""
    return {
        "enrollment_id": row.id,
        "student_id": row.student_id,
        "email": row.email,
        "name": row.name,
        "course_slug": course.slug,
        "course_title": course.title,
        "cycle_start": row.cycle_start,
    }


# --- loading -------------------------------------------------------------------------------------


def _course(session: Session, slug: str, *, published_only: bool = True) -> Course:
    course = session.get(Course, slug)
    if course is None or (published_only and not course.published):
        raise domain.CourseNotFound(f"There is no course {slug!r}", field="course_slug")
    return course


def _locked_enrollment(session: Session, enrollment_id: str) -> Enrollment | None:
    try:
        uuid.UUID(enrollment_id)
    except ValueError:
        return None
    return session.scalar(
        select(Enrollment).where(Enrollment.id == enrollment_id).with_for_update()
    )


def _owned(session: Session, principal: Principal, enrollment_id: str, *, lock: bool) -> Enrollment:
    if lock:
        row = _locked_enrollment(session, enrollment_id)
    else:
        try:
            uuid.UUID(enrollment_id)
        except ValueError:
            row = None
        else:
            row = session.get(Enrollment, enrollment_id)
    if row is None:
        raise domain.EnrollmentNotFound("There is no such enrollment")
    ensure_owner(principal, row.student_id)
    return row


# --- seats ---------------------------------------------------------------------------------------


def _ensure_seat_row(session: Session, course: Course, starts_on: date) -> None:
    """The cycle's seat row, created on first use; racing creators settle on one row."""
    session.execute(
        insert_with_conflicts(session, CycleSeats.__table__)
        .values(
            course_slug=course.slug,
            starts_on=starts_on,
            capacity=course.seats_per_cycle,
            taken=0,
        )
        .on_conflict_do_nothing(index_elements=["course_slug", "starts_on"])
    )


def _hold_seat(session: Session, course: Course, starts_on: date) -> None:
    """Take one seat, or :class:`CycleFull`: one conditional UPDATE, so never oversold."""
    _ensure_seat_row(session, course, starts_on)
    result = session.execute(
        update(CycleSeats)
        .where(
            CycleSeats.course_slug == course.slug,
            CycleSeats.starts_on == starts_on,
            CycleSeats.taken < CycleSeats.capacity,
        )
        .values(taken=CycleSeats.taken + 1)
    )
    if result.rowcount != 1:
        raise domain.CycleFull(
            f"Every seat of the cycle starting {clock.short_day(starts_on)} is taken; "
            "you can join its waitlist",
            field="cycle_start",
        )


def _release_seat(uow: UnitOfWork, course: Course, starts_on: date, now: datetime) -> None:
    """Give a seat back and, while the cycle is still open, offer it to its waitlist."""
    uow.session.execute(
        update(CycleSeats)
        .where(
            CycleSeats.course_slug == course.slug,
            CycleSeats.starts_on == starts_on,
            CycleSeats.taken > 0,
        )
        .values(taken=CycleSeats.taken - 1)
    )
    open_starts = {c.starts_on for c in domain.upcoming_cycles(rules_of(course), now.date())}
    if starts_on in open_starts:
        _offer_to_waitlist(uow, course, starts_on, now)


def _has_live_enrollment(session: Session, student_id: str, slug: str) -> bool:
    return (
        session.scalar(
            select(Enrollment.id).where(
                Enrollment.student_id == student_id,
                Enrollment.course_slug == slug,
                Enrollment.status.in_(LIVE),
            )
        )
        is not None
    )


def _offer_to_waitlist(uow: UnitOfWork, course: Course, starts_on: date, now: datetime) -> None:
    """Hold the freed seat for the first student waiting: a pending enrollment in their name."""
    session = uow.session
    entries = session.scalars(
        select(WaitlistEntry)
        .where(
            WaitlistEntry.course_slug == course.slug,
            WaitlistEntry.cycle_start == starts_on,
            WaitlistEntry.status == "waiting",
        )
        .with_for_update()
    ).all()
    by_student = {e.student_id: e for e in entries}
    waiting = [domain.WaitlistEntry(e.student_id, 0, e.position, e.joined_at) for e in entries]
    while waiting:
        first = domain.next_on_waitlist(waiting)
        waiting.remove(first)
        entry = by_student[first.student_id]
        if _has_live_enrollment(session, entry.student_id, course.slug):
            entry.status = "skipped"  # enrolled elsewhere in the course meanwhile
            continue
        try:
            _hold_seat(session, course, starts_on)
        except domain.CycleFull:
            return
        expires = domain.waitlist_offer_expires_at(now)
        row = _new_enrollment(
            course,
            starts_on,
            student_id=entry.student_id,
            email=entry.email,
            name=entry.name,
            amount_minor=course.price_minor,
            promo_code=None,
            hold_expires_at=expires,
            now=now,
        )
        row.from_waitlist = True
        session.add(row)
        session.flush()
        entry.status = "offered"
        entry.offered_enrollment_id = row.id
        entry.offered_at = now
        uow.record(
            "enrollment.waitlist_offered",
            {
                **_facts(row, course),
                "offer_expires_at": expires,
                "amount_minor": row.amount_minor,
                "currency": row.currency,
            },
        )
        return


# --- catalogue -----------------------------------------------------------------------------------


def list_courses(uow: UnitOfWork, *, published_only: bool = True) -> list[dict[str, Any]]:
    """Every (published) course; one whose view cannot be built is logged and left out."""
    now = utcnow()
    with uow:
        query = select(Course).order_by(Course.title)
        if published_only:
            query = query.where(Course.published.is_(True))
        return build_each(
            uow.session.scalars(query).all(),
            lambda c: course_view(uow.session, c, now),
            what="courses",
            name=lambda c: c.slug,
        )


def get_course(uow: UnitOfWork, slug: str) -> dict[str, Any]:
    with uow:
        return course_view(uow.session, _course(uow.session, slug), utcnow())


# --- enrolling -----------------------------------------------------------------------------------


def _new_enrollment(
    course: Course,
    starts_on: date,
    *,
    student_id: str,
    email: str,
    name: str,
    amount_minor: int,
    promo_code: str | None,
    hold_expires_at: datetime,
    now: datetime,
) -> Enrollment:
    rules = rules_of(course)
    cycle = domain.cycle(rules, domain.cycle_index_of(rules, starts_on))
    return Enrollment(
        id=str(uuid.uuid4()),
        student_id=student_id,
        email=email,
        name=name,
        course_slug=course.slug,
        cycle_start=starts_on,
        status=domain.PENDING_PAYMENT,
        amount_minor=amount_minor,
        list_price_minor=course.price_minor,
        currency=course.currency,
        promo_code=promo_code,
        hold_expires_at=hold_expires_at,
        access_ends_on=cycle.access_ends_on,
        deferrals_used=0,
        refunded_minor=0,
        from_waitlist=False,
        created_at=now,
        updated_at=now,
    )


def _promo_price(
    session: Session, course: Course, code: str, student_id: str, now: datetime
) -> tuple[int, PromoCode]:
    """The price after a code, with one redemption of it taken.

    The redemption is taken first, by one conditional UPDATE of the code's counter (``WHERE
    redemptions < max_redemptions``): the database settles a race for the last use, on
    SQLite (which ignores ``FOR UPDATE``) as on PostgreSQL. That UPDATE also makes racing
    redemptions of the code take turns until commit, so the per-student count read after it
    is current. A rule that then refuses the code rolls the redemption back with the rest.
    """
    normalized = domain.normalize_promo_code(code)
    taken = (
        session.execute(
            update(PromoCode)
            .where(
                PromoCode.code == normalized,
                or_(
                    PromoCode.max_redemptions.is_(None),
                    PromoCode.redemptions < PromoCode.max_redemptions,
                ),
            )
            .values(redemptions=PromoCode.redemptions + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )
    row = session.scalar(
        select(PromoCode)
        .where(PromoCode.code == normalized)
        .execution_options(populate_existing=True)
    )
    if row is None:
        raise domain.UnknownPromoCode(f"There is no promotion code {code!r}", field="promo_code")
    before = row.redemptions - 1 if taken else row.redemptions
    used = select(func.count()).select_from(PromoRedemption).where(PromoRedemption.code == row.code)
    mine = session.scalar(used.where(PromoRedemption.student_id == student_id))
    with _fields_named(code="promo_code"):
        price = domain.price_with_promo(
            course.price_minor,
            course.currency,
            _promo_rules(row),
            course.slug,
            now,
            before,
            mine,
        )
        if not taken:  # the counter is the truth, even if the rules would have let it through
            raise domain.PromoExhausted(f"The code {row.code} has been used up", field="code")
    return price, row


def _promo_rules(row: PromoCode) -> domain.PromoCode:
    return domain.PromoCode(
        code=row.code,
        kind=row.kind,
        value=row.value,
        course_slug=row.course_slug,
        max_redemptions=row.max_redemptions,
        per_student_limit=row.per_student_limit,
        expires_at=row.expires_at,
        currency=row.currency,
    )


def _activate(
    uow: UnitOfWork, row: Enrollment, course: Course, now: datetime, payment_id: str | None
) -> None:
    row.status = domain.transition(row.status, domain.PAY)
    row.paid_at = now if row.amount_minor > 0 else None
    row.payment_id = payment_id
    row.updated_at = now
    rules = rules_of(course)
    cycle = domain.cycle(rules, domain.cycle_index_of(rules, row.cycle_start))
    uow.record(
        "enrollment.activated",
        {
            **_facts(row, course),
            "cycle_end": cycle.ends_on,
            "access_ends_on": row.access_ends_on,
            "amount_minor": row.amount_minor,
            "currency": row.currency,
            "payment_id": payment_id,
        },
    )


def _is_live_conflict(err: IntegrityError) -> bool:
    return "uq_enrollments_one_live_per_course" in str(err.orig)


def _already_enrolled() -> domain.AlreadyEnrolled:
    return domain.AlreadyEnrolled(
        "You already have a pending or active enrollment in this course", field="course_slug"
    )


def enroll(
    uow: UnitOfWork,
    payments: PaymentsClient,
    principal: Principal,
    course_slug: str,
    cycle_start: date | None = None,
    promo_code: str | None = None,
) -> dict[str, Any]:
    """Hold a seat and price the enrollment, commit it, THEN ask payments for the checkout.

    The seat is held before payments is called so no student pays for a seat that is gone;
    if payments cannot be reached the hold is released at once (503).
    """
    now = utcnow()
    if not principal.email or not principal.name:
        raise Forbidden("Only a person's own account can enroll.")
    with uow:
        session = uow.session
        course = _course(session, course_slug)
        with _fields_named(cycle_index="cycle_start"):
            cycle = domain.open_cycle(rules_of(course), cycle_start, now.date(), OPEN_CYCLES)
        if _has_live_enrollment(session, principal.user_id, course.slug):
            raise _already_enrolled()
        price, promo = course.price_minor, None
        if promo_code:
            price, promo = _promo_price(session, course, promo_code, principal.user_id, now)
        _hold_seat(session, course, cycle.starts_on)
        row = _new_enrollment(
            course,
            cycle.starts_on,
            student_id=principal.user_id,
            email=principal.email,
            name=principal.name,
            amount_minor=price,
            promo_code=promo.code if promo else None,
            hold_expires_at=domain.hold_expires_at(now),
            now=now,
        )
        session.add(row)
        if promo is not None:
            session.add(
                PromoRedemption(
                    code=promo.code,
                    enrollment_id=row.id,
                    student_id=principal.user_id,
                    discount_minor=course.price_minor - price,
                    redeemed_at=now,
                )
            )
        try:
            session.flush()
        except IntegrityError as err:
            if _is_live_conflict(err):
                raise _already_enrolled() from err
            raise
        uow.record(
            "enrollment.pending",
            {
                **_facts(row, course),
                "amount_minor": row.amount_minor,
                "currency": row.currency,
                "hold_expires_at": row.hold_expires_at,
            },
        )
        if price == 0:
            _activate(uow, row, course, now, payment_id=None)  # free: no checkout at all
        try:
            uow.commit()
        except IntegrityError as err:
            if _is_live_conflict(err):
                raise _already_enrolled() from err
            raise
        view = enrollment_view(row, course)
    if view["status"] != domain.PENDING_PAYMENT:
        return view
    try:
        view["checkout"] = _checkout(payments, view)
    except PaymentsUnavailable:
        _cancel_hold(uow, view["id"], "payments unavailable")
        raise
    return view


def _checkout(payments: PaymentsClient, view: dict[str, Any]) -> dict[str, Any]:
    intent = payments.create_intent(
        purchase_kind="enrollment",
        purchase_ref=purchase_ref(view["id"]),
        user_id=view["student_id"],
        email=view["email"],
        name=view["name"],
        amount_minor=view["amount_minor"],
        currency=view["currency"],
        # Read by people (the admin ledger, Stripe's dashboard): the day as every page writes it.
        description=f"{view['course_title']}, cycle starting {clock.short_day(view['cycle_start'])}",
    )
    return {k: intent[k] for k in ("client_secret", "publishable_key", "js_url", "payment_id")}


def _cancel_hold(uow: UnitOfWork, enrollment_id: str, reason: str) -> None:
    now = utcnow()
    with uow:
        row = _locked_enrollment(uow.session, enrollment_id)
        if row is None or row.status != domain.PENDING_PAYMENT:
            return
        course = _course(uow.session, row.course_slug, published_only=False)
        row.status = domain.transition(row.status, domain.CANCEL)
        row.updated_at = now
        _forget_redemption(uow.session, row)
        _release_seat(uow, course, row.cycle_start, now)
        uow.record("enrollment.cancelled", {**_facts(row, course), "reason": reason})
        uow.commit()


def _forget_redemption(session: Session, row: Enrollment) -> None:
    """An enrollment that never started gives its promotion code back (and its count)."""
    forgotten = session.execute(
        delete(PromoRedemption).where(PromoRedemption.enrollment_id == row.id)
    ).rowcount
    if forgotten and row.promo_code:
        session.execute(
            update(PromoCode)
            .where(PromoCode.code == row.promo_code, PromoCode.redemptions >= forgotten)
            .values(redemptions=PromoCode.redemptions - forgotten)
            .execution_options(synchronize_session=False)
        )


def get_enrollment(
    uow: UnitOfWork, payments: PaymentsClient, principal: Principal, enrollment_id: str
) -> dict[str, Any]:
    with uow:
        row = _owned(uow.session, principal, enrollment_id, lock=False)
        view = enrollment_view(row, _course(uow.session, row.course_slug, published_only=False))
    if view["status"] == domain.PENDING_PAYMENT:
        # Without payments the page says "try again"; the enrollment itself stays readable.
        with suppress(PaymentsUnavailable):
            view["checkout"] = _checkout(payments, view)
    return view


def my_enrollments(uow: UnitOfWork, principal: Principal) -> list[dict[str, Any]]:
    with uow:
        rows = uow.session.execute(
            select(Enrollment, Course)
            .join(Course, Course.slug == Enrollment.course_slug)
            .where(Enrollment.student_id == principal.user_id)
            .order_by(Enrollment.created_at.desc())
        ).all()
        return [enrollment_view(e, c) for e, c in rows]


# --- after enrolling -----------------------------------------------------------------------------


def defer(
    uow: UnitOfWork, principal: Principal, enrollment_id: str, cycle_start: date
) -> dict[str, Any]:
    """Move an active enrollment to a later open cycle, once: the seat moves in one transaction."""
    now = utcnow()
    with uow:
        session = uow.session
        row = _owned(session, principal, enrollment_id, lock=True)
        course = _course(session, row.course_slug, published_only=False)
        rules = rules_of(course)
        open_indexes = [c.index for c in domain.upcoming_cycles(rules, now.date(), OPEN_CYCLES)]
        with _fields_named(cycle_index="cycle_start"):
            target = domain.cycle_index_of(rules, cycle_start)
            moved = domain.defer_enrollment(
                domain.Enrollment(
                    row.status, domain.cycle_index_of(rules, row.cycle_start), row.deferrals_used
                ),
                target,
                open_indexes,
            )
        if row.refund_request_id is not None:
            raise domain.DeferralNotAllowed(
                "A refund of this enrollment is under way", field="cycle_start"
            )
        _hold_seat(session, course, cycle_start)
        old_start = row.cycle_start
        row.cycle_start = cycle_start
        row.deferrals_used = moved.deferrals_used
        row.deferred_from = old_start
        row.access_ends_on = domain.cycle(rules, target).access_ends_on
        row.access_notice_sent_at = None
        row.updated_at = now
        _release_seat(uow, course, old_start, now)
        uow.record(
            "enrollment.deferred",
            {
                **_facts(row, course),
                "from_cycle_start": old_start,
                "access_ends_on": row.access_ends_on,
            },
        )
        uow.commit()
        return enrollment_view(row, course)


def request_refund(
    uow: UnitOfWork, principal: Principal, enrollment_id: str, reason: str | None = None
) -> dict[str, Any]:
    """Ask payments for the money back (inside the window); the enrollment ends when it arrives."""
    now = utcnow()
    with uow:
        session = uow.session
        row = _owned(session, principal, enrollment_id, lock=True)
        course = _course(session, row.course_slug, published_only=False)
        domain.transition(row.status, domain.REFUND)  # only an active enrollment is refundable
        if row.refund_request_id is not None:
            raise domain.RefundAlreadyRequested("A refund is already on its way")
        domain.refund_allowed(row.paid_at, row.cycle_start, course.refund_window_days, now)
        # One request per enrollment, settled by the database: a state-transition UPDATE that
        # only an active enrollment without a request matches (SQLite ignores FOR UPDATE, so
        # the checks above may have read a row another request is changing).
        claimed = session.execute(
            update(Enrollment)
            .where(
                Enrollment.id == row.id,
                Enrollment.status == domain.ACTIVE,
                Enrollment.refund_request_id.is_(None),
            )
            .values(
                refund_request_id=str(uuid.uuid4()),
                refund_requested_at=now,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            raise domain.RefundAlreadyRequested("A refund is already on its way")
        session.refresh(row)
        uow.record(
            "refund.requested",
            {
                "refund_request_id": row.refund_request_id,
                "purchase_ref": purchase_ref(row.id),
                "user_id": row.student_id,
                "amount_minor": row.amount_minor,
                "reason": reason or "requested by the student inside the refund window",
            },
        )
        uow.commit()
        return enrollment_view(row, course)


def join_waitlist(
    uow: UnitOfWork, principal: Principal, course_slug: str, cycle_start: date
) -> dict[str, Any]:
    now = utcnow()
    if not principal.email or not principal.name:
        raise Forbidden("Only a person's own account can join a waitlist.")
    with uow:
        session = uow.session
        course = _course(session, course_slug)
        with _fields_named(cycle_index="cycle_start"):
            cycle = domain.open_cycle(rules_of(course), cycle_start, now.date(), OPEN_CYCLES)
        _ensure_seat_row(session, course, cycle.starts_on)
        seats = session.scalar(
            select(CycleSeats)
            .where(CycleSeats.course_slug == course.slug, CycleSeats.starts_on == cycle.starts_on)
            .with_for_update()  # one joiner at a time per cycle: positions never collide
        )
        if seats.taken < seats.capacity:
            raise domain.CycleNotFull(
                "This cycle still has seats: enroll instead", field="cycle_start"
            )
        if _has_live_enrollment(session, principal.user_id, course.slug):
            raise _already_enrolled()
        in_cycle = (WaitlistEntry.course_slug == course.slug) & (
            WaitlistEntry.cycle_start == cycle.starts_on
        )
        if session.scalar(
            select(WaitlistEntry.id).where(in_cycle, WaitlistEntry.student_id == principal.user_id)
        ):
            raise domain.AlreadyOnWaitlist("You are on this waitlist already", field="cycle_start")
        last = session.scalar(select(func.max(WaitlistEntry.position)).where(in_cycle)) or 0
        session.add(
            WaitlistEntry(
                course_slug=course.slug,
                cycle_start=cycle.starts_on,
                student_id=principal.user_id,
                email=principal.email,
                name=principal.name,
                position=last + 1,
                status="waiting",
                joined_at=now,
            )
        )
        ahead = session.scalar(
            select(func.count())
            .select_from(WaitlistEntry)
            .where(in_cycle, WaitlistEntry.status == "waiting")
        )
        uow.commit()
        return {"course_slug": course.slug, "cycle_start": cycle.starts_on, "position": ahead}


# --- payments' events ----------------------------------------------------------------------------


def _paid_enrollment(uow: UnitOfWork, data: dict[str, Any]) -> Enrollment | None:
    if data["purchase_kind"] != "enrollment":
        return None
    enrollment_id = enrollment_id_of(data["purchase_ref"])
    row = _locked_enrollment(uow.session, enrollment_id) if enrollment_id else None
    if row is None:
        log.warning("payment for an unknown enrollment", extra={"ref": data["purchase_ref"]})
    return row


def payment_succeeded(uow: UnitOfWork, data: dict[str, Any]) -> None:
    """Activate the enrollment; money for a seat already given up goes back (refund.requested)."""
    now = utcnow()
    with uow:
        row = _paid_enrollment(uow, data)
        if row is None:
            return
        course = _course(uow.session, row.course_slug, published_only=False)
        if row.status == domain.PENDING_PAYMENT:
            # Still pending means the seat is still ours, even if the hold's time has passed.
            _activate(uow, row, course, now, data["payment_id"])
        elif row.payment_id == data["payment_id"]:
            return  # this payment was applied already
        else:
            # Expired or cancelled (the seat went back, maybe to someone else), or a second
            # payment for an enrollment already paid: the money goes back.
            uow.record(
                "refund.requested",
                {
                    # One request per payment, however often its success is announced: payments
                    # refunds a request id once (a unique key), so a second event is a no-op.
                    "refund_request_id": str(uuid.uuid5(LATE_PAYMENT_REFUNDS, data["payment_id"])),
                    "purchase_ref": data["purchase_ref"],
                    "user_id": data["user_id"],
                    "amount_minor": data["amount_minor"] or None,
                    "reason": f"payment arrived for an enrollment that is {row.status}",
                },
            )
            if row.status != domain.ACTIVE:
                row.last_payment_error = "The payment arrived after the seat was released."
                row.updated_at = now
        uow.commit()


def payment_failed(uow: UnitOfWork, data: dict[str, Any]) -> None:
    """The enrollment stays pending (the student may retry until the hold ends); keep the reason."""
    with uow:
        row = _paid_enrollment(uow, data)
        if row is None or row.status != domain.PENDING_PAYMENT:
            return
        row.last_payment_error = data["reason"][:1000]
        row.updated_at = utcnow()
        uow.commit()


def payment_refunded(uow: UnitOfWork, data: dict[str, Any]) -> None:
    """Money went back: an active enrollment ends and its seat is released (and offered)."""
    now = utcnow()
    with uow:
        row = _paid_enrollment(uow, data)
        if row is None:
            return
        course = _course(uow.session, row.course_slug, published_only=False)
        row.refunded_minor += data["amount_minor"]
        row.updated_at = now
        if row.status == domain.ACTIVE:
            row.status = domain.transition(row.status, domain.REFUND)
            row.refunded_at = now
            _release_seat(uow, course, row.cycle_start, now)
            uow.record(
                "enrollment.refunded",
                {
                    **_facts(row, course),
                    "amount_minor": data["amount_minor"],
                    "currency": row.currency,
                },
            )
        uow.commit()


# --- scheduled jobs ------------------------------------------------------------------------------


def _ids(uow: UnitOfWork, query: Any) -> list[str]:
    with uow:
        return list(uow.session.scalars(query.limit(500)))


def expire_holds(
    uow_factory: UowFactory, payments: PaymentsClient | None = None, now: datetime | None = None
) -> int:
    """Expire every lapsed hold, each in its own transaction; returns how many expired.

    If payments says the money is already in (or on its way), the hold is kept: the
    ``payment.succeeded`` event is coming and will activate it. If payments cannot be asked,
    the hold expires as the rules say, and a late payment is refunded.
    """
    now = now or utcnow()
    due = _ids(
        uow_factory(),
        select(Enrollment.id).where(
            Enrollment.status == domain.PENDING_PAYMENT, Enrollment.hold_expires_at <= now
        ),
    )
    expired = 0
    for enrollment_id in due:
        if payments is not None and _payment_in_flight(payments, enrollment_id):
            continue
        uow = uow_factory()
        with uow:
            row = _locked_enrollment(uow.session, enrollment_id)
            if row is None or row.status != domain.PENDING_PAYMENT:
                continue
            if not domain.is_hold_expired(row.hold_expires_at, now):
                continue
            course = _course(uow.session, row.course_slug, published_only=False)
            row.status = domain.transition(row.status, domain.EXPIRE_HOLD)
            row.updated_at = now
            _forget_redemption(uow.session, row)
            uow.record("enrollment.expired", _facts(row, course))
            _release_seat(uow, course, row.cycle_start, now)
            uow.commit()
            expired += 1
    return expired


def _payment_in_flight(payments: PaymentsClient, enrollment_id: str) -> bool:
    try:
        payment = payments.payment(purchase_ref(enrollment_id))
    except PaymentsUnavailable:
        return False
    return payment is not None and payment.get("status") in ("succeeded", "processing")


def send_access_notices(uow_factory: UowFactory, now: datetime | None = None) -> int:
    """Tell each active student, once, that their access ends within ``NOTICE_DAYS`` days."""
    now = now or utcnow()
    today = now.date()
    due = _ids(
        uow_factory(),
        select(Enrollment.id).where(
            Enrollment.status == domain.ACTIVE,
            Enrollment.access_notice_sent_at.is_(None),
            Enrollment.access_ends_on <= today + timedelta(days=NOTICE_DAYS),
            Enrollment.access_ends_on > today,
        ),
    )
    sent = 0
    for enrollment_id in due:
        uow = uow_factory()
        with uow:
            row = _locked_enrollment(uow.session, enrollment_id)
            if (
                row is None
                or row.status != domain.ACTIVE
                or row.access_notice_sent_at is not None
                or not domain.access_expiring_soon(row.access_ends_on, today, NOTICE_DAYS)
            ):
                continue
            course = _course(uow.session, row.course_slug, published_only=False)
            row.access_notice_sent_at = now
            uow.record(
                "enrollment.access_expiring",
                {**_facts(row, course), "access_ends_on": row.access_ends_on},
            )
            uow.commit()
            sent += 1
    return sent


def complete_finished(uow_factory: UowFactory, now: datetime | None = None) -> int:
    """Complete every active enrollment whose access has ended."""
    now = now or utcnow()
    today = now.date()
    due = _ids(
        uow_factory(),
        select(Enrollment.id).where(
            Enrollment.status == domain.ACTIVE, Enrollment.access_ends_on <= today
        ),
    )
    completed = 0
    for enrollment_id in due:
        uow = uow_factory()
        with uow:
            row = _locked_enrollment(uow.session, enrollment_id)
            if row is None or row.status != domain.ACTIVE or row.access_ends_on > today:
                continue
            course = _course(uow.session, row.course_slug, published_only=False)
            row.status = domain.transition(row.status, domain.COMPLETE)
            row.updated_at = now
            uow.record(
                "enrollment.completed",
                {**_facts(row, course), "access_ends_on": row.access_ends_on},
            )
            uow.commit()
            completed += 1
    return completed


# --- administration ------------------------------------------------------------------------------

COURSE_RULE_FIELDS = [f.name for f in dataclass_fields(domain.Course)]


def admin_courses(uow: UnitOfWork) -> list[dict[str, Any]]:
    return list_courses(uow, published_only=False)


def create_course(uow: UnitOfWork, body: dict[str, Any]) -> dict[str, Any]:
    now = utcnow()
    rules = domain.new_course(**{k: body[k] for k in COURSE_RULE_FIELDS if k in body})
    with uow:
        if uow.session.get(Course, rules.slug) is not None:
            raise domain.CourseExists(f"A course {rules.slug!r} exists already", field="slug")
        course = Course(
            **{k: getattr(rules, k) for k in COURSE_RULE_FIELDS},
            description=(body.get("description") or "").strip(),
            created_at=now,
            updated_at=now,
        )
        uow.session.add(course)
        try:
            # The answer (its cycles are the domain's date arithmetic) is built before the
            # commit: a course the response cannot describe is never kept.
            view = course_view(uow.session, course, now)
            uow.commit()
        except IntegrityError as err:
            raise domain.CourseExists(
                f"A course {rules.slug!r} exists already", field="slug"
            ) from err
        return view


def update_course(uow: UnitOfWork, slug: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Change a course; new seat counts apply to cycles not yet started (never below taken)."""
    now = utcnow()
    with uow:
        session = uow.session
        course = session.scalar(select(Course).where(Course.slug == slug).with_for_update())
        if course is None:
            raise domain.CourseNotFound(f"There is no course {slug!r}", field="slug")
        current = {k: getattr(course, k) for k in COURSE_RULE_FIELDS}
        rules = domain.new_course(
            **{**current, **{k: v for k, v in changes.items() if k in current}}
        )
        for k in COURSE_RULE_FIELDS:
            setattr(course, k, getattr(rules, k))
        if "description" in changes:
            course.description = (changes["description"] or "").strip()
        course.updated_at = now
        if "seats_per_cycle" in changes:
            seats = rules.seats_per_cycle
            session.execute(
                update(CycleSeats)
                .where(CycleSeats.course_slug == slug, CycleSeats.starts_on >= now.date())
                .values(capacity=case((CycleSeats.taken > seats, CycleSeats.taken), else_=seats))
            )
        view = course_view(session, course, now)  # before the commit, as in create_course
        uow.commit()
        return view


def roster(uow: UnitOfWork, slug: str, cycle_start: date) -> dict[str, Any]:
    with uow:
        session = uow.session
        course = _course(session, slug, published_only=False)
        with _fields_named(cycle_index="cycle_start"):
            domain.cycle_index_of(rules_of(course), cycle_start)
        capacity, taken = _seats(session, slug, [cycle_start]).get(
            cycle_start, (course.seats_per_cycle, 0)
        )
        enrollments = session.scalars(
            select(Enrollment)
            .where(Enrollment.course_slug == slug, Enrollment.cycle_start == cycle_start)
            .order_by(Enrollment.created_at)
        ).all()
        waitlist = session.scalars(
            select(WaitlistEntry)
            .where(WaitlistEntry.course_slug == slug, WaitlistEntry.cycle_start == cycle_start)
            .order_by(WaitlistEntry.position)
        ).all()
        return {
            "course_slug": slug,
            "cycle_start": cycle_start,
            "seats_total": capacity,
            "seats_taken": taken,
            "enrollments": [enrollment_view(e, course) for e in enrollments],
            "waitlist": [
                {
                    "student_id": w.student_id,
                    "email": w.email,
                    "name": w.name,
                    "position": w.position,
                    "status": w.status,
                    "joined_at": w.joined_at,
                }
                for w in waitlist
            ],
        }


def _promo_view(row: PromoCode, redemptions: int) -> dict[str, Any]:
    return {
        "code": row.code,
        "kind": row.kind,
        "value": row.value,
        "currency": row.currency,
        "course_slug": row.course_slug,
        "max_redemptions": row.max_redemptions,
        "per_student_limit": row.per_student_limit,
        "expires_at": row.expires_at,
        "redemptions": redemptions,
        "created_at": row.created_at,
    }


def list_promo_codes(uow: UnitOfWork) -> list[dict[str, Any]]:
    with uow:
        rows = uow.session.scalars(select(PromoCode).order_by(PromoCode.created_at)).all()
        return [_promo_view(r, r.redemptions) for r in rows]


def create_promo_code(uow: UnitOfWork, body: dict[str, Any]) -> dict[str, Any]:
    now = utcnow()
    code = domain.normalize_promo_code(body["code"])
    currency = body.get("currency")
    rules = domain.PromoCode(
        code=code,
        kind=body["kind"],
        value=body["value"],
        course_slug=body.get("course_slug"),
        max_redemptions=body.get("max_redemptions"),
        per_student_limit=body.get("per_student_limit", 1),
        expires_at=body.get("expires_at"),
        currency=currency.strip().upper() if currency else None,
    )
    with uow:
        if rules.course_slug is not None:
            _course(uow.session, rules.course_slug, published_only=False)
        if uow.session.get(PromoCode, code) is not None:
            raise domain.PromoCodeExists(f"The code {code} exists already", field="code")
        row = PromoCode(
            code=rules.code,
            kind=rules.kind,
            value=rules.value,
            currency=rules.currency,
            course_slug=rules.course_slug,
            max_redemptions=rules.max_redemptions,
            per_student_limit=rules.per_student_limit,
            expires_at=rules.expires_at,
            redemptions=0,
            created_at=now,
        )
        uow.session.add(row)
        try:
            uow.commit()
        except IntegrityError as err:
            raise domain.PromoCodeExists(f"The code {code} exists already", field="code") from err
        return _promo_view(row, 0)
