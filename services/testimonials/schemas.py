"""Request and response bodies of the testimonials API (the contract the site builds on)."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from services.testimonials import domain
from shared.request_text import one_line

PROGRAM = validate.Regexp(
    r"^(tutoring|course:[a-z0-9][a-z0-9-]*)$",
    error="`tutoring` or `course:<slug>`",
)


class Strict(Schema):
    class Meta:
        unknown = RAISE


def _int(**kwargs: object) -> fields.Integer:
    return fields.Integer(strict=True, **kwargs)


# --- public --------------------------------------------------------------------------------------


class ProgramSchema(Schema):
    program = fields.String(required=True)
    label = fields.String(required=True)


class ConsentSchema(Schema):
    version = fields.String(required=True)
    text = fields.String(required=True)


class WallQuerySchema(Strict):
    program = fields.String(validate=[validate.Length(max=120), PROGRAM])
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class WallItemSchema(Schema):
    id = fields.String(required=True)
    display_name = fields.String(required=True)
    program = fields.String(required=True)
    program_label = fields.String(required=True)
    story = fields.String(required=True)
    rating = fields.Integer(required=True)
    verified = fields.Boolean(required=True)
    author_role = fields.String(required=True, metadata={"description": "student | tutor | staff"})
    featured = fields.Boolean(required=True)
    approved_at = fields.AwareDateTime(required=True)


class RequestLinkSchema(Schema):
    name = fields.String(required=True)
    email = fields.String(required=True)
    program = fields.String(required=True)
    program_label = fields.String(required=True)
    expires_at = fields.AwareDateTime(required=True)


class SubmitSchema(Strict):
    display_name = fields.String(
        required=True, validate=[validate.Length(min=1, max=domain.DISPLAY_NAME_MAX), one_line]
    )
    program = fields.String(required=True, validate=[validate.Length(max=120), PROGRAM])
    story = fields.String(
        required=True, validate=validate.Length(min=domain.STORY_MIN, max=domain.STORY_MAX)
    )
    rating = _int(
        required=True, validate=validate.Range(min=domain.RATING_MIN, max=domain.RATING_MAX)
    )
    consent = fields.Boolean(
        required=True,
        metadata={"description": "The author agrees to the consent text of `GET /api/consent`."},
    )
    request_token = fields.String(
        validate=validate.Length(min=1, max=2000),
        metadata={"description": "The token of an emailed request link, instead of a bearer."},
    )


class SubmittedSchema(Schema):
    id = fields.String(required=True)
    status = fields.String(required=True)
    consent = fields.Boolean(required=True)
    verified = fields.Boolean(required=True)
    author_role = fields.String(required=True)


class MineSchema(Schema):
    id = fields.String(required=True)
    display_name = fields.String(required=True)
    program = fields.String(required=True)
    program_label = fields.String(required=True)
    story = fields.String(required=True)
    rating = fields.Integer(required=True)
    consent = fields.Boolean(required=True)
    verified = fields.Boolean(required=True)
    author_role = fields.String(required=True)
    status = fields.String(required=True)
    featured = fields.Boolean(required=True)
    submitted_at = fields.AwareDateTime(required=True)
    moderated_at = fields.AwareDateTime(allow_none=True)


# --- staff ---------------------------------------------------------------------------------------


class AdminQuerySchema(Strict):
    status = fields.String(validate=validate.OneOf([s.value for s in domain.Status]))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class TestimonialSchema(Schema):
    id = fields.String(required=True)
    user_id = fields.String(allow_none=True)
    email = fields.String(required=True)
    display_name = fields.String(required=True)
    program = fields.String(required=True)
    program_label = fields.String(required=True)
    story = fields.String(required=True)
    rating = fields.Integer(required=True)
    consent = fields.Boolean(required=True)
    consent_text = fields.String(allow_none=True)
    consented_at = fields.AwareDateTime(allow_none=True)
    verified = fields.Boolean(required=True)
    author_role = fields.String(required=True)
    status = fields.String(required=True)
    featured = fields.Boolean(required=True)
    position = fields.Integer(allow_none=True)
    rejection_reason = fields.String(allow_none=True)
    rejection_note = fields.String(allow_none=True)
    submitted_at = fields.AwareDateTime(required=True)
    moderated_at = fields.AwareDateTime(allow_none=True)
    approved_at = fields.AwareDateTime(allow_none=True)
    edited = fields.Boolean(required=True)


class TextSchema(Schema):
    display_name = fields.String(required=True)
    story = fields.String(required=True)


class RevisionSchema(Schema):
    editor_id = fields.String(required=True)
    editor_name = fields.String(required=True)
    before = fields.Nested(TextSchema, required=True)
    after = fields.Nested(TextSchema, required=True)
    note = fields.String(required=True)
    at = fields.AwareDateTime(required=True)


class TestimonialDetailSchema(TestimonialSchema):
    original = fields.Nested(TextSchema, required=True)
    revisions = fields.List(fields.Nested(RevisionSchema), required=True)


class RejectSchema(Strict):
    reason = fields.String(
        required=True,
        validate=validate.OneOf(domain.REJECTION_REASONS),
        metadata={"description": "Never the rating: " + ", ".join(domain.REJECTION_REASONS)},
    )
    note = fields.String(validate=validate.Length(max=domain.NOTE_MAX), allow_none=True)


class EditSchema(Strict):
    display_name = fields.String(
        validate=[validate.Length(min=1, max=domain.DISPLAY_NAME_MAX), one_line]
    )
    story = fields.String(validate=validate.Length(min=domain.STORY_MIN, max=domain.STORY_MAX))
    note = fields.String(
        required=True,
        validate=validate.Length(min=1, max=domain.NOTE_MAX),
        metadata={"description": "Why it was edited; kept with the revision."},
    )


class WallOrderSchema(Strict):
    ids = fields.List(
        fields.String(validate=validate.Length(min=1, max=36)),
        required=True,
        validate=validate.Length(max=1000),
        metadata={"description": "Approved testimonials, in the order the wall shows them."},
    )
