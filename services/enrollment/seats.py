"""The seat rules, each one atomic statement, so a cycle is never oversold nor a seat lost.

Seats are counted by the database: a hold is a conditional ``UPDATE ... WHERE taken <
capacity`` on the cycle's row (with a CHECK behind it), a release a conditional ``UPDATE ...
WHERE taken > 0``; the callers lock the enrollment first (``loading.locked_enrollment``), so a
seat is released exactly once even when a payment, a sweep and a student act at the same time.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.enrollment import domain
from services.enrollment.events import WaitlistOffered
from services.enrollment.lifecycle import facts, new_enrollment
from services.enrollment.loading import has_live_enrollment, rules_of
from services.enrollment.models import Course, CycleSeats, WaitlistEntry
from shared import clock
from shared.db import UnitOfWork, insert_with_conflicts


def ensure_seat_row(db: Session, course: Course, starts_on: date) -> None:
    """The cycle's seat row, created on first use: racing creators settle on one row
    (``ON CONFLICT DO NOTHING`` on the cycle's key)."""
    db.execute(
        insert_with_conflicts(db, CycleSeats.__table__)
        .values(
            course_slug=course.slug,
            starts_on=starts_on,
            capacity=course.seats_per_cycle,
            taken=0,
        )
        .on_conflict_do_nothing(index_elements=["course_slug", "starts_on"])
    )


def hold_seat(db: Session, course: Course, starts_on: date) -> None:
    """Take one seat, or :class:`CycleFull`: one conditional UPDATE, so never oversold."""
    ensure_seat_row(db, course, starts_on)
    result = db.execute(
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


def release_seat(uow: UnitOfWork, course: Course, starts_on: date, now: datetime) -> None:
    """Give a seat back (one conditional UPDATE, never below zero) and, while the cycle is
    still open, offer it to its waitlist."""
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
        offer_to_waitlist(uow, course, starts_on, now)


def offer_to_waitlist(uow: UnitOfWork, course: Course, starts_on: date, now: datetime) -> None:
    """Hold the freed seat for the first student waiting: a pending enrollment in their name.

    The cycle's waiting entries are locked (``FOR UPDATE``) so two releases never offer the
    same entry, and the seat is taken by ``hold_seat``'s conditional UPDATE like any other.
    """
    db = uow.session
    entries = db.scalars(
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
        if has_live_enrollment(db, entry.student_id, course.slug):
            entry.status = "skipped"  # enrolled elsewhere in the course meanwhile
            continue
        try:
            hold_seat(db, course, starts_on)
        except domain.CycleFull:
            return
        expires = domain.waitlist_offer_expires_at(now)
        row = new_enrollment(
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
        db.add(row)
        db.flush()
        entry.status = "offered"
        entry.offered_enrollment_id = row.id
        entry.offered_at = now
        uow.record(
            WaitlistOffered(
                **facts(row, course),
                offer_expires_at=expires,
                amount_minor=row.amount_minor,
                currency=row.currency,
            )
        )
        return
