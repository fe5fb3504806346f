"""Request and response bodies of identity's HTTP API (the contract the site and email use)."""

from __future__ import annotations

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from services.identity import domain
from shared import clock
from shared.request_text import one_line


class Strict(Schema):
    class Meta:
        unknown = RAISE


def _email(**kwargs: object) -> fields.Email:
    return fields.Email(validate=validate.Length(max=domain.EMAIL_MAX), **kwargs)


def _password(**kwargs: object) -> fields.String:
    return fields.String(
        validate=validate.Length(min=domain.PASSWORD_MIN, max=domain.PASSWORD_MAX),
        load_only=True,
        **kwargs,
    )


def _name(**kwargs: object) -> fields.String:
    return fields.String(
        validate=[
            validate.Length(min=1, max=domain.NAME_MAX),
            validate.Regexp(r".*\S", error="Give a name."),
            one_line,
        ],
        **kwargs,
    )


def _time_zone(**kwargs: object) -> fields.String:
    """An IANA zone name (``America/New_York``); null clears the setting."""
    return fields.String(
        allow_none=True,
        validate=_is_zone,
        metadata={"description": "IANA time zone, e.g. `America/New_York`; null: not chosen"},
        **kwargs,
    )


def _is_zone(value: str | None) -> None:
    if value is not None and not clock.is_zone(value):
        raise ValidationError("Not a known time zone (an IANA name such as America/New_York).")


def _token(**kwargs: object) -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=2000), **kwargs)


class UserSchema(Schema):
    id = fields.String(required=True)
    email = fields.String(required=True)
    name = fields.String(required=True)
    roles = fields.List(fields.String(), required=True)
    status = fields.String(
        required=True, metadata={"description": "`active`, or `invited` until a password is set"}
    )
    time_zone = fields.String(
        allow_none=True, metadata={"description": "IANA zone the person reads times in, or null"}
    )
    created_at = fields.AwareDateTime(required=True)


class RegistrationSchema(Strict):
    email = _email(required=True)
    password = _password(required=True)
    name = _name(required=True)
    time_zone = _time_zone()


class UpdateMeSchema(Strict):
    name = _name()
    time_zone = _time_zone()


class LoginSchema(Strict):
    email = fields.String(required=True, validate=validate.Length(min=1, max=domain.EMAIL_MAX))
    password = fields.String(
        required=True, load_only=True, validate=validate.Length(min=1, max=domain.PASSWORD_MAX)
    )


class RefreshSchema(Strict):
    refresh_token = _token(required=True)


class TokenPairSchema(Schema):
    access_token = fields.String(required=True)
    refresh_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(
        required=True, metadata={"description": "Seconds the access token lives"}
    )
    user = fields.Nested(UserSchema, required=True)


class ServiceTokenRequestSchema(Strict):
    service = fields.String(
        required=True,
        validate=validate.Regexp(r"^[a-z][a-z0-9_-]{0,49}$", error="Name a service."),
    )
    secret = fields.String(required=True, load_only=True, validate=validate.Length(max=500))


class ServiceTokenSchema(Schema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True)
    expires_in = fields.Integer(required=True)


class PasswordResetRequestSchema(Strict):
    email = _email(required=True)


class StatusSchema(Schema):
    status = fields.String(required=True, metadata={"example": "sent"})


class RegistrationAnswerSchema(Schema):
    """The same for a new address and for one that already has an account."""

    status = fields.String(required=True, metadata={"example": "check-inbox"})
    email = fields.String(required=True, metadata={"example": "ada@example.com"})


class LinkCompletionSchema(Strict):
    token = _token(required=True)
    password = _password(required=True)


class UserListQuerySchema(Strict):
    role = fields.String(validate=validate.OneOf(domain.ROLES))


class InvitationSchema(Strict):
    email = _email(required=True)
    name = _name(required=True)
    role = fields.String(required=True, validate=validate.OneOf(domain.STAFF_ROLES))


class SigningKeySchema(Schema):
    kid = fields.String(required=True)


class JwkSchema(Schema):
    kty = fields.String()
    kid = fields.String()
    use = fields.String()
    alg = fields.String()
    n = fields.String()
    e = fields.String()


class JwksSchema(Schema):
    keys = fields.List(fields.Nested(JwkSchema), required=True)
