"""Request and response bodies of tutoring's progress API: the assessment form catalogue,
results, targets, the progress page, the tutor's dashboard and the reflection."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.tutoring import domain
from services.tutoring.schemas import Strict
from services.tutoring.use_cases.assessment_forms import SCALES
from shared import request_bounds as bounds
from shared.request_text import one_line


def score_range(what: str) -> validate.Range:
    """0-1000: wide enough for every scale (percent, three-digit, pass/fail); the scale's own
    range is the use case's rule, which names the form. ``what`` names the field for people."""
    return validate.Range(min=0, max=1000, error=f"{what} is a number from 0 to 1000.")


NAME = validate.Length(min=1, max=200, error="A form's name is 1 to 200 characters.")
NOTE = validate.Length(max=2000, error="A note is at most 2000 characters.")
FORM_ID = validate.Regexp(
    r"^[a-z0-9]+(-[a-z0-9]+)*$", error="Lower-case letters and digits joined by hyphens."
)


# --- assessment forms ----------------------------------------------------------------------------


class AssessmentFormSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    exam = fields.String(required=True)
    scale = fields.String(required=True, metadata={"description": " or ".join(SCALES)})
    scale_min = fields.Float(required=True)
    scale_max = fields.Float(required=True)
    passing_score = fields.Float(required=True, allow_none=True)
    default_target = fields.Float(required=True, allow_none=True)
    official = fields.Boolean(
        required=True, metadata={"description": "The real exam: a fail starts the reset."}
    )
    active = fields.Boolean(required=True)


class AssessmentFormUpdateSchema(Strict):
    name = fields.String(validate=[NAME, one_line])
    exam = fields.String(validate=validate.OneOf(domain.EXAMS))
    scale = fields.String(validate=validate.OneOf(SCALES))
    scale_min = fields.Float(validate=score_range("The lowest score"))
    scale_max = fields.Float(validate=score_range("The highest score"))
    passing_score = fields.Float(allow_none=True, validate=score_range("The passing score"))
    default_target = fields.Float(allow_none=True, validate=score_range("The usual target"))
    official = fields.Boolean()
    active = fields.Boolean()


class AssessmentFormCreateSchema(AssessmentFormUpdateSchema):
    id = fields.String(
        validate=[validate.Length(min=1, max=64), FORM_ID],
        metadata={"description": "A slug; made from the name when left out."},
    )
    name = fields.String(required=True, validate=[NAME, one_line])
    exam = fields.String(required=True, validate=validate.OneOf(domain.EXAMS))
    scale = fields.String(
        required=True,
        validate=validate.OneOf(SCALES),
        metadata={"description": "scale_min/scale_max default to the scale's own range."},
    )


# --- results -------------------------------------------------------------------------------------


class ResultCreateSchema(Strict):
    form_id = fields.String(required=True, validate=[validate.Length(min=1, max=64), one_line])
    taken_on = fields.Date(required=True, validate=bounds.dates())
    score = fields.Float(
        required=True,
        validate=score_range("The score"),
        metadata={"description": "On the form's scale; outside it: 422 naming the form's range."},
    )
    area_scores = fields.Dict(
        keys=fields.String(validate=[validate.Length(min=1, max=60), one_line]),
        values=fields.Float(),
        load_default=dict,
        validate=validate.Length(max=60),
        metadata={"description": "Percent correct (0-100) per area of the plan."},
    )
    note = fields.String(load_default="", validate=NOTE)


class ResultSchema(Schema):
    id = fields.String(required=True)
    plan_id = fields.String(required=True)
    form_id = fields.String(required=True)
    form_name = fields.String(required=True)
    scale = fields.String(required=True)
    official = fields.Boolean(required=True)
    passing_score = fields.Float(required=True, allow_none=True)
    taken_on = fields.Date(required=True)
    score = fields.Float(required=True)
    score_text = fields.String(
        required=True, metadata={"description": "As people read it: Pass/Fail, or the number."}
    )
    area_scores = fields.Dict(keys=fields.String(), values=fields.Float(), required=True)
    note = fields.String(required=True)
    recorded_role = fields.String(required=True, metadata={"description": "student or tutor"})
    created_at = fields.AwareDateTime(required=True)
    below_passing = fields.Boolean(required=True)


class TargetSchema(Strict):
    scale = fields.String(required=True, validate=validate.OneOf(SCALES))
    score = fields.Float(
        required=True,
        allow_none=True,
        validate=validate.Range(
            min=0, max=1000, error="A target is a score from 0 to 1000, on the forms' scale."
        ),
        metadata={"description": "null: back to the forms' default target"},
    )


# --- progress ------------------------------------------------------------------------------------


class PointSchema(Schema):
    taken_on = fields.Date(required=True)
    score = fields.Float(required=True)
    form_name = fields.String(required=True)
    result_id = fields.String(required=True)


