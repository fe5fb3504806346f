"""Tutoring's events about a student's progress: results, plan revisions, check-ins, notices.

The assessment → plan loop (issue 12): a result is recorded, a new plan version is proposed
and accepted, the student checks off their days, and the tutoring worker sends the weekly
digests and once-only notices. Part of the catalogue (``shared.bus.catalogue`` imports this
module last); kept apart so the catalogue module stays readable.
"""

from __future__ import annotations

from marshmallow import fields, validate

from shared.bus.catalogue import Email, EventData, event

SCALES = ("percent", "three_digit", "pass_fail")
"""Percent correct, a three-digit score, or pass (1) / fail (0) for Step 1's official result."""
DAY_STATUSES = ("done", "partial", "missed")
PROPOSAL_KINDS = ("rebalance", "recovery")
PROPOSER_ROLES = ("student", "tutor", "system")


def _hours() -> fields.Dict:
    """Hours per area, e.g. ``{"renal": 12.5}``."""
    return fields.Dict(keys=fields.String(), values=fields.Float(), required=True)


class StudentAndTutor(EventData):
    """Who the notice is for: the student and their tutor, each with an address and a zone."""

    plan_id = fields.String(required=True)
    student_id = fields.String(required=True)
    student_email = Email(required=True)
    student_name = fields.String(required=True)
    student_timezone = fields.String(required=True)
    tutor_id = fields.String(required=True)
    tutor_email = Email(required=True)
    tutor_name = fields.String(required=True)


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
    result_id = fields.String(required=True)
    form_id = fields.String(required=True)
    form_name = fields.String(required=True)
    exam = fields.String(required=True)
    scale = fields.String(required=True, validate=validate.OneOf(SCALES))
    taken_on = fields.Date(required=True)
    score = fields.Float(required=True)
    passing_score = fields.Float(required=True, allow_none=True)
    below_passing = fields.Boolean(required=True)
    official = fields.Boolean(required=True)
    recorded_role = fields.String(required=True, validate=validate.OneOf(("student", "tutor")))


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
    proposal_id = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(PROPOSAL_KINDS))
    base_version = fields.Integer(required=True, validate=validate.Range(min=1))
    fits = fields.Boolean(required=True)
    proposed_role = fields.String(required=True, validate=validate.OneOf(PROPOSER_ROLES))
    accepter_role = fields.String(required=True, validate=validate.OneOf(("student", "tutor")))
    message = fields.String(required=True)
    hours_before = _hours()
    hours_after = _hours()
    suggested_exam_date = fields.Date(required=True, allow_none=True)


@event(
    "study_plan.rebalanced",
    producer="tutoring",
    description="""
A proposed revision was accepted: version ``to_version`` replaces ``from_version`` from the
first changed day on (earlier days are unchanged). ``study_plan.published`` follows for the
new version, as for any version.
""",
)
class StudyPlanRebalanced(EventData):
    proposal_id = fields.String(required=True)
    plan_id = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(PROPOSAL_KINDS))
    student_id = fields.String(required=True)
    tutor_id = fields.String(required=True)
    from_version = fields.Integer(required=True, validate=validate.Range(min=1))
    to_version = fields.Integer(required=True, validate=validate.Range(min=2))
    accepted_role = fields.String(required=True, validate=validate.OneOf(("student", "tutor")))
    hours_before = _hours()
    hours_after = _hours()


@event(
    "plan_day.checked",
    producer="tutoring",
    description="""
The student marked a plan day done, partly done or missed (on the plan page, ``via`` ``page``,
or from a signed link in the weekly email, ``via`` ``email``). Marking it again replaces it.
""",
)
class PlanDayChecked(EventData):
    plan_id = fields.String(required=True)
    student_id = fields.String(required=True)
    day = fields.Date(required=True)
    status = fields.String(required=True, validate=validate.OneOf(DAY_STATUSES))
    planned_hours = fields.Float(required=True, validate=validate.Range(min=0))
    via = fields.String(required=True, validate=validate.OneOf(("page", "email")))


class ScoreFacts(EventData):
    form_name = fields.String(required=True)
    scale = fields.String(required=True, validate=validate.OneOf(SCALES))
    score = fields.Float(required=True)
    passing_score = fields.Float(required=True, allow_none=True)
    taken_on = fields.Date(required=True)


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
    exam = fields.String(required=True)
    exam_date = fields.Date(required=True)
    weeks_left = fields.Integer(required=True, validate=validate.Range(min=0))
    latest = fields.List(fields.Nested(ScoreFacts), required=True)
    later_exam_date = fields.Date(required=True, allow_none=True)


@event(
    "plan.result_missing",
    producer="tutoring",
    description="""
A checkpoint day passed a day ago with no result recorded on or after it. Sent once per
checkpoint; the tutor's dashboard shows it too.
""",
)
class PlanResultMissing(StudentAndTutor):
    checkpoint_day = fields.Date(required=True)


class DayToCheck(EventData):
    """A past day the student has not checked yet, with one signed, expiring link token per
    answer; the email service links ``PUBLIC_URL/plan/check/<token>``."""

    day = fields.Date(required=True)
    kind = fields.String(required=True)
    hours = fields.Float(required=True)
    done = fields.String(required=True)
    partial = fields.String(required=True)
    missed = fields.String(required=True)


class LatestResult(EventData):
    form_name = fields.String(required=True)
    scale = fields.String(required=True, validate=validate.OneOf(SCALES))
    score = fields.Float(required=True)
    taken_on = fields.Date(required=True)


@event(
    "progress.digest_due",
    producer="tutoring",
    description="""
The student's weekly progress email: the last seven days' planned, done and missed hours, the
days still to check (with one-click links), the latest result, the next checkpoint. Once per
student and week; the email service honours the student's opt-out.
""",
)
class ProgressDigestDue(EventData):
    plan_id = fields.String(required=True)
    student_id = fields.String(required=True)
    student_email = Email(required=True)
    student_name = fields.String(required=True)
    student_timezone = fields.String(required=True)
    week_start = fields.Date(required=True)
    week_end = fields.Date(required=True)
    planned_hours = fields.Float(required=True)
    done_hours = fields.Float(required=True)
    missed_hours = fields.Float(required=True)
    to_check = fields.List(fields.Nested(DayToCheck), required=True)
    latest_result = fields.Nested(LatestResult, required=True, allow_none=True)
    next_checkpoint = fields.Date(required=True, allow_none=True)
    exam_date = fields.Date(required=True)
    links_expire_at = fields.AwareDateTime(required=True)


class StudentWeek(EventData):
    plan_id = fields.String(required=True)
    student_name = fields.String(required=True)
    planned_hours = fields.Float(required=True)
    done_hours = fields.Float(required=True)
    missed_hours = fields.Float(required=True)
    results_missing = fields.Integer(required=True, validate=validate.Range(min=0))
    readiness_warning = fields.Boolean(required=True)
    latest_result = fields.Nested(LatestResult, required=True, allow_none=True)


@event(
    "progress.tutor_digest_due",
    producer="tutoring",
    description="""
One weekly email per tutor covering each of their students with a plan: hours done and missed,
results missing, readiness warnings, latest result. Once per tutor and week.
""",
)
class ProgressTutorDigestDue(EventData):
    tutor_id = fields.String(required=True)
    tutor_email = Email(required=True)
    tutor_name = fields.String(required=True)
    tutor_timezone = fields.String(required=True)
    week_start = fields.Date(required=True)
    week_end = fields.Date(required=True)
    students = fields.List(fields.Nested(StudentWeek), required=True)
