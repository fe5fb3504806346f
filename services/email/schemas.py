"""Request and response shapes of the email API (the web site is built against them)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.email.domain import DeliveryStatus, SubscriberStatus
from shared.request_text import one_line


class TopicSchema(Schema):
    slug = fields.String()
    name = fields.String()
    description = fields.String()


class SubscribeSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    topics = fields.List(
        fields.String(validate=[validate.Length(min=1, max=60), one_line]),
        required=True,
        validate=validate.Length(min=1, max=20, error="Choose between {min} and {max} topics."),
    )
    name = fields.String(validate=[validate.Length(max=200), one_line], allow_none=True)


class SubscribeAnswerSchema(Schema):
    status = fields.String()
    email = fields.String()


class ConfirmSchema(Schema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=500))


class PreferencesSchema(Schema):
    email = fields.String()
    topics = fields.List(fields.String())
    status = fields.String()
    list_name = fields.String(
        metadata={"description": "Only for a weekly digest's link: what it unsubscribes from."}
    )


class ConfirmedSchema(PreferencesSchema):
    manage_token = fields.String()


class TopicsSchema(Schema):
    topics = fields.List(
        fields.String(validate=[validate.Length(min=1, max=60), one_line]),
        required=True,
        validate=validate.Length(min=1, max=20, error="Choose between {min} and {max} topics."),
    )


class UnsubscribedSchema(Schema):
    email = fields.String()
    status = fields.String()
    list_name = fields.String(
        metadata={"description": "Only for a weekly digest's link: what it unsubscribed from."}
    )


class DeliveryQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf([s.value for s in DeliveryStatus]))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class DeliverySchema(Schema):
    id = fields.String()
    kind = fields.String()
    to = fields.String()
    subject = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    sent_at = fields.AwareDateTime(allow_none=True)


class SubscriberQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf([s.value for s in SubscriberStatus]))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class SubscriberSchema(Schema):
    id = fields.String()
    email = fields.String()
    name = fields.String(allow_none=True)
    status = fields.String()
    topics = fields.List(fields.String())
    created_at = fields.AwareDateTime()
    confirmed_at = fields.AwareDateTime(allow_none=True)
    unsubscribed_at = fields.AwareDateTime(allow_none=True)
