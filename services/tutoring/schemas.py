"""Request and response bodies of tutoring's HTTP API (the contract the site builds on).

Over 400 lines on purpose: this is the whole contract of ``api``'s routes, one schema per body
in the same order as the routes, so a route and its bodies are found at the same place in both
files; the progress and tracking bodies are already apart (``schemas_progress``,
``schemas_tracking``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from services.tutoring import domain, study_plan
from shared import request_bounds as bounds
from shared.request_text import one_line

WALL_TIME = validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error="A wall-clock time, HH:MM")


class Strict(Schema):
    class Meta:
        unknown = RAISE


def _int(**kwargs: object) -> fields.Integer:
    return fields.Integer(strict=True, **kwargs)


class Object(fields.Nested):
    """A nested object whose wrong type is reported under the field's own name.

    Plain ``Nested`` files a non-object under ``<field>._schema``; the problem+json should
    name ``intake`` itself, as it does for every other field.
    """

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, Mapping):
            raise ValidationError("Not an object.")
        return super()._deserialize(value, attr, data, **kwargs)


class WallTime(fields.Time):
    """``HH:MM`` in, ``HH:MM`` out (wall-clock time in the tutor's zone)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(format="%H:%M", **kwargs)


# --- tutors --------------------------------------------------------------------------------------


class AreaSchema(Schema):
    slug = fields.String(required=True)
    label = fields.String(required=True)


class ExamSchema(AreaSchema):
    areas = fields.List(fields.Nested(AreaSchema), required=True)


class PackageOptionSchema(Schema):
    hours = fields.Integer(required=True)
    amount_minor = fields.Integer(
        required=True, metadata={"description": "What the package costs, discount included."}
    )
    full_minor = fields.Integer(
        required=True, metadata={"description": "The same hours at the hourly rate."}
    )
    discount_percent = fields.Integer(required=True)


class PublicTutorSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    bio = fields.String(required=True)
    exams = fields.List(fields.String(), required=True)
    time_zone = fields.String(required=True)
    session_rate_minor = fields.Integer(allow_none=True)
    currency = fields.String(required=True)
    photo_url = fields.String(allow_none=True)
    horizon_days = fields.Integer(
        required=True,
        metadata={"description": "How many days ahead the tutor takes bookings."},
    )
    package_options = fields.List(
        fields.Nested(PackageOptionSchema),
        required=True,
        metadata={"description": "The packages of hours on sale, priced; none without a rate."},
    )


class TutorSchema(PublicTutorSchema):
    email = fields.String(required=True)
    consultation_minutes = fields.Integer(required=True)
    session_minutes = fields.Integer(required=True)
    buffer_minutes = fields.Integer(required=True)
    min_notice_hours = fields.Integer(required=True)
    created_at = fields.AwareDateTime(required=True)


class TutorUpdateSchema(Strict):
    bio = fields.String(validate=validate.Length(max=5000))
    exams = fields.List(fields.String(validate=validate.OneOf(domain.EXAMS)))
    time_zone = fields.String(
        validate=[validate.Length(min=1, max=64), one_line], metadata={"description": "IANA zone"}
    )
    session_rate_minor = _int(allow_none=True, validate=validate.Range(min=0, max=10_000_000))
    currency = fields.String(validate=[validate.Regexp(r"^[A-Za-z]{3}$"), bounds.currency])
    photo_url = fields.Url(allow_none=True, validate=validate.Length(max=500))
    consultation_minutes = _int(validate=validate.Range(min=10, max=240))
    session_minutes = _int(validate=validate.Range(min=15, max=480))
    buffer_minutes = _int(validate=validate.Range(min=0, max=240))
    min_notice_hours = _int(validate=validate.Range(min=0, max=24 * 30))
    horizon_days = _int(validate=validate.Range(min=1, max=366))


# --- availability --------------------------------------------------------------------------------


class WindowSchema(Strict):
    start = WallTime(required=True)
    end = WallTime(required=True)


class WeeklyWindowSchema(WindowSchema):
    weekday = _int(
        required=True,
        validate=validate.Range(min=0, max=6),
        metadata={"description": "0 = Monday ... 6 = Sunday"},
    )


class OverrideSchema(Strict):
    day = fields.Date(required=True, validate=bounds.dates())
    windows = fields.List(
        fields.Nested(WindowSchema),
        required=True,
        metadata={"description": "An empty list is a day off"},
    )


class AvailabilityUpdateSchema(Strict):
    weekly = fields.List(fields.Nested(WeeklyWindowSchema), required=True)
    overrides = fields.List(fields.Nested(OverrideSchema), load_default=list)


class TimeOffCreateSchema(Strict):
    starts_at = fields.AwareDateTime(required=True, validate=bounds.instants())
    ends_at = fields.AwareDateTime(required=True, validate=bounds.instants())


class TimeOffSchema(Schema):
    id = fields.String(required=True)
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)


