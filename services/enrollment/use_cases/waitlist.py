"""Joining a full cycle's waitlist (a freed seat is offered by ``seats.offer_to_waitlist``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select

from services.enrollment import domain, loading
from services.enrollment.loading import (
    already_enrolled,
    fields_named,
    has_live_enrollment,
    rules_of,
)
from services.enrollment.models import CycleSeats, WaitlistEntry
from services.enrollment.queries import OPEN_CYCLES
from services.enrollment.seats import ensure_seat_row
from shared.auth import Principal
from shared.db import UnitOfWork, utcnow
from shared.errors import Forbidden


def join_waitlist(
    uow: UnitOfWork, principal: Principal, course_slug: str, cycle_start: date
) -> dict[str, Any]:
    """Wait for a seat in a full cycle; the answer is the place in line."""
    now = utcnow()
    if not principal.email or not principal.name:
        raise Forbidden("Only a person's own account can join a waitlist.")
    with uow:
        db = uow.session
        course = loading.course(db, course_slug)
        with fields_named(cycle_index="cycle_start"):
            cycle = domain.open_cycle(rules_of(course), cycle_start, now.date(), OPEN_CYCLES)
        ensure_seat_row(db, course, cycle.starts_on)
        seats = db.scalar(
            select(CycleSeats)
            .where(CycleSeats.course_slug == course.slug, CycleSeats.starts_on == cycle.starts_on)
            .with_for_update()  # one joiner at a time per cycle: positions never collide
        )
        if seats.taken < seats.capacity:
            raise domain.CycleNotFull(
                "This cycle still has seats: enroll instead", field="cycle_start"
            )
        if has_live_enrollment(db, principal.user_id, course.slug):
            raise already_enrolled()
        in_cycle = (WaitlistEntry.course_slug == course.slug) & (
            WaitlistEntry.cycle_start == cycle.starts_on
        )
        if db.scalar(
            select(WaitlistEntry.id).where(in_cycle, WaitlistEntry.student_id == principal.user_id)
        ):
            raise domain.AlreadyOnWaitlist("You are on this waitlist already", field="cycle_start")
        last = db.scalar(select(func.max(WaitlistEntry.position)).where(in_cycle)) or 0
        db.add(
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
        ahead = db.scalar(
            select(func.count())
            .select_from(WaitlistEntry)
            .where(in_cycle, WaitlistEntry.status == "waiting")
        )
        uow.commit()
        return {"course_slug": course.slug, "cycle_start": cycle.starts_on, "position": ahead}
