"""Enrollment's read side: what the catalogue, a student's pages and the admin pages show.

Nothing here changes a row; each function opens the unit of work only to read.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.enrollment import domain, loading
from services.enrollment.lifecycle import PURCHASE, checkout_order
from services.enrollment.loading import fields_named, rules_of
from services.enrollment.models import Course, CycleSeats, Enrollment, PromoCode, WaitlistEntry
from shared.auth import Principal
from shared.db import UnitOfWork, utcnow
from shared.errors import DomainError
from shared.listing import build_each
from shared.payments_client import PaymentsClient
from shared.purchases import checkout_for_read

OPEN_CYCLES = 4
"""How many upcoming starts take enrollments (and the catalogue shows)."""


# --- views ---------------------------------------------------------------------------------------


def seat_counts(db: Session, slug: str, starts: list[date]) -> dict[date, tuple[int, int]]:
    """Capacity and seats taken of each cycle that has a seat row (none has none taken yet)."""
    rows = db.execute(
        select(CycleSeats.starts_on, CycleSeats.capacity, CycleSeats.taken).where(
            CycleSeats.course_slug == slug, CycleSeats.starts_on.in_(starts)
        )
    ).all()
    return {r.starts_on: (r.capacity, r.taken) for r in rows}


def _cycles_view(db: Session, course: Course, today: date) -> list[dict[str, Any]]:
    cycles = domain.upcoming_cycles(rules_of(course), today, OPEN_CYCLES)
    counts = seat_counts(db, course.slug, [c.starts_on for c in cycles])
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


def course_view(db: Session, course: Course, now: datetime) -> dict[str, Any]:
    """A course with its next open cycles and the seats left in each."""
    cycles = _cycles_view(db, course, now.date())
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
    """An enrollment as its student (and an admin) sees it, with what they may do next."""
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


def promo_view(row: PromoCode, redemptions: int) -> dict[str, Any]:
    """A promotion code and how often it was used."""
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


# --- the catalogue -------------------------------------------------------------------------------


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
        return course_view(uow.session, loading.course(uow.session, slug), utcnow())


# --- a student's enrollments ---------------------------------------------------------------------


def get_enrollment(
    uow: UnitOfWork, payments: PaymentsClient, principal: Principal, enrollment_id: str
) -> dict[str, Any]:
    """One enrollment; a pending one carries its checkout again so the student can pay.

    The checkout is the one kept when it was opened: the checkout page and each status poll
    read enrollment's database only (``shared/purchases.py``).
    """
    with uow:
        db = uow.session
        row = loading.owned(db, principal, enrollment_id, lock=False)
        view = enrollment_view(row, loading.course(db, row.course_slug, published_only=False))
        stored = row.stored_checkout()
    if view["status"] == domain.PENDING_PAYMENT:
        view["checkout"] = checkout_for_read(
            uow, loading.locked_enrollment, stored, payments, PURCHASE, checkout_order(view)
        )
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


# --- for admins ----------------------------------------------------------------------------------


def admin_courses(uow: UnitOfWork) -> list[dict[str, Any]]:
    return list_courses(uow, published_only=False)


def roster(uow: UnitOfWork, slug: str, cycle_start: date) -> dict[str, Any]:
    """Who is enrolled in one cycle and who waits for it."""
    with uow:
        db = uow.session
        course = loading.course(db, slug, published_only=False)
        with fields_named(cycle_index="cycle_start"):
            index = domain.cycle_index_of(rules_of(course), cycle_start)
        cycle = domain.cycle(rules_of(course), index)
        capacity, taken = seat_counts(db, slug, [cycle_start]).get(
            cycle_start, (course.seats_per_cycle, 0)
        )
        enrollments = db.scalars(
            select(Enrollment)
            .where(Enrollment.course_slug == slug, Enrollment.cycle_start == cycle_start)
            .order_by(Enrollment.created_at)
        ).all()
        waitlist = db.scalars(
            select(WaitlistEntry)
            .where(WaitlistEntry.course_slug == slug, WaitlistEntry.cycle_start == cycle_start)
            .order_by(WaitlistEntry.position)
        ).all()
        return {
            "course_slug": slug,
            "course_title": course.title,
            "cycle_start": cycle_start,
            "cycle_end": cycle.ends_on,
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


def list_promo_codes(uow: UnitOfWork) -> list[dict[str, Any]]:
    with uow:
        rows = uow.session.scalars(select(PromoCode).order_by(PromoCode.created_at)).all()
        return [promo_view(r, r.redemptions) for r in rows]
