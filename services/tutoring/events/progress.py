"""Tutoring's events about a student's progress: results, plan revisions, check-ins, notices.

The assessment -> plan loop: a result is recorded, a new plan version is proposed and accepted,
the student checks off their days, and the tutoring worker sends the weekly digests and
once-only notices.

Changing a class changes the wire (shared/bus/events.py): add optional fields first, and never
rename a routing key.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal, get_args

from marshmallow import validate

from shared.bus.events import (
    Email,
    NonNegative,
    Positive,
    command,
    event,
    record,
)

Scale = Literal["percent", "three_digit", "pass_fail"]
"""Percent correct, a three-digit score, or pass (1) / fail (0) for Step 1's official result."""
DayStatus = Literal["done", "partial", "missed"]
ProposalKind = Literal["rebalance", "recovery"]
ProposerRole = Literal["student", "tutor", "system"]
By = Literal["student", "tutor"]
Via = Literal["page", "email"]
Hours = dict[str, float]
"""Hours per area, e.g. ``{"renal": 12.5}``."""
SCALES = get_args(Scale)
DAY_STATUSES = get_args(DayStatus)
PROPOSAL_KINDS = get_args(ProposalKind)
PROPOSER_ROLES = get_args(ProposerRole)


@record
class StudentAndTutor:
    """Who the notice is for: the student and their tutor, each with an address and a zone."""

    plan_id: str
    student_id: str
    student_email: Email
    student_name: str
    student_timezone: str
    tutor_id: str
    tutor_email: Email
    tutor_name: str


@record
class ScoreFacts:
    form_name: str
    scale: Scale
    score: float
    passing_score: float | None
    taken_on: date


@record
class DayToCheck:
    """A past day the student has not checked yet, with one signed, expiring link token per
    answer; the email service links ``PUBLIC_URL/plan/check/<token>``."""

    day: date
    kind: str
    hours: float
    done: str
    partial: str
    missed: str


@record
class LatestResult:
    form_name: str
    scale: Scale
    score: float
    taken_on: date


@record
class StudentWeek:
    plan_id: str
    student_name: str
    planned_hours: float
    done_hours: float
    missed_hours: float
    results_missing: NonNegative
    readiness_warning: bool
    latest_result: LatestResult | None


@event(
    "assessment_result.recorded",
    producer="tutoring",
    description="""
A student (or their tutor) recorded a practice assessment: the form, its scale, the date taken
and the score, and whether it is below the form's passing mark. An ``official`` result below
passing starts the reset (rest block and reflection) for the student's next plan.
""",
)
class AssessmentResultRecorded(StudentAndTutor):
    result_id: str
    form_id: str
    form_name: str
    exam: str
    scale: Scale
    taken_on: date
    score: float
    passing_score: float | None
    below_passing: bool
    official: bool
    recorded_role: By


@event(
    "study_plan.revision_proposed",
    producer="tutoring",
    description="""
A new plan version was proposed: a ``rebalance`` after a result (by the student or the tutor)
or a ``recovery`` after missed days (by the tutoring worker, ``proposed_role`` ``system``).
Nothing changes until ``accepter_role`` accepts it. When it does not ``fit``, ``message`` says
why and ``suggested_exam_date`` names the first exam date that would work, if any.
""",
)
class StudyPlanRevisionProposed(StudentAndTutor):
    proposal_id: str
    kind: ProposalKind
    base_version: Positive
    fits: bool
    proposed_role: ProposerRole
    accepter_role: By
    message: str
    hours_before: Hours
    hours_after: Hours
    suggested_exam_date: date | None


@event(
    "study_plan.rebalanced",
    producer="tutoring",
    description="""
A proposed revision was accepted: version ``to_version`` replaces ``from_version`` from the
first changed day on (earlier days are unchanged). ``study_plan.published`` follows for the
new version, as for any version.
""",
)
class StudyPlanRebalanced:
    proposal_id: str
    plan_id: str
    kind: ProposalKind
    student_id: str
    tutor_id: str
    from_version: Positive
    to_version: Annotated[int, validate.Range(min=2)]
    accepted_role: By
    hours_before: Hours
    hours_after: Hours


@event(
    "plan_day.checked",
    producer="tutoring",
    description="""
The student marked a plan day done, partly done or missed (on the plan page, ``via`` ``page``,
or from a signed link in the weekly email, ``via`` ``email``). Marking it again replaces it.
""",
)
class PlanDayChecked:
    plan_id: str
    student_id: str
    day: date
    status: DayStatus
    planned_hours: Annotated[float, validate.Range(min=0)]
    via: Via


@event(
    "readiness.warning",
    producer="tutoring",
    description="""
The two latest results are below their passing marks and the exam is fewer than
``READINESS_WEEKS`` weeks away. Sent once per result that makes it so; the student and the
tutor are told the options (a later exam date that fits, a deferral, a session).
""",
)
class ReadinessWarning(StudentAndTutor):
    exam: str
    exam_date: date
    weeks_left: NonNegative
    latest: list[ScoreFacts]
    later_exam_date: date | None


@event(
    "plan.result_missing",
    producer="tutoring",
    description="""
A checkpoint day passed a day ago with no result recorded on or after it. Sent once per
checkpoint; the tutor's dashboard shows it too.
""",
)
class PlanResultMissing(StudentAndTutor):
    checkpoint_day: date


@command(
    "progress.digest_due",
    producer="tutoring",
    description="""
The student's weekly progress email: the last seven days' planned, done and missed hours, the
days still to check (with one-click links), the latest result, the next checkpoint. Once per
student and week; the email service honours the student's opt-out.
""",
)
class SendProgressDigest:
    plan_id: str
    student_id: str
    student_email: Email
    student_name: str
    student_timezone: str
    week_start: date
    week_end: date
    planned_hours: float
    done_hours: float
    missed_hours: float
    to_check: list[DayToCheck]
    latest_result: LatestResult | None
    next_checkpoint: date | None
    exam_date: date
    links_expire_at: datetime


@command(
    "progress.tutor_digest_due",
    producer="tutoring",
    description="""
One weekly email per tutor covering each of their students with a plan: hours done and missed,
results missing, readiness warnings, latest result. Once per tutor and week.
""",
)
class SendTutorDigest:
    tutor_id: str
    tutor_email: Email
    tutor_name: str
    tutor_timezone: str
    week_start: date
    week_end: date
    students: list[StudentWeek]