class WindowViewSchema(Schema):
    start = fields.String(required=True, metadata={"description": "HH:MM"})
    end = fields.String(required=True, metadata={"description": "HH:MM"})


class WeeklyWindowViewSchema(WindowViewSchema):
    weekday = fields.Integer(required=True)


class OverrideViewSchema(Schema):
    day = fields.String(required=True)
    windows = fields.List(fields.Nested(WindowViewSchema), required=True)


class AvailabilitySchema(Schema):
    time_zone = fields.String(required=True)
    weekly = fields.List(fields.Nested(WeeklyWindowViewSchema), required=True)
    overrides = fields.List(fields.Nested(OverrideViewSchema), required=True)
    time_off = fields.List(fields.Nested(TimeOffSchema), required=True)


class SlotQuerySchema(Strict):
    kind = fields.String(
        load_default="consultation", validate=validate.OneOf(("consultation", "session"))
    )
    tz = fields.String(
        validate=[validate.Length(min=1, max=64), one_line],
        metadata={"description": "The viewer's IANA zone (default: the tutor's)"},
    )


class SlotSchema(Schema):
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    local_start = fields.String(required=True, metadata={"description": "In the viewer's zone"})
    local_end = fields.String(required=True)


# --- consultations -------------------------------------------------------------------------------


class IntakeSchema(Strict):
    exam = fields.String(
        required=True,
        validate=[validate.Length(max=60), one_line],
        metadata={"description": " or ".join(domain.EXAMS)},
    )
    exam_date = fields.Date(required=True, validate=bounds.dates())
    # Wider than the domain's rules (0-6 attempts, 1-80 hours), which name the field as the
    # booking form knows it; these only keep absurd numbers out.
    attempts = _int(required=True, validate=bounds.whole(0, 99))
    weekly_hours = _int(required=True, validate=bounds.whole(0, 7 * 24))
    weak_areas = fields.List(
        fields.String(validate=[validate.Length(max=60), one_line]),
        required=True,
        validate=validate.Length(max=50),
    )


class ConsultationCreateSchema(Strict):
    tutor_id = fields.String(required=True, validate=[validate.Length(min=1, max=64), one_line])
    starts_at = fields.AwareDateTime(
        required=True, validate=bounds.instants(), metadata={"description": "A slot's start"}
    )
    time_zone = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=64), one_line],
        metadata={"description": "IANA"},
    )
    intake = Object(IntakeSchema, required=True)


class CancelSchema(Strict):
    reason = fields.String(load_default="", validate=validate.Length(max=2000))


class EmptySchema(Strict):
    pass


class AssessmentUpdateSchema(Strict):
    strengths = fields.String(required=True, validate=validate.Length(max=10000))
    weaknesses = fields.String(required=True, validate=validate.Length(max=10000))
    goals = fields.String(required=True, validate=validate.Length(max=10000))


class AssessmentSchema(Schema):
    strengths = fields.String(required=True)
    weaknesses = fields.String(required=True)
    goals = fields.String(required=True)
    recorded_at = fields.AwareDateTime(required=True)


