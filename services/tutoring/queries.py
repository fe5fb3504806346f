"""Tutoring's read side: how each row is shown, and the listings that change nothing.

The ``*_view`` functions are the API's shapes (the schemas in ``schemas`` describe them);
use cases end by returning one of them for the row they changed. The listings here only read,
so they open the unit of work without committing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from services.tutoring import domain, loading
from services.tutoring.models import (
    Consultation,
    Credits,
    Package,
    StudyPlanRow,
    StudyPlanVersion,
    TimeOff,
    Tutor,
    TutoringSession,
)
from services.tutoring.use_cases import reset
from shared.auth import Principal
from shared.db import UnitOfWork

# --- views ---------------------------------------------------------------------------------------


def public_tutor_view(row: Tutor) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "bio": row.bio,
        "exams": list(row.exams or []),
        "time_zone": row.time_zone,
        "session_rate_minor": row.session_rate_minor,
        "currency": row.currency,
        "photo_url": row.photo_url,
        "horizon_days": row.horizon_days,
        "package_options": domain.package_options(row.session_rate_minor),
    }


def tutor_view(row: Tutor) -> dict[str, Any]:
    """The whole profile, for the tutor themself and admins."""
    return {
        **public_tutor_view(row),
        "email": row.email,
        "consultation_minutes": row.consultation_minutes,
        "session_minutes": row.session_minutes,
        "buffer_minutes": row.buffer_minutes,
        "min_notice_hours": row.min_notice_hours,
        "created_at": row.created_at,
    }


def availability_view(db: Session, row: Tutor) -> dict[str, Any]:
    time_off = db.scalars(
        select(TimeOff).where(TimeOff.tutor_id == row.id).order_by(TimeOff.starts_at)
    )
    return {
        "time_zone": row.time_zone,
        "weekly": (row.availability or {}).get("weekly", []),
        "overrides": (row.availability or {}).get("overrides", []),
        "time_off": [
            {"id": t.id, "starts_at": t.starts_at, "ends_at": t.ends_at} for t in time_off
        ],
    }


def consultation_view(row: Consultation, tutor: Tutor) -> dict[str, Any]:
    assessment = None
    if row.assessed_at is not None:
        assessment = {
            "strengths": row.strengths,
            "weaknesses": row.weaknesses,
            "goals": row.goals,
            "recorded_at": row.assessed_at,
        }
    return {
        "id": row.id,
        "status": row.status,
        "student_id": row.student_id,
        "student_name": row.student_name,
        "student_email": row.student_email,
        "time_zone": row.student_time_zone,
        "tutor_id": tutor.id,
        "tutor_name": tutor.name,
        "tutor_time_zone": tutor.time_zone,
        "starts_at": row.starts_at,
        "ends_at": row.ends_at,
        "intake": row.intake,
        "cancelled_by": row.cancelled_by,
        "cancel_reason": row.cancel_reason,
        "assessment": assessment,
        **reset.consultation_extras(row),
        "plan_id": _plan_id_of(row),
        "created_at": row.created_at,
    }


def _plan_id_of(row: Consultation) -> str | None:
    db = object_session(row)
    if db is None:
        return None
    return db.scalar(select(StudyPlanRow.id).where(StudyPlanRow.consultation_id == row.id))


def plan_view(row: StudyPlanRow, version: StudyPlanVersion) -> dict[str, Any]:
    return {
        "id": row.id,
        "plan_id": row.id,
        "consultation_id": row.consultation_id,
        "student_id": row.student_id,
        "tutor_id": row.tutor_id,
        "exam": row.exam,
        "version": version.version,
        "published_at": version.created_at,
        **{k: v for k, v in version.body.items() if k != "format"},
        **reset.plan_extras(row, version),
    }


def package_view(row: Package, tutor: Tutor) -> dict[str, Any]:
    return {
        "id": row.id,
        "status": row.status,
        "student_id": row.student_id,
        "tutor_id": tutor.id,
        "tutor_name": tutor.name,
        "hours": row.hours,
        "amount_minor": row.amount_minor,
        "currency": row.currency,
        "refunded_minor": row.refunded_minor,
        "refunded_hours": row.refunded_hours,
        "created_at": row.created_at,
        "checkout": None,
    }


def session_view(row: TutoringSession, tutor: Tutor) -> dict[str, Any]:
    return {
        "id": row.id,
        "status": row.status,
        "student_id": row.student_id,
        "student_name": row.student_name,
        "student_email": row.student_email,
        "time_zone": row.student_time_zone,
        "tutor_id": tutor.id,
        "tutor_name": tutor.name,
        "tutor_time_zone": tutor.time_zone,
        "starts_at": row.starts_at,
        "ends_at": row.ends_at,
        "reschedules": row.reschedules,
        "reschedules_left": max(0, domain.DEFAULT_RESCHEDULE_LIMIT - row.reschedules),
        "can_cancel_until": domain.free_cancellation_until(row.starts_at),
        "cancelled_by": row.cancelled_by,
        "cancel_reason": row.cancel_reason,
        "credit_returned": row.credit_returned,
        "lesson_note": row.lesson_note,
        "completed_at": row.completed_at,
        "created_at": row.created_at,
    }


# --- tutors --------------------------------------------------------------------------------------


def public_tutors(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Tutors who have written a bio (a profile without one is not ready to be shown)."""
    with uow:
        rows = uow.session.scalars(select(Tutor).where(Tutor.bio != "").order_by(Tutor.name))
        return [public_tutor_view(r) for r in rows]


