"""Loading rows for someone, locked when a use case will change them, and who may do what.

Every use case finds its tutor, consultation, session, package or plan here, so each kind of
row is refused to the same people the same way wherever it is asked for. ``lock=True`` takes
the row ``FOR UPDATE``: a change to a tutor's bookings, a meeting, a ledger or a plan is
decided one after another. ``db`` is always the SQLAlchemy session; "session" in tutoring
means a tutoring session.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.tutoring import domain, study_plan
from services.tutoring.events import StudentAndTutor
from services.tutoring.models import (
    Consultation,
    Credits,
    Package,
    StudyPlanRow,
    StudyPlanVersion,
    Tutor,
    TutoringSession,
)
from shared.auth import Principal
from shared.db import utcnow
from shared.errors import Forbidden

DEFAULT_TIME_ZONE = "America/New_York"


def new_id() -> str:
    """A new row's id (a random UUID, so ids say nothing about order or count)."""
    return str(uuid.uuid4())


# --- tutors --------------------------------------------------------------------------------------


def insert_tutor(db: Session, user_id: str, name: str, email: str) -> Tutor:
    """A new tutor profile with the default booking settings (no bio yet, so not shown)."""
    now = utcnow()
    row = Tutor(
        id=user_id,
        name=name,
        email=email,
        bio="",
        exams=[],
        time_zone=DEFAULT_TIME_ZONE,
        currency="USD",
        availability={"weekly": [], "overrides": []},
        consultation_minutes=30,
        session_minutes=60,
        buffer_minutes=15,
        min_notice_hours=24,
        horizon_days=28,
        created_at=now,
        updated_at=now,
    )
    db.add(row)
    return row


def my_tutor(db: Session, principal: Principal, *, lock: bool = False) -> Tutor:
    """The caller's profile; made from the token's claims if ``user.registered`` is not in yet."""
    query = select(Tutor).where(Tutor.id == principal.user_id)
    row = db.scalar(query.with_for_update() if lock else query)
    if row is None:
        row = insert_tutor(db, principal.user_id, principal.name or "", principal.email or "")
        db.flush()
    return row


def tutor(db: Session, tutor_id: str, *, lock: bool = False) -> Tutor:
    query = select(Tutor).where(Tutor.id == tutor_id)
    row = db.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise domain.TutorNotFound(f"There is no tutor {tutor_id!r}", field="tutor_id")
    return row


# --- consultations -------------------------------------------------------------------------------


def consultation(
    db: Session, principal: Principal, consultation_id: str, *, lock: bool = False
) -> tuple[Consultation, Tutor]:
    """A consultation its student, its tutor or an admin may see; anyone else is refused."""
    query = select(Consultation).where(Consultation.id == consultation_id)
    row = db.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise domain.ConsultationNotFound(f"There is no consultation {consultation_id!r}")
    if principal.user_id not in (row.student_id, row.tutor_id) and not principal.has("admin"):
        raise Forbidden("That consultation belongs to someone else.")
    return row, db.get(Tutor, row.tutor_id)


def as_its_tutor(principal: Principal, row: Consultation) -> None:
    if principal.user_id != row.tutor_id:
        raise Forbidden("Only the consultation's tutor may do that.")


def require_completed(row: Consultation, what: str) -> None:
    """An assessment or a plan follows a consultation that was held."""
    if row.status != domain.ConsultationState.COMPLETED:
        raise domain.InvalidTransition(
            f"A {row.status} consultation has no {what}; complete it first", field="state"
        )


# --- sessions ------------------------------------------------------------------------------------


def tutoring_session(
    db: Session, principal: Principal, session_id: str, *, lock: bool = False
) -> tuple[TutoringSession, Tutor]:
    """A session its student or its tutor may see; anyone else is refused."""
    query = select(TutoringSession).where(TutoringSession.id == session_id)
    row = db.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise domain.SessionNotFound(f"There is no session {session_id!r}")
    if principal.user_id not in (row.student_id, row.tutor_id):
        raise Forbidden("That session belongs to someone else.")
    return row, db.get(Tutor, row.tutor_id)


# --- packages and credits ------------------------------------------------------------------------


def owned_package(db: Session, principal: Principal, package_id: str) -> Package:
    row = db.get(Package, package_id)
    if row is None:
        raise domain.PackageNotFound(f"There is no package {package_id!r}")
    if row.student_id != principal.user_id and not principal.has("admin"):
        raise Forbidden("That package belongs to someone else.")
    return row