class IntakeViewSchema(Schema):
    exam = fields.String(required=True)
    exam_date = fields.String(required=True)
    attempts = fields.Integer(required=True)
    weekly_hours = fields.Integer(required=True)
    weak_areas = fields.List(fields.String(), required=True)


class ReflectionSchema(Schema):
    schedule = fields.String(required=True)
    resources = fields.String(required=True)
    exam_anxiety = fields.String(required=True)
    timing = fields.String(required=True)
    other = fields.String(required=True)
    updated_at = fields.AwareDateTime(required=True)


class ConsultationSchema(Schema):
    id = fields.String(required=True)
    plan_id = fields.String(
        allow_none=True, metadata={"description": "The study plan made from it, once there is one."}
    )
    status = fields.String(required=True)
    student_id = fields.String(required=True)
    student_name = fields.String(required=True)
    student_email = fields.String(required=True)
    time_zone = fields.String(required=True, metadata={"description": "The student's zone"})
    tutor_id = fields.String(required=True)
    tutor_name = fields.String(required=True)
    tutor_time_zone = fields.String(required=True)
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    intake = fields.Nested(IntakeViewSchema, required=True)
    cancelled_by = fields.String(allow_none=True)
    cancel_reason = fields.String(allow_none=True)
    assessment = fields.Nested(AssessmentSchema, allow_none=True)
    reflection = fields.Nested(
        ReflectionSchema,
        required=True,
        allow_none=True,
        metadata={"description": "What went wrong last time, written by the student."},
    )
    reflection_asked = fields.Boolean(
        required=True, metadata={"description": "The intake names an earlier attempt."}
    )
    created_at = fields.AwareDateTime(required=True)


# --- study plans ---------------------------------------------------------------------------------


class PlanCreateSchema(Strict):
    areas = fields.List(
        fields.String(validate=[validate.Length(min=1, max=60), one_line]),
        metadata={"description": "Areas to plan (default: every known area)"},
    )
    # Each at least what the domain's PlanSettings asks; at most what a plan up to the exam
    # horizon (two years) could use.
    free_day_every = _int(validate=bounds.whole(2, 31))
    checkpoint_every_weeks = _int(validate=bounds.whole(1, 104))
    review_days = _int(validate=bounds.whole(0, 730))
    weak_weight = fields.Float(validate=validate.Range(min=1, max=100))
    min_days = _int(validate=bounds.whole(2, 730))
    min_total_hours = _int(validate=bounds.whole(1, 10_000))


class BlockSchema(Strict):
    area = fields.String(required=True, validate=[validate.Length(min=1, max=60), one_line])
    hours = fields.Float(required=True, validate=validate.Range(min=0, max=24))


class DayChangeSchema(Strict):
    day = fields.Date(required=True, validate=bounds.dates())
    kind = fields.String(validate=validate.OneOf(study_plan.DAY_KINDS))
    blocks = fields.List(fields.Nested(BlockSchema))


class PlanEditSchema(Strict):
    changes = fields.List(
        fields.Nested(DayChangeSchema), required=True, validate=validate.Length(min=1, max=400)
    )


class PlanDaySchema(Schema):
    day = fields.String(required=True)
    kind = fields.String(required=True)
    blocks = fields.List(fields.Nested(BlockSchema), required=True)


class PlanSchema(Schema):
    id = fields.String(required=True)
    plan_id = fields.String(required=True, metadata={"description": "The same as `id`."})
    consultation_id = fields.String(required=True)
    student_id = fields.String(required=True)
    tutor_id = fields.String(required=True)
    exam = fields.String(required=True)
    version = fields.Integer(required=True)
    published_at = fields.AwareDateTime(required=True)
    exam_date = fields.String(required=True)
    days = fields.List(fields.Nested(PlanDaySchema), required=True)
    hours_by_area = fields.Dict(keys=fields.String(), values=fields.Float(), required=True)
    total_hours = fields.Float(required=True)
    warnings = fields.List(fields.String(), required=True)
    reset = fields.Boolean(
        required=True, metadata={"description": "After a failed attempt: opens with rest days."}
    )
    starts_on = fields.String(required=True, metadata={"description": "The plan's first day"})
    weekly_hours = fields.Integer(required=True, allow_none=True)
    targets = fields.Dict(
        keys=fields.String(),
        values=fields.Float(),
        required=True,
        metadata={"description": "The student's own target per scale"},
    )