class EstimateSchema(Schema):
    on = fields.Date(required=True)
    score = fields.Float(required=True)
    per_week = fields.Float(required=True)
    points = fields.Integer(required=True)
    method = fields.String(required=True)


class SeriesSchema(Schema):
    scale = fields.String(required=True)
    low = fields.Float(required=True)
    high = fields.Float(required=True)
    passing_score = fields.Float(required=True, allow_none=True)
    target = fields.Float(required=True, allow_none=True)
    points = fields.List(fields.Nested(PointSchema), required=True)
    estimate = fields.Nested(EstimateSchema, required=True, allow_none=True)


class AreaChangeSchema(Schema):
    area = fields.String(required=True)
    first = fields.Float(required=True)
    latest = fields.Float(required=True)
    first_on = fields.Date(required=True)
    latest_on = fields.Date(required=True)


class ScoreFactsSchema(Schema):
    form_name = fields.String(required=True)
    scale = fields.String(required=True)
    score = fields.Float(required=True)
    passing_score = fields.Float(required=True, allow_none=True)
    taken_on = fields.Date(required=True)


class ReadinessSchema(Schema):
    warning = fields.Boolean(required=True)
    weeks_left = fields.Integer(required=True)
    later_exam_date = fields.Date(required=True, allow_none=True)
    latest = fields.List(fields.Nested(ScoreFactsSchema), required=True)


class AdherenceSchema(Schema):
    since = fields.Date(required=True, metadata={"description": "The window is since..today-1"})
    planned_hours = fields.Float(required=True)
    done_hours = fields.Float(
        required=True, metadata={"description": "Done days, plus half of partly done days"}
    )
    partial_hours = fields.Float(
        required=True,
        metadata={
            "description": "The hours of the days marked partly done (already counted half in "
            "done_hours, half in missed_hours: do not add it to them)"
        },
    )
    partial_days = fields.Integer(required=True, metadata={"description": "Days partly done"})
    unchecked_hours = fields.Float(
        required=True,
        metadata={"description": "planned = done + missed + unchecked hours"},
    )
    missed_hours = fields.Float(
        required=True, metadata={"description": "Missed days, plus half of partly done days"}
    )
    unchecked_days = fields.Integer(required=True)


class ResetAdviceSchema(Schema):
    reason = fields.String(required=True, metadata={"description": "failed_official"})
    since = fields.Date(required=True, metadata={"description": "The failed attempt's date"})
    result_id = fields.String(required=True)
    form_name = fields.String(required=True)
    rest_days = fields.Integer(required=True)
    message = fields.String(
        required=True, metadata={"description": "What to do next, in one plain sentence."}
    )


class ProgressSchema(Schema):
    plan_id = fields.String(required=True)
    student_id = fields.String(required=True)
    student_name = fields.String(required=True)
    tutor_id = fields.String(required=True)
    tutor_name = fields.String(required=True)
    exam = fields.String(required=True)
    exam_date = fields.Date(required=True)
    version = fields.Integer(required=True)
    today = fields.Date(required=True, metadata={"description": "Today in the student's zone"})
    series = fields.List(fields.Nested(SeriesSchema), required=True)
    areas = fields.List(fields.Nested(AreaChangeSchema), required=True)
    results = fields.List(fields.Nested(ResultSchema), required=True)
    missing_checkpoints = fields.List(fields.Date(), required=True)
    readiness = fields.Nested(ReadinessSchema, required=True)
    adherence = fields.Nested(AdherenceSchema, required=True)
    estimate_method = fields.String(required=True)
    reset_advised = fields.Nested(ResetAdviceSchema, required=True, allow_none=True)


class DashboardRowSchema(Schema):
    plan_id = fields.String(required=True)
    student_id = fields.String(required=True)
    student_name = fields.String(required=True)
    exam = fields.String(required=True)
    exam_date = fields.Date(required=True)
    version = fields.Integer(required=True)
    missing_checkpoints = fields.List(fields.Date(), required=True)
    readiness_warning = fields.Boolean(required=True)
    open_proposals = fields.Integer(required=True)
    latest_result = fields.Nested(ResultSchema, required=True, allow_none=True)
    missed_hours_7d = fields.Float(required=True)
    reset_advised = fields.Nested(ResetAdviceSchema, required=True, allow_none=True)
    needs_attention = fields.Boolean(
        required=True,
        metadata={
            "description": "A failed official attempt, a readiness warning, a missing "
            "result or an open proposal."
        },
    )


# --- reflection ----------------------------------------------------------------------------------


def _answer() -> fields.String:
    return fields.String(
        load_default="",
        validate=validate.Length(max=2000, error="An answer is at most 2000 characters."),
    )


class ReflectionUpdateSchema(Strict):
    schedule = _answer()
    resources = _answer()
    exam_anxiety = _answer()
    timing = _answer()
    other = _answer()
