"""Request and response bodies of enrollment's HTTP API (the contract the site builds on)."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from services.enrollment import domain
from shared import request_bounds as bounds
from shared.request_bounds import MAX_MINOR
from shared.request_text import one_line

SLUG = [validate.Length(min=1, max=60), one_line]


class Strict(Schema):
    class Meta:
        unknown = RAISE


def _int(**kwargs: object) -> fields.Integer:
    return fields.Integer(strict=True, **kwargs)


# --- catalogue -----------------------------------------------------------------------------------


class CycleSchema(Schema):
    start = fields.Date(required=True)
    end = fields.Date(required=True, metadata={"description": "Last day of the curriculum"})
    seats_total = fields.Integer(required=True)
    seats_left = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"description": "`open` or `full`"})


class CourseSchema(Schema):
    slug = fields.String(required=True)
    title = fields.String(required=True)
    description = fields.String(required=True)
    price_minor = fields.Integer(required=True)
    currency = fields.String(required=True)
    cycle_length_days = fields.Integer(required=True)
    access_days = fields.Integer(required=True)
    refund_window_days = fields.Integer(required=True)
    next_cycles = fields.List(fields.Nested(CycleSchema), required=True)


class CourseDetailSchema(CourseSchema):
    cycles = fields.List(
        fields.Nested(CycleSchema), required=True, metadata={"description": "The next open starts"}
    )


class AdminCourseSchema(CourseDetailSchema):
    cadence_days = fields.Integer(required=True)
    anchor_date = fields.Date(required=True)
    seats_per_cycle = fields.Integer(required=True)
    published = fields.Boolean(required=True)


class CourseCreateSchema(Strict):
    slug = fields.String(required=True, validate=SLUG)
    title = fields.String(
        required=True, validate=[validate.Length(min=1, max=domain.TITLE_MAX), one_line]
    )
    description = fields.String(validate=validate.Length(max=5000))
    price_minor = _int(required=True, validate=validate.Range(min=0, max=MAX_MINOR))
    currency = fields.String(required=True, validate=bounds.currency)
    cycle_length_days = _int(required=True, validate=validate.Range(min=1, max=3650))
    cadence_days = _int(required=True, validate=validate.Range(min=1, max=3650))
    anchor_date = fields.Date(required=True, validate=bounds.dates())
    seats_per_cycle = _int(required=True, validate=validate.Range(min=1, max=100000))
    access_days = _int(required=True, validate=validate.Range(min=1, max=36500))
    refund_window_days = _int(required=True, validate=validate.Range(min=0, max=3650))
    published = fields.Boolean(load_default=False)


class CourseUpdateSchema(Strict):
    title = fields.String(validate=[validate.Length(min=1, max=domain.TITLE_MAX), one_line])
    description = fields.String(validate=validate.Length(max=5000))
    price_minor = _int(validate=validate.Range(min=0, max=MAX_MINOR))
    currency = fields.String(validate=bounds.currency)
    cycle_length_days = _int(validate=validate.Range(min=1, max=3650))
    cadence_days = _int(validate=validate.Range(min=1, max=3650))
    anchor_date = fields.Date(validate=bounds.dates())
    seats_per_cycle = _int(validate=validate.Range(min=1, max=100000))
    access_days = _int(validate=validate.Range(min=1, max=36500))
    refund_window_days = _int(validate=validate.Range(min=0, max=3650))
    published = fields.Boolean()


# --- enrollments ---------------------------------------------------------------------------------


class EnrollmentCreateSchema(Strict):
    course_slug = fields.String(required=True, validate=SLUG)
    cycle_start = fields.Date(
        validate=bounds.dates(),
        metadata={"description": "Start date of an open cycle; default the next start"},
    )
    promo_code = fields.String(validate=[validate.Length(min=1, max=40), one_line])


class CheckoutSchema(Schema):
    client_secret = fields.String(required=True)
    publishable_key = fields.String(required=True)
    js_url = fields.String(required=True)
    payment_id = fields.String(required=True)


class EnrollmentSchema(Schema):
    id = fields.String(required=True)
    status = fields.String(
        required=True, metadata={"description": ", ".join(f"`{s}`" for s in domain.STATES)}
    )
    student_id = fields.String(required=True)
    email = fields.String(required=True)
    name = fields.String(required=True)
    course_slug = fields.String(required=True)
    course_title = fields.String(required=True)
    cycle_start = fields.Date(required=True)
    cycle_end = fields.Date(required=True)
    access_ends_on = fields.Date(
        required=True, metadata={"description": "First day without access"}
    )
    amount_minor = fields.Integer(required=True, metadata={"description": "What the student pays"})
    list_price_minor = fields.Integer(
        required=True, metadata={"description": "The course's price before any promotion code"}
    )
    discount_minor = fields.Integer(
        required=True, metadata={"description": "What the promotion code took off (0 if none)"}
    )
    currency = fields.String(required=True)
    promo_code = fields.String(allow_none=True)
    hold_expires_at = fields.AwareDateTime(
        allow_none=True, metadata={"description": "Until when the seat is held (pending only)"}
    )
    paid_at = fields.AwareDateTime(allow_none=True)
    deferrals_used = fields.Integer(required=True)
    deferred_from = fields.Date(allow_none=True)
    refund_requested = fields.Boolean(required=True)
    refund_requested_at = fields.AwareDateTime(allow_none=True)
    refunded_minor = fields.Integer(required=True)
    refunded_at = fields.AwareDateTime(
        allow_none=True, metadata={"description": "When the refund arrived (refunded only)"}
    )
    allowed_actions = fields.List(
        fields.String(validate=validate.OneOf(domain.STUDENT_ACTIONS)),
        required=True,
        metadata={
            "description": "What the student may do now: "
            + ", ".join(f"`{a}`" for a in domain.STUDENT_ACTIONS)
            + " (a page offers only these)"
        },
    )
    last_payment_error = fields.String(allow_none=True)
    from_waitlist = fields.Boolean(required=True)
    created_at = fields.AwareDateTime(required=True)
    checkout = fields.Nested(
        CheckoutSchema,
        allow_none=True,
        metadata={"description": "What the checkout page needs (pending enrollments only)"},
    )


class DeferSchema(Strict):
    cycle_start = fields.Date(required=True, validate=bounds.dates())


class RefundRequestSchema(Strict):
    reason = fields.String(validate=validate.Length(min=1, max=500))


class WaitlistJoinSchema(Strict):
    pass


class WaitlistPlaceSchema(Schema):
    course_slug = fields.String(required=True)
    cycle_start = fields.Date(required=True)
    position = fields.Integer(required=True, metadata={"description": "1 = next in line"})


class WaitlistEntrySchema(Schema):
    student_id = fields.String(required=True)
    email = fields.String(required=True)
    name = fields.String(required=True)
    position = fields.Integer(required=True)
    status = fields.String(required=True)
    joined_at = fields.AwareDateTime(required=True)


class RosterSchema(Schema):
    course_slug = fields.String(required=True)
    course_title = fields.String(required=True)
    cycle_start = fields.Date(required=True)
    cycle_end = fields.Date(required=True)
    seats_total = fields.Integer(required=True)
    seats_taken = fields.Integer(required=True)
    enrollments = fields.List(fields.Nested(EnrollmentSchema), required=True)
    waitlist = fields.List(fields.Nested(WaitlistEntrySchema), required=True)


# --- promotion codes -----------------------------------------------------------------------------


class PromoCodeCreateSchema(Strict):
    code = fields.String(required=True, validate=[validate.Length(min=3, max=40), one_line])
    kind = fields.String(required=True, validate=validate.OneOf(domain.PROMO_KINDS))
    value = _int(required=True, validate=validate.Range(min=1, max=MAX_MINOR))
    currency = fields.String(validate=bounds.currency)
    course_slug = fields.String(validate=SLUG)
    max_redemptions = _int(validate=validate.Range(min=1, max=1_000_000))
    per_student_limit = _int(load_default=1, validate=validate.Range(min=1, max=1000))
    expires_at = fields.AwareDateTime(validate=bounds.instants())


class PromoCodeSchema(Schema):
    code = fields.String(required=True)
    kind = fields.String(required=True)
    value = fields.Integer(required=True)
    currency = fields.String(allow_none=True)
    course_slug = fields.String(allow_none=True)
    max_redemptions = fields.Integer(allow_none=True)
    per_student_limit = fields.Integer(required=True)
    expires_at = fields.AwareDateTime(allow_none=True)
    redemptions = fields.Integer(required=True)
    created_at = fields.AwareDateTime(required=True)