class CalendarLinkSchema(Schema):
    url = fields.String(required=True, metadata={"description": "Subscribe to this .ics URL"})


# --- packages and credits ------------------------------------------------------------------------


class PackageCreateSchema(Strict):
    tutor_id = fields.String(required=True, validate=[validate.Length(min=1, max=64), one_line])
    hours = _int(
        required=True,
        validate=validate.OneOf(domain.PACKAGE_HOURS),
        metadata={"description": "1, 5 or 10 (10 hours are 10% off)"},
    )


class CheckoutSchema(Schema):
    client_secret = fields.String(required=True)
    publishable_key = fields.String(required=True)
    js_url = fields.String(required=True)
    payment_id = fields.String(required=True)


class PackageSchema(Schema):
    id = fields.String(required=True)
    status = fields.String(
        required=True, metadata={"description": "pending_payment, paid, refunded or cancelled"}
    )
    student_id = fields.String(required=True)
    tutor_id = fields.String(required=True)
    tutor_name = fields.String(required=True)
    hours = fields.Integer(required=True)
    amount_minor = fields.Integer(required=True)
    currency = fields.String(required=True)
    refunded_minor = fields.Integer(required=True)
    refunded_hours = fields.Integer(required=True)
    created_at = fields.AwareDateTime(required=True)
    checkout = fields.Nested(
        CheckoutSchema,
        allow_none=True,
        metadata={"description": "While pending: what the checkout page needs to take payment."},
    )


class CreditSchema(Schema):
    tutor_id = fields.String(required=True)
    tutor_name = fields.String(required=True)
    hours_available = fields.Integer(required=True)


# --- sessions ------------------------------------------------------------------------------------


class SessionCreateSchema(Strict):
    tutor_id = fields.String(required=True, validate=[validate.Length(min=1, max=64), one_line])
    starts_at = fields.AwareDateTime(
        required=True,
        validate=bounds.instants(),
        metadata={"description": "A slot's start (`kind=session`)"},
    )
    time_zone = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=64), one_line],
        metadata={"description": "IANA"},
    )


class RescheduleSchema(Strict):
    starts_at = fields.AwareDateTime(
        required=True,
        validate=bounds.instants(),
        metadata={"description": "Another slot's start (`kind=session`)"},
    )


class CompleteSessionSchema(Strict):
    lesson_note = fields.String(
        required=True,
        validate=[
            validate.Length(min=1, max=5000),
            # [\s\S] rather than the (?s) flag: the pattern is published in the OpenAPI
            # document, where patterns are ECMA-262 regular expressions (no inline flags).
            validate.Regexp(r"[\s\S]*\S", error="Must not be blank."),
        ],
    )


class SessionSchema(Schema):
    id = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "booked, completed, cancelled"})
    student_id = fields.String(required=True)
    student_name = fields.String(required=True)
    student_email = fields.String(required=True)
    time_zone = fields.String(required=True, metadata={"description": "The student's zone"})
    tutor_id = fields.String(required=True)
    tutor_name = fields.String(required=True)
    tutor_time_zone = fields.String(required=True)
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    reschedules = fields.Integer(required=True)
    reschedules_left = fields.Integer(required=True)
    can_cancel_until = fields.AwareDateTime(
        required=True,
        metadata={"description": "Until then the student may cancel or move it and keep the hour."},
    )
    cancelled_by = fields.String(allow_none=True)
    cancel_reason = fields.String(allow_none=True)
    credit_returned = fields.Boolean(allow_none=True)
    lesson_note = fields.String(allow_none=True)
    completed_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime(required=True)
