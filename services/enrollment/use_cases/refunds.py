"""Refunds a student asks for: inside the window, one request per enrollment."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import update

from services.enrollment import domain, loading
from services.enrollment.events import RequestRefund
from services.enrollment.lifecycle import PURCHASE
from services.enrollment.models import Enrollment
from services.enrollment.queries import enrollment_view
from shared.auth import Principal
from shared.db import UnitOfWork, utcnow


def request_refund(
    uow: UnitOfWork, principal: Principal, enrollment_id: str, reason: str | None = None
) -> dict[str, Any]:
    """Ask payments for the money back (inside the window); the enrollment ends when it arrives."""
    now = utcnow()
    with uow:
        db = uow.session
        row = loading.owned(db, principal, enrollment_id, lock=True)
        course = loading.course(db, row.course_slug, published_only=False)
        domain.transition(row.status, domain.REFUND)  # only an active enrollment is refundable
        if row.refund_request_id is not None:
            raise domain.RefundAlreadyRequested("A refund is already on its way")
        domain.refund_allowed(row.paid_at, row.cycle_start, course.refund_window_days, now)
        # One request per enrollment, settled by the database: a state-transition UPDATE that
        # only an active enrollment without a request matches (SQLite ignores FOR UPDATE, so
        # the checks above may have read a row another request is changing).
        claimed = db.execute(
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
        db.refresh(row)
        uow.record(
            RequestRefund(
                refund_request_id=row.refund_request_id,
                purchase_ref=PURCHASE.ref(row.id),
                user_id=row.student_id,
                amount_minor=row.amount_minor,
                reason=reason or "requested by the student inside the refund window",
            )
        )
        uow.commit()
        return enrollment_view(row, course)
