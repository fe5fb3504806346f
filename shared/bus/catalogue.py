"""The event catalogue: every event type the suite may publish, and the shape of its data.

This module is the contract between services. A producer cannot publish, and a consumer will
not accept, an event whose type is missing here or whose data does not validate against its
schema. ``docs/events.md`` is generated from it (``make docs``).
"""

from __future__ import annotations

from dataclasses import dataclass

from marshmallow import RAISE, Schema, fields, validate


@dataclass(frozen=True)
class EventType:
    name: str
    version: int
    schema: type[Schema]
    description: str
    producer: str


CATALOGUE: dict[str, EventType] = {}


def event(name: str, *, version: int = 1, producer: str, description: str):
    """Register the decorated schema as the data of event type ``name``."""

    def register(schema: type[Schema]) -> type[Schema]:
        if name in CATALOGUE:
            raise ValueError(f"event type {name} is registered twice")
        CATALOGUE[name] = EventType(name, version, schema, description.strip(), producer)
        return schema

    return register


class EventData(Schema):
    class Meta:
        unknown = RAISE


ROLES = ("student", "tutor", "marketing", "admin")
Email = fields.Email


# --- identity -----------------------------------------------------------------------------


@event(
    "user.registered",
    producer="identity",
    description="""
A person created a student account (or accepted an invitation). The email service welcomes them.
""",
)
class UserRegistered(EventData):
    user_id = fields.String(required=True)
    email = Email(required=True)
    name = fields.String(required=True)
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES)), required=True)


@event(
    "user.invited",
    producer="identity",
    description="""
An admin created a tutor, marketing or admin account. The invitation email carries a signed,
expiring link (``token``) that lets the person choose a password.
""",
)
class UserInvited(EventData):
    user_id = fields.String(required=True)
    email = Email(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    token = fields.String(required=True)
    expires_at = fields.AwareDateTime(required=True)


@event(
    "user.password_reset_requested",
    producer="identity",
    description="""
Someone asked to reset the password of an existing account. The email carries a signed link
(``token``) that works once, until ``expires_at``.
""",
)
class PasswordResetRequested(EventData):
    user_id = fields.String(required=True)
    email = Email(required=True)
    name = fields.String(required=True)
    token = fields.String(required=True)
    expires_at = fields.AwareDateTime(required=True)


# --- email --------------------------------------------------------------------------------


@event(
    "subscriber.confirmed",
    producer="email",
    description="""
An address confirmed its subscription to email updates (double opt-in completed).
""",
)
class SubscriberConfirmed(EventData):
    subscriber_id = fields.String(required=True)
    email = Email(required=True)
    topics = fields.List(fields.String(), required=True)


@event(
    "subscriber.unsubscribed",
    producer="email",
    description="""
An address unsubscribed from every email update (one click, or from the preference page).
""",
)
class SubscriberUnsubscribed(EventData):
    subscriber_id = fields.String(required=True)
    email = Email(required=True)
