"""Request and response bodies of the plan tracking API: day checks, their signed links, and
proposed plan versions (the contract the site and the email service build on)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.tutoring.events.progress import DAY_STATUSES, PROPOSAL_KINDS, PROPOSER_ROLES
from services.tutoring.schemas import PlanDaySchema, Strict
from shared.request_text import one_line


def _hours() -> fields.Dict:
    return fields.Dict(
        keys=fields.String(),
        values=fields.Float(),
        required=True,
        metadata={"description": "Hours per area from the proposal's first day to the exam."},
    )


# --- day checks ----------------------------------------------------------------------------------


class DayCheckSchema(Strict):
    status = fields.String(
        required=True,
        validate=validate.OneOf(DAY_STATUSES),
        metadata={"description": "done, partial (partly done) or missed"},
    )


class DayCheckedSchema(Schema):
    day = fields.Date(required=True)
    status = fields.String(required=True, validate=validate.OneOf(DAY_STATUSES))
    planned_hours = fields.Float(
        required=True, metadata={"description": "The day's hours in the plan when checked."}
    )


class PlanDayCheckSchema(DayCheckedSchema):
    checked_at = fields.AwareDateTime(required=True)


class CheckLinkSchema(Strict):
    token = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=1000), one_line],
        metadata={"description": "The token of a link in the weekly progress email."},
    )


class CheckLinkViewSchema(Schema):
    plan_id = fields.String(required=True)
    day = fields.Date(required=True)
    status = fields.String(
        required=True,
        validate=validate.OneOf(DAY_STATUSES),
        metadata={"description": "The answer the link records."},
    )
    student_name = fields.String(required=True)
    current_status = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "The answer recorded for that day now (null: none yet)."},
    )


# --- proposals -----------------------------------------------------------------------------------


class ProposalCreateSchema(Strict):
    kind = fields.String(
        required=True,
        validate=validate.OneOf(("rebalance",)),
        metadata={
            "description": "rebalance: share the hours from tomorrow by the latest "
            "per-area scores (recovery proposals come from the worker)."
        },
    )


class ProposalSchema(Schema):
    id = fields.String(required=True)
    plan_id = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(PROPOSAL_KINDS))
    status = fields.String(
        required=True,
        metadata={"description": "proposed, accepted, declined or superseded"},
    )
    base_version = fields.Integer(
        required=True, metadata={"description": "The plan version it was made from."}
    )
    fits = fields.Boolean(required=True)
    message = fields.String(required=True, metadata={"description": "One plain sentence."})
    hours_before = _hours()
    hours_after = _hours()
    suggested_exam_date = fields.Date(
        required=True,
        allow_none=True,
        metadata={"description": "When it does not fit: the first exam date that would."},
    )
    proposed_role = fields.String(required=True, validate=validate.OneOf(PROPOSER_ROLES))
    accepter_role = fields.String(required=True, validate=validate.OneOf(("student", "tutor")))
    can_accept = fields.Boolean(
        required=True, metadata={"description": "Whether the caller may accept it now."}
    )
    created_at = fields.AwareDateTime(required=True)
    decided_at = fields.AwareDateTime(required=True, allow_none=True)
    days = fields.List(
        fields.Nested(PlanDaySchema),
        required=True,
        metadata={"description": "The proposed days from its first day on (empty: no fit)."},
    )