def locked_package(db: Session, package_id: str) -> Package | None:
    """The package, locked until commit (None for no such id): a payment's outcome or a stored
    checkout is written to it one change at a time (``shared.purchases.Loader``)."""
    return db.scalar(select(Package).where(Package.id == package_id).with_for_update())


def ledger(db: Session, student_id: str, tutor_id: str) -> Credits:
    """The student's hours with the tutor, locked (made empty on first purchase)."""
    query = select(Credits).where(Credits.student_id == student_id, Credits.tutor_id == tutor_id)
    row = db.scalar(query.with_for_update())
    if row is None:
        row = Credits(
            student_id=student_id,
            tutor_id=tutor_id,
            purchased=0,
            used=0,
            refunded=0,
            updated_at=utcnow(),
        )
        db.add(row)
        db.flush()
    return row


def hours_available(row: Credits) -> int:
    return row.purchased - row.used - row.refunded


# --- study plans ---------------------------------------------------------------------------------

P = TypeVar("P", bound=StudentAndTutor)


@dataclass(frozen=True)
class PlanInHand:
    """A plan row with its latest version, its consultation and its tutor, as loaded."""

    row: StudyPlanRow
    version: StudyPlanVersion
    consultation: Consultation
    tutor: Tutor | None

    @property
    def plan(self) -> study_plan.StudyPlan:
        return study_plan.from_dict(self.version.body)

    @property
    def student_zone(self) -> str:
        return self.consultation.student_time_zone

    def student_today(self) -> date:
        """Today where the student is: a day is past, present or future in their zone."""
        return utcnow().astimezone(domain.zone(self.student_zone)).date()

    def role_of(self, principal: Principal) -> str:
        """``student``, ``tutor`` or ``admin``: how ``principal`` comes to this plan."""
        if principal.user_id == self.row.student_id:
            return "student"
        if principal.user_id == self.row.tutor_id:
            return "tutor"
        return "admin"

    @property
    def tutor_name(self) -> str:
        """The tutor's name, or nothing once the plan has no tutor."""
        return self.tutor.name if self.tutor else ""

    def event(self, event: type[P], **details: Any) -> P:
        """The ``event`` about this plan: the student and the tutor, each with an address and
        a zone, which most progress events carry (``StudentAndTutor``), with what only that
        event says in ``details``."""
        return event(
            plan_id=self.row.id,
            student_id=self.row.student_id,
            student_email=self.consultation.student_email,
            student_name=self.consultation.student_name,
            student_timezone=self.consultation.student_time_zone,
            tutor_id=self.row.tutor_id,
            tutor_email=self.tutor.email if self.tutor else "",
            tutor_name=self.tutor_name,
            **details,
        )


def latest_version(db: Session, row: StudyPlanRow) -> StudyPlanVersion:
    return db.scalar(
        select(StudyPlanVersion).where(
            StudyPlanVersion.plan_id == row.id, StudyPlanVersion.version == row.latest_version
        )
    )


def load_plan(db: Session, principal: Principal, plan_id: str, *, lock: bool = False) -> PlanInHand:
    """The plan its student, its tutor or an admin may see; anyone else gets 403, an unknown
    id 404. ``lock`` takes the plan row ``FOR UPDATE``: every change to a plan (a new version,
    a proposal decided) locks it first, so two changes are decided one after the other."""
    query = select(StudyPlanRow).where(StudyPlanRow.id == plan_id)
    row = db.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise domain.PlanNotFound(f"There is no study plan {plan_id!r}")
    if principal.user_id not in (row.student_id, row.tutor_id) and not principal.has("admin"):
        raise Forbidden("That study plan belongs to someone else.")
    return in_hand(db, row)


def in_hand(db: Session, row: StudyPlanRow) -> PlanInHand:
    """The rest of a plan already loaded (by a job, which acts for nobody in particular)."""
    return PlanInHand(
        row,
        latest_version(db, row),
        db.get(Consultation, row.consultation_id),
        db.get(Tutor, row.tutor_id),
    )


def require_student(principal: Principal, plan: PlanInHand, doing: str) -> None:
    if principal.user_id != plan.row.student_id:
        raise Forbidden(f"Only the plan's student may {doing}.")


def require_student_or_tutor(principal: Principal, plan: PlanInHand, doing: str) -> None:
    if principal.user_id not in (plan.row.student_id, plan.row.tutor_id):
        raise Forbidden(f"Only the plan's student or their tutor may {doing}.")
