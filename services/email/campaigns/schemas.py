"""Request and response shapes of the campaign, audience, suppression and bounce API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.email.campaigns.domain import CampaignStatus, RecipientStatus, SuppressionReason
from shared import request_bounds as bounds
from shared.request_text import one_line


class AdminTopicSchema(Schema):
    slug = fields.String()
    name = fields.String()
    description = fields.String()
    confirmed = fields.Integer()
    pending = fields.Integer()
    unsubscribed = fields.Integer()


class AudienceSchema(Schema):
    key = fields.String()
    label = fields.String()
    size = fields.Integer()


class CampaignInputSchema(Schema):
    subject = fields.String(required=True, validate=[validate.Length(min=1, max=200), one_line])
    body_markdown = fields.String(required=True, validate=validate.Length(min=1, max=100_000))
    audience = fields.String(required=True, validate=[validate.Length(min=1, max=200), one_line])


class FiguresSchema(Schema):
    recipients = fields.Integer()
    queued = fields.Integer()
    sent = fields.Integer()
    failed = fields.Integer()
    suppressed = fields.Integer()
    unsubscribed = fields.Integer()


class CampaignSchema(Schema):
    id = fields.String()
    subject = fields.String()
    body_markdown = fields.String()
    audience = fields.String()
    audience_label = fields.String()
    status = fields.String(metadata={"enum": [s.value for s in CampaignStatus]})
    send_at = fields.AwareDateTime(allow_none=True)
    started_at = fields.AwareDateTime(allow_none=True)
    finished_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()
    created_by = fields.String()
    figures = fields.Nested(FiguresSchema)


class SampleSchema(Schema):
    first_name = fields.String()
    course = fields.String()


class PreviewRecipientSchema(Schema):
    email = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    sample = fields.Boolean(
        metadata={"description": "true when the audience is empty and a sample person stands in"}
    )


class PreviewFallbackSchema(Schema):
    field = fields.String(metadata={"description": "A merge field the campaign uses"})
    value = fields.String(metadata={"description": "What it reads for this recipient instead"})


class PreviewSchema(Schema):
    subject = fields.String()
    html = fields.String()
    text = fields.String()
    sample = fields.Nested(SampleSchema)
    recipient = fields.Nested(
        PreviewRecipientSchema, metadata={"description": "Whom the preview is rendered for"}
    )
    fallbacks = fields.List(
        fields.Nested(PreviewFallbackSchema),
        metadata={"description": "Merge fields this recipient has no value for"},
    )


class TestSendSchema(Schema):
    email = fields.Email(validate=validate.Length(max=254))


class TestSentSchema(Schema):
    to = fields.String()


class ScheduleSchema(Schema):
    send_at = fields.AwareDateTime(required=True, validate=bounds.instants())


class RecipientQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf([s.value for s in RecipientStatus]))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class RecipientSchema(Schema):
    email = fields.String()
    status = fields.String()
    sent_at = fields.AwareDateTime(allow_none=True)
    error = fields.String(allow_none=True)


class SuppressionQuerySchema(Schema):
    reason = fields.String(validate=validate.OneOf([r.value for r in SuppressionReason]))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class SuppressionSchema(Schema):
    email = fields.String()
    reason = fields.String()
    source = fields.String()
    campaign_id = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()


class SuppressSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    reason = fields.String(
        required=True,
        validate=validate.OneOf(
            [SuppressionReason.MANUAL.value], error="Staff add addresses with reason manual."
        ),
    )


class BounceSchema(Schema):
    """A bounce or complaint notification from the mail provider (documented in README)."""

    type = fields.String(required=True, validate=validate.OneOf(["bounce", "complaint"]))
    email = fields.Email(required=True, validate=validate.Length(max=254))
    bounce_type = fields.String(validate=validate.OneOf(["hard", "soft"]), allow_none=True)
    message_id = fields.String(validate=[validate.Length(max=300), one_line], allow_none=True)
    diagnostic = fields.String(validate=validate.Length(max=2000), allow_none=True)
    occurred_at = fields.AwareDateTime(allow_none=True, validate=bounds.instants())


class BounceAnswerSchema(Schema):
    email = fields.String()
    suppressed = fields.Boolean()
