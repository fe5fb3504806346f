"""The "identify your mistakes" reflection a student writes before the consultation that
follows a failed attempt: the schedule, the resources, exam anxiety, timing, anything else.
The tutor reads it with the intake (``ConsultationSchema.reflection``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from services.tutoring import domain
from services.tutoring.models import Consultation, Reflection, Tutor
from services.tutoring.queries import consultation_view
from services.tutoring.use_cases.reset import REFLECTION_QUESTIONS
from shared.auth import Principal
from shared.db import UnitOfWork, utcnow
from shared.errors import DomainError, Forbidden


class InvalidReflection(DomainError):
    title = "The reflection is not valid"


def write_reflection(
    uow: UnitOfWork, principal: Principal, consultation_id: str, answers: Mapping[str, str]
) -> dict[str, Any]:
    """The student writes (or rewrites) what went wrong last time, before the consultation,
    so the tutor reads it with the intake."""
    cleaned = {q: (answers.get(q) or "").strip() for q in REFLECTION_QUESTIONS}
    if not any(cleaned.values()):
        raise InvalidReflection("Answer at least one question", field=REFLECTION_QUESTIONS[0])
    with uow:
        db = uow.session
        # The consultation row is locked first: two saves of one reflection run one after the
        # other, so the second finds the first's row instead of colliding on its key.
        row = db.scalar(
            select(Consultation).where(Consultation.id == consultation_id).with_for_update()
        )
        if row is None:
            raise domain.ConsultationNotFound(f"There is no consultation {consultation_id!r}")
        if principal.user_id != row.student_id:
            raise Forbidden("Only the consultation's student may write its reflection.")
        if row.status != domain.ConsultationState.BOOKED:
            raise domain.InvalidTransition(
                f"The consultation is {row.status}; a reflection is written before it",
                field="state",
            )
        now = utcnow()
        reflection = db.get(Reflection, row.id)
        if reflection is None:
            reflection = Reflection(
                consultation_id=row.id, student_id=row.student_id, answers={}, created_at=now
            )
            db.add(reflection)
        reflection.answers = cleaned
        reflection.updated_at = now
        db.flush()
        view = consultation_view(row, db.get(Tutor, row.tutor_id))
        uow.commit()
        return view
