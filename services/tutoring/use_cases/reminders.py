"""The worker's reminder a day before each booked session (``session.reminder_due``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select

from services.tutoring import domain
from services.tutoring.events import SendSessionReminder
from services.tutoring.models import Tutor, TutoringSession
from services.tutoring.use_cases.availability import meeting_event
from shared.db import UnitOfWork, utcnow

REMINDER_LEAD_HOURS = 24


def send_reminders(uow: UnitOfWork, now: datetime | None = None) -> int:
    """Publish ``session.reminder_due`` for booked sessions starting within the next 24 hours.

    Each reminder is marked on its session (``reminder_sent_for = starts_at``) in the same
    transaction as its event, so a restarted or second worker never sends it again, and a
    moved session gets one for its new time. Rows another worker holds are skipped.
    """
    now = now or utcnow()
    with uow:
        db = uow.session
        rows = db.scalars(
            select(TutoringSession)
            .where(
                TutoringSession.status == domain.SessionState.BOOKED,
                TutoringSession.starts_at > now,
                TutoringSession.starts_at <= now + timedelta(hours=REMINDER_LEAD_HOURS),
                or_(
                    TutoringSession.reminder_sent_for.is_(None),
                    TutoringSession.reminder_sent_for != TutoringSession.starts_at,
                ),
            )
            .order_by(TutoringSession.starts_at)
            .limit(500)
            .with_for_update(skip_locked=True)
        ).all()
        sent = 0
        for row in rows:
            if not domain.reminder_due(row.starts_at, row.reminder_sent_for, now):
                continue
            tutor = db.get(Tutor, row.tutor_id)
            uow.record(meeting_event(SendSessionReminder, row, tutor, session_id=row.id))
            row.reminder_sent_for = row.starts_at
            sent += 1
        uow.commit()
        return sent
