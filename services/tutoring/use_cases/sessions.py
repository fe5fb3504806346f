"""Paid 1:1 tutoring sessions: booked with an hour of credit, cancelled, moved, completed.

The tutor's row is locked first (one tutor's bookings are decided one at a time) and an hour
is drawn by a conditional ``UPDATE`` in the same transaction, so neither the slot nor the
last hour can be taken twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.tutoring import domain, loading
from services.tutoring.events import SessionBooked, SessionCancelled, SessionCompleted
from services.tutoring.models import Consultation, Credits, Tutor, TutorBooking, TutoringSession
from services.tutoring.queries import session_view
from services.tutoring.use_cases import availability
from shared.auth import Principal
from shared.db import UnitOfWork, utcnow
from shared.errors import Forbidden


def book_session(
    uow: UnitOfWork, principal: Principal, tutor_id: str, starts_at: datetime, time_zone: str
) -> dict[str, Any]:
    """Book a paid session with one hour of credit, after a completed consultation."""
    domain.zone(time_zone, field="time_zone")
    now = utcnow()
    with uow:
        db = uow.session
        tutor = loading.tutor(db, tutor_id, lock=True)
        _ensure_consulted(db, principal, tutor)
        _draw_hour(db, principal, tutor, now)
        wanted = availability.offered_slot(db, tutor, "session", starts_at, now)
        row = TutoringSession(
            id=loading.new_id(),
            student_id=principal.user_id,
            student_email=principal.email or "",
            student_name=principal.name or "",
            student_time_zone=time_zone,
            tutor_id=tutor.id,
            starts_at=wanted.starts_at,
            ends_at=wanted.ends_at,
            status=domain.SessionState.BOOKED.value,
            ics_sequence=0,
            reschedules=0,
            created_at=now,
            updated_at=now,
        )
        db.add(row)
        availability.hold(db, "session", row)
        availability.flush_booking(db)
        uow.record(
            availability.meeting_event(
                SessionBooked, row, tutor, session_id=row.id, rescheduled=False
            )
        )
        view = session_view(row, tutor)
        uow.commit()
        return view


def cancel_session(
    uow: UnitOfWork, principal: Principal, session_id: str, reason: str
) -> dict[str, Any]:
    """The student (before the cut-off, or forfeiting the hour) or the tutor calls it off."""
    now = utcnow()
    with uow:
        db = uow.session
        row, tutor = loading.tutoring_session(db, principal, session_id, lock=True)
        by = "student" if principal.user_id == row.student_id else "tutor"
        domain.ensure_session_booked(row.status)
        outcome = domain.cancellation_outcome(row.starts_at, now, by)
        if outcome.credit_returned:
            _return_hour(db, row)
        row.status = domain.SessionState.CANCELLED.value
        row.cancelled_by, row.cancel_reason = by, reason
        row.credit_returned = outcome.credit_returned
        row.ics_sequence += 1
        row.updated_at = now
        availability.release(db, row.id)
        uow.record(
            availability.meeting_event(
                SessionCancelled,
                row,
                tutor,
                session_id=row.id,
                cancelled_by=by,
                credit_returned=outcome.credit_returned,
                reason=reason,
            )
        )
        view = session_view(row, tutor)
        uow.commit()
        return view


def reschedule_session(
    uow: UnitOfWork, principal: Principal, session_id: str, starts_at: datetime
) -> dict[str, Any]:
    """The student moves the session to another offered slot: same booking row, same UID."""
    now = utcnow()
    with uow:
        db = uow.session
        row, _ = loading.tutoring_session(db, principal, session_id, lock=True)
        if principal.user_id != row.student_id:
            raise Forbidden("Only the session's student may reschedule it.")
        domain.ensure_session_booked(row.status)
        domain.check_reschedule(row.reschedules, row.starts_at, now)
        tutor = loading.tutor(db, row.tutor_id, lock=True)
        wanted = availability.offered_slot(db, tutor, "session", starts_at, now, ignore_ref=row.id)
        db.execute(
            update(TutorBooking)
            .where(TutorBooking.ref_id == row.id)
            .values(starts_at=wanted.starts_at, ends_at=wanted.ends_at)
        )
        row.starts_at, row.ends_at = wanted.starts_at, wanted.ends_at
        row.reschedules += 1
        row.ics_sequence += 1
        row.updated_at = now
        availability.flush_booking(db)
        uow.record(
            availability.meeting_event(
                SessionBooked, row, tutor, session_id=row.id, rescheduled=True
            )
        )
        view = session_view(row, tutor)
        uow.commit()
        return view


def complete_session(
    uow: UnitOfWork, principal: Principal, session_id: str, lesson_note: str
) -> dict[str, Any]:
    """The tutor held the session and writes the lesson note the student is emailed."""
    now = utcnow()
    with uow:
        row, tutor = loading.tutoring_session(uow.session, principal, session_id, lock=True)
        if principal.user_id != row.tutor_id:
            raise Forbidden("Only the session's tutor may complete it.")
        domain.ensure_session_booked(row.status)
        domain.ensure_session_started(row.starts_at, now, tutor.time_zone)
        row.status = domain.SessionState.COMPLETED.value
        row.lesson_note = lesson_note
        row.completed_at = row.updated_at = now
        uow.record(
            SessionCompleted(
                session_id=row.id,
                student_id=row.student_id,
                student_email=row.student_email,
                student_name=row.student_name,
                tutor_id=tutor.id,
                tutor_name=tutor.name,
                starts_at=row.starts_at,
                lesson_note=lesson_note,
            )
        )
        view = session_view(row, tutor)
        uow.commit()
        return view


def _ensure_consulted(db: Session, principal: Principal, tutor: Tutor) -> None:
    """Sessions follow a completed consultation with the same tutor."""
    consulted = db.scalar(
        select(Consultation.id).where(
            Consultation.student_id == principal.user_id,
            Consultation.tutor_id == tutor.id,
            Consultation.status == domain.ConsultationState.COMPLETED,
        )
    )
    if consulted is None:
        raise domain.ConsultationFirst(
            "Sessions follow a completed consultation with the same tutor", field="tutor_id"
        )


def _draw_hour(db: Session, principal: Principal, tutor: Tutor, now: datetime) -> None:
    """Take one hour of the student's credit with the tutor, in one conditional UPDATE."""
    drawn = db.execute(
        update(Credits)
        .where(
            Credits.student_id == principal.user_id,
            Credits.tutor_id == tutor.id,
            Credits.purchased - Credits.used - Credits.refunded > 0,
        )
        .values(used=Credits.used + 1, updated_at=now)
    )
    if drawn.rowcount == 0:
        raise domain.NoCredit("Buy a package of hours with this tutor first", field="tutor_id")


def _return_hour(db: Session, row: TutoringSession) -> None:
    ledger = loading.ledger(db, row.student_id, row.tutor_id)
    ledger.used -= 1
    ledger.updated_at = utcnow()
