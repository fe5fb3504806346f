"""The student's subscribable calendar: a secret address, and the feed served at it."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.tutoring import domain, loading
from services.tutoring.models import (
    CalendarToken,
    Consultation,
    StudyPlanRow,
    Tutor,
    TutoringSession,
)
from shared import calendar
from shared.auth import Principal
from shared.db import UnitOfWork, utcnow
from shared.errors import NotFound


def calendar_token(uow: UnitOfWork, principal: Principal) -> str:
    """The student's feed secret, made on first ask and then kept (subscriptions last)."""
    with uow:
        row = uow.session.get(CalendarToken, principal.user_id)
        if row is None:
            row = CalendarToken(
                student_id=principal.user_id,
                token=secrets.token_urlsafe(32),
                created_at=utcnow(),
            )
            uow.session.add(row)
        token = row.token
        uow.commit()
        return token


def feed(uow: UnitOfWork, token: str) -> bytes:
    """The student's subscribable calendar: consultations, sessions, the latest plan's days.

    Booked and completed meetings stay in the feed (a calendar keeps what happened);
    cancelled and missed ones drop out, which is how a subscribed calendar learns of it.
    """
    with uow:
        db = uow.session
        owner = db.scalar(select(CalendarToken).where(CalendarToken.token == token))
        if owner is None:
            raise NotFound("No calendar at that address")
        consultations = db.scalars(
            select(Consultation)
            .where(Consultation.student_id == owner.student_id)
            .order_by(Consultation.starts_at)
        ).all()
        tz = consultations[-1].student_time_zone if consultations else "UTC"
        meetings = _consultations(db, consultations) + _sessions(db, owner.student_id)
        items = _plan_days(db, owner.student_id)
    return calendar.feed("Preceptor study plan", meetings, items, tz)


def _consultations(db: Session, rows: list[Consultation]) -> list[calendar.Meeting]:
    held = (domain.ConsultationState.BOOKED, domain.ConsultationState.COMPLETED)
    return [
        _meeting(
            "consultation",
            row,
            db.get(Tutor, row.tutor_id),
            "Consultation with {}",
            "Your free initial consultation",
        )
        for row in rows
        if row.status in held
    ]


def _sessions(db: Session, student_id: str) -> list[calendar.Meeting]:
    rows = db.scalars(
        select(TutoringSession)
        .where(
            TutoringSession.student_id == student_id,
            TutoringSession.status.in_((domain.SessionState.BOOKED, domain.SessionState.COMPLETED)),
        )
        .order_by(TutoringSession.starts_at)
    ).all()
    return [
        _meeting(
            "session",
            row,
            db.get(Tutor, row.tutor_id),
            "Tutoring session with {}",
            "Your 1:1 tutoring session",
        )
        for row in rows
    ]


def _meeting(
    kind: str, row: Consultation | TutoringSession, tutor: Tutor, summary: str, description: str
) -> calendar.Meeting:
    """One meeting in the feed, the tutor organising and the student attending."""
    return calendar.Meeting(
        uid=calendar.stable_uid(kind, row.id),
        sequence=row.ics_sequence,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        summary=summary.format(tutor.name),
        description=description,
        organizer_email=tutor.email,
        organizer_name=tutor.name,
        attendee_email=row.student_email,
        attendee_name=row.student_name,
    )


def _plan_days(db: Session, student_id: str) -> list[calendar.AllDayItem]:
    """The latest plan's days, one all-day item each."""
    plan_row = db.scalar(
        select(StudyPlanRow)
        .where(StudyPlanRow.student_id == student_id)
        .order_by(StudyPlanRow.created_at.desc())
        .limit(1)
    )
    if plan_row is None:
        return []
    body = loading.latest_version(db, plan_row).body
    return [
        calendar.AllDayItem(
            uid=calendar.stable_uid("plan-day", f"{plan_row.id}-{day['day']}"),
            day=date.fromisoformat(day["day"]),
            summary=_day_summary(day, plan_row.exam),
        )
        for day in body["days"]
    ]


def _day_summary(day: Mapping[str, Any], exam: str) -> str:
    kind = day["kind"]
    if kind == "exam":
        return f"Exam: {exam}"
    if kind == "free":
        return "Free day"
    if kind == "rest":
        return "Rest day"
    blocks = ", ".join(f"{b['area']} {b['hours']:g} h" for b in day["blocks"])
    label = {"checkpoint": "Self-assessment", "review": "Review"}.get(kind, "Study")
    return f"{label}: {blocks}" if kind != "checkpoint" else label
