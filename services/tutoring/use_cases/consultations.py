"""The free first consultation: booked with an intake form, cancelled, held or missed, and
the tutor's assessment of it.

The tutor's row is locked before a booking is decided, so one tutor's bookings are decided
one at a time; the unique ``tutor_bookings`` row is the last line of defence.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.tutoring import domain, loading
from services.tutoring.events import (
    AssessmentRecorded,
    ConsultationBooked,
    ConsultationCancelled,
    ConsultationCompleted,
)
from services.tutoring.models import Consultation
from services.tutoring.queries import consultation_view
from services.tutoring.use_cases import availability
from shared.auth import Principal
from shared.db import UnitOfWork, utcnow
from shared.errors import Forbidden


def book_consultation(
    uow: UnitOfWork,
    principal: Principal,
    tutor_id: str,
    starts_at: datetime,
    time_zone: str,
    intake: Mapping[str, Any],
) -> dict[str, Any]:
    """Book the free first consultation in one of the tutor's slots, with the intake form.

    A start someone else holds is :class:`SlotTaken` (409), a start the tutor does not offer
    at all is :class:`SlotNotOffered` (422); a student has one open consultation at a time.
    """
    student_zone = domain.zone(time_zone, field="time_zone")
    now = utcnow()
    form = domain.validate_intake(
        intake["exam"],
        intake["exam_date"],
        intake["attempts"],
        intake["weekly_hours"],
        intake["weak_areas"],
        today=now.astimezone(student_zone).date(),
    )
    with uow:
        db = uow.session
        tutor = loading.tutor(db, tutor_id, lock=True)
        states = db.scalars(
            select(Consultation.status).where(Consultation.student_id == principal.user_id)
        )
        domain.ensure_no_open_consultation(states)
        wanted = availability.offered_slot(db, tutor, "consultation", starts_at, now)
        row = Consultation(
            id=loading.new_id(),
            student_id=principal.user_id,
            student_email=principal.email or "",
            student_name=principal.name or "",
            student_time_zone=time_zone,
            tutor_id=tutor.id,
            starts_at=wanted.starts_at,
            ends_at=wanted.ends_at,
            status=domain.ConsultationState.BOOKED.value,
            intake={
                "exam": form.exam,
                "exam_date": form.exam_date.isoformat(),
                "attempts": form.attempts,
                "weekly_hours": form.weekly_hours,
                "weak_areas": list(form.weak_areas),
            },
            ics_sequence=0,
            created_at=now,
            updated_at=now,
        )
        db.add(row)
        availability.hold(db, "consultation", row)
        try:
            availability.flush_booking(db)
        except IntegrityError as err:
            if availability.is_violation(err, "uq_consultations_one_open_per_student"):
                domain.ensure_no_open_consultation(["booked"])
            raise
        uow.record(
            availability.meeting_event(ConsultationBooked, row, tutor, consultation_id=row.id)
        )
        view = consultation_view(row, tutor)
        uow.commit()
        return view


def cancel_consultation(
    uow: UnitOfWork, principal: Principal, consultation_id: str, reason: str
) -> dict[str, Any]:
    """The student or the tutor calls it off; the slot is free again at once."""
    with uow:
        row, tutor = loading.consultation(uow.session, principal, consultation_id, lock=True)
        if principal.user_id == row.student_id:
            by = "student"
        elif principal.user_id == row.tutor_id:
            by = "tutor"
        else:
            raise Forbidden("Only the student or the tutor may cancel a consultation.")
        row.status = domain.consultation_transition(row.status, "cancel").value
        row.cancelled_by, row.cancel_reason = by, reason
        row.ics_sequence += 1
        row.updated_at = utcnow()
        availability.release(uow.session, row.id)
        uow.record(
            availability.meeting_event(
                ConsultationCancelled,
                row,
                tutor,
                consultation_id=row.id,
                cancelled_by=by,
                reason=reason,
            )
        )
        view = consultation_view(row, tutor)
        uow.commit()
        return view


def finish_consultation(
    uow: UnitOfWork, principal: Principal, consultation_id: str, action: str
) -> dict[str, Any]:
    """The tutor marks it held (``complete``) or missed (``mark_no_show``), once it has begun."""
    now = utcnow()
    with uow:
        row, tutor = loading.consultation(uow.session, principal, consultation_id, lock=True)
        loading.as_its_tutor(principal, row)
        after = domain.consultation_transition(row.status, action)
        domain.ensure_meeting_started("consultation", action, row.starts_at, now, tutor.time_zone)
        row.status = after.value
        row.updated_at = now
        if action == "complete":
            uow.record(
                ConsultationCompleted(
                    consultation_id=row.id,
                    student_id=row.student_id,
                    student_email=row.student_email,
                    student_name=row.student_name,
                    tutor_id=tutor.id,
                    tutor_name=tutor.name,
                )
            )
        view = consultation_view(row, tutor)
        uow.commit()
        return view


def record_assessment(
    uow: UnitOfWork, principal: Principal, consultation_id: str, body: Mapping[str, str]
) -> dict[str, Any]:
    """The tutor writes (or revises) what the consultation found."""
    with uow:
        row, tutor = loading.consultation(uow.session, principal, consultation_id, lock=True)
        loading.as_its_tutor(principal, row)
        loading.require_completed(row, "assessment")
        row.strengths, row.weaknesses, row.goals = (
            body["strengths"],
            body["weaknesses"],
            body["goals"],
        )
        row.assessed_at = row.updated_at = utcnow()
        uow.record(
            AssessmentRecorded(consultation_id=row.id, student_id=row.student_id, tutor_id=tutor.id)
        )
        view = consultation_view(row, tutor)
        uow.commit()
        return view
