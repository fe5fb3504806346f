"""Loading a study plan for someone, and who may do what with it: in one place, so every use
case of the assessment → plan loop refuses the same people the same way."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.tutoring import domain, study_plan
from services.tutoring.models import Consultation, StudyPlanRow, StudyPlanVersion, Tutor
from shared.auth import Principal
from shared.db import utcnow
from shared.errors import Forbidden


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

    def people(self) -> dict[str, str]:
        """The student and tutor fields most progress events carry (``StudentAndTutor``)."""
        tutor = self.tutor
        return {
            "plan_id": self.row.id,
            "student_id": self.row.student_id,
            "student_email": self.consultation.student_email,
            "student_name": self.consultation.student_name,
            "student_timezone": self.consultation.student_time_zone,
            "tutor_id": self.row.tutor_id,
            "tutor_email": tutor.email if tutor else "",
            "tutor_name": tutor.name if tutor else "",
        }


def latest_version(session: Session, row: StudyPlanRow) -> StudyPlanVersion:
    return session.scalar(
        select(StudyPlanVersion).where(
            StudyPlanVersion.plan_id == row.id, StudyPlanVersion.version == row.latest_version
        )
    )


def load_plan(
    session: Session, principal: Principal, plan_id: str, *, lock: bool = False
) -> PlanInHand:
    """The plan its student, its tutor or an admin may see; anyone else gets 403, an unknown
    id 404. ``lock`` takes the plan row ``FOR UPDATE``: every change to a plan (a new version,
    a proposal decided) locks it first, so two changes are decided one after the other."""
    query = select(StudyPlanRow).where(StudyPlanRow.id == plan_id)
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise domain.PlanNotFound(f"There is no study plan {plan_id!r}")
    if principal.user_id not in (row.student_id, row.tutor_id) and not principal.has("admin"):
        raise Forbidden("That study plan belongs to someone else.")
    return in_hand(session, row)


def in_hand(session: Session, row: StudyPlanRow) -> PlanInHand:
    """The rest of a plan already loaded (by a job, which acts for nobody in particular)."""
    return PlanInHand(
        row,
        latest_version(session, row),
        session.get(Consultation, row.consultation_id),
        session.get(Tutor, row.tutor_id),
    )


def require_student(principal: Principal, plan: PlanInHand, doing: str) -> None:
    if principal.user_id != plan.row.student_id:
        raise Forbidden(f"Only the plan's student may {doing}.")


def require_student_or_tutor(principal: Principal, plan: PlanInHand, doing: str) -> None:
    if principal.user_id not in (plan.row.student_id, plan.row.tutor_id):
        raise Forbidden(f"Only the plan's student or their tutor may {doing}.")