def public_tutor(uow: UnitOfWork, tutor_id: str) -> dict[str, Any]:
    with uow:
        return public_tutor_view(loading.tutor(uow.session, tutor_id))


def all_tutors(uow: UnitOfWork) -> list[dict[str, Any]]:
    with uow:
        return [tutor_view(r) for r in uow.session.scalars(select(Tutor).order_by(Tutor.name))]


# --- consultations -------------------------------------------------------------------------------


def my_consultations(uow: UnitOfWork, principal: Principal) -> list[dict[str, Any]]:
    with uow:
        db = uow.session
        rows = db.scalars(
            select(Consultation)
            .where(
                (Consultation.student_id == principal.user_id)
                | (Consultation.tutor_id == principal.user_id)
            )
            .order_by(Consultation.starts_at.desc())
        ).all()
        tutors = {
            t.id: t
            for t in db.scalars(select(Tutor).where(Tutor.id.in_({r.tutor_id for r in rows})))
        }
        return [consultation_view(r, tutors[r.tutor_id]) for r in rows]


def get_consultation(uow: UnitOfWork, principal: Principal, consultation_id: str) -> dict:
    with uow:
        return consultation_view(*loading.consultation(uow.session, principal, consultation_id))


# --- study plans ---------------------------------------------------------------------------------


def get_plan(uow: UnitOfWork, principal: Principal, plan_id: str) -> dict[str, Any]:
    with uow:
        hand = loading.load_plan(uow.session, principal, plan_id)
        return plan_view(hand.row, hand.version)


def my_plans(uow: UnitOfWork, principal: Principal) -> list[dict[str, Any]]:
    with uow:
        db = uow.session
        rows = db.scalars(
            select(StudyPlanRow)
            .where(StudyPlanRow.student_id == principal.user_id)
            .order_by(StudyPlanRow.created_at.desc())
        ).all()
        return [plan_view(r, loading.latest_version(db, r)) for r in rows]


# --- packages and credits ------------------------------------------------------------------------


def my_packages(uow: UnitOfWork, principal: Principal) -> list[dict[str, Any]]:
    with uow:
        rows = uow.session.execute(
            select(Package, Tutor)
            .join(Tutor, Tutor.id == Package.tutor_id)
            .where(Package.student_id == principal.user_id)
            .order_by(Package.created_at.desc())
        ).all()
        return [package_view(p, t) for p, t in rows]


def my_credits(uow: UnitOfWork, principal: Principal) -> list[dict[str, Any]]:
    with uow:
        rows = uow.session.execute(
            select(Credits, Tutor)
            .join(Tutor, Tutor.id == Credits.tutor_id)
            .where(Credits.student_id == principal.user_id)
            .order_by(Tutor.name)
        ).all()
        return [
            {"tutor_id": t.id, "tutor_name": t.name, "hours_available": loading.hours_available(c)}
            for c, t in rows
        ]


# --- sessions ------------------------------------------------------------------------------------


def my_sessions(uow: UnitOfWork, principal: Principal) -> list[dict[str, Any]]:
    with uow:
        rows = uow.session.execute(
            select(TutoringSession, Tutor)
            .join(Tutor, Tutor.id == TutoringSession.tutor_id)
            .where(
                (TutoringSession.student_id == principal.user_id)
                | (TutoringSession.tutor_id == principal.user_id)
            )
            .order_by(TutoringSession.starts_at.desc())
        ).all()
        return [session_view(s, t) for s, t in rows]


def get_session(uow: UnitOfWork, principal: Principal, session_id: str) -> dict[str, Any]:
    with uow:
        return session_view(*loading.tutoring_session(uow.session, principal, session_id))
