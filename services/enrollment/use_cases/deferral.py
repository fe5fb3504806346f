"""Deferral: an active enrollment moves to a later open cycle, once, free."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.enrollment import domain, loading
from services.enrollment.events import EnrollmentDeferred
from services.enrollment.lifecycle import facts
from services.enrollment.loading import fields_named, rules_of
from services.enrollment.queries import OPEN_CYCLES, enrollment_view
from services.enrollment.seats import hold_seat, release_seat
from shared.auth import Principal
from shared.db import UnitOfWork, utcnow


def defer(
    uow: UnitOfWork, principal: Principal, enrollment_id: str, cycle_start: date
) -> dict[str, Any]:
    """Move an active enrollment to a later open cycle, once: the seat moves in one transaction."""
    now = utcnow()
    with uow:
        db = uow.session
        row = loading.owned(db, principal, enrollment_id, lock=True)
        course = loading.course(db, row.course_slug, published_only=False)
        rules = rules_of(course)
        open_indexes = [c.index for c in domain.upcoming_cycles(rules, now.date(), OPEN_CYCLES)]
        with fields_named(cycle_index="cycle_start"):
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
        hold_seat(db, course, cycle_start)
        old_start = row.cycle_start
        row.cycle_start = cycle_start
        row.deferrals_used = moved.deferrals_used
        row.deferred_from = old_start
        row.access_ends_on = domain.cycle(rules, target).access_ends_on
        row.access_notice_sent_at = None
        row.updated_at = now
        release_seat(uow, course, old_start, now)
        uow.record(
            EnrollmentDeferred(
                **facts(row, course), from_cycle_start=old_start, access_ends_on=row.access_ends_on
            )
        )
        uow.commit()
        return enrollment_view(row, course)
