"""Testimonials' HTTP API: request in, use case, response out."""

from __future__ import annotations

from typing import Any

from services.testimonials import queries, schemas
from services.testimonials.use_cases import moderation, submissions
from shared import auth
from shared.http import Blueprint, current_uow

blp = Blueprint(
    "testimonials",
    __name__,
    url_prefix="/api",
    description=(
        "The public wall of approved testimonials, the programs they are about, the consent "
        "text, and submission (signed in, or through an emailed request link)."
    ),
)
admin_blp = Blueprint(
    "testimonials-admin",
    __name__,
    url_prefix="/api/admin",
    description="Moderation, edits with an audit trail, featuring and the wall's order (marketing).",
)

_uow = current_uow
STAFF = ("marketing", "admin")


# --- public --------------------------------------------------------------------------------------


@blp.route("/programs", methods=["GET"])
@blp.response(200, schemas.ProgramSchema(many=True))
@auth.public()
def programs() -> list[dict[str, str]]:
    """What a testimonial can be about: 1:1 tutoring and every course heard of."""
    return queries.programs(_uow())


@blp.route("/consent", methods=["GET"])
@blp.response(200, schemas.ConsentSchema)
@auth.public()
def consent() -> dict[str, str]:
    """The consent to publish, word for word as the form shows it and the service stores it."""
    return queries.consent_terms()


@blp.route("/testimonials", methods=["GET"])
@blp.arguments(schemas.WallQuerySchema, location="query")
@blp.response(200, schemas.WallItemSchema(many=True))
@auth.public()
def wall(query: dict[str, Any]) -> list[dict[str, Any]]:
    """The public wall: approved, consented testimonials; featured first, then marketing's
    order, then the newest approval."""
    return queries.public_wall(_uow(), query.get("program"), query["limit"])


@blp.route("/testimonials", methods=["POST"])
@blp.arguments(schemas.SubmitSchema)
@blp.response(201, schemas.SubmittedSchema)
@blp.alt_response(401, description="Neither an access token nor a `request_token`.")
@blp.alt_response(410, description="The request link expired or was used already.")
@blp.alt_response(422, description="A field out of its limits, an unknown `program`.")
@auth.public(optional_token=True)
def submit(body: dict[str, Any]) -> dict[str, Any]:
    """Submit a testimonial: with a bearer token, or with the `request_token` of an email link.

    Without `consent` it is kept as private feedback and never shown anywhere public.
    """
    principal = None if body.get("request_token") else auth.current_principal(optional=True)
    return submissions.submit(_uow(), principal, body)


@blp.route("/testimonials/mine", methods=["GET"])
@blp.response(200, schemas.MineSchema(many=True))
@blp.alt_response(401, description="No valid access token.")
@auth.require()
def mine() -> list[dict[str, Any]]:
    """The caller's own testimonials and where each stands."""
    return queries.my_testimonials(_uow(), auth.current_principal())


@blp.route("/testimonial-requests/<token>", methods=["GET"])
@blp.response(200, schemas.RequestLinkSchema)
@blp.alt_response(404, description="Not a link we sent.")
@blp.alt_response(410, description="The link expired (or was used already).")
@auth.public()
def request_link(token: str) -> dict[str, Any]:
    """Who an emailed request link is for and which program it asks about."""
    return queries.request_link(_uow(), token)


# --- staff ---------------------------------------------------------------------------------------


@admin_blp.route("/testimonials", methods=["GET"])
@admin_blp.arguments(schemas.AdminQuerySchema, location="query")
@admin_blp.response(200, schemas.TestimonialSchema(many=True))
@admin_blp.alt_response(401, description="No valid access token.")
@admin_blp.alt_response(403, description="Not marketing or an admin.")
@auth.require(*STAFF)
def moderation_queue(query: dict[str, Any]) -> list[dict[str, Any]]:
    """Testimonials with everything about them, newest first (optionally of one status)."""
    return queries.moderation_queue(_uow(), query.get("status"), query["limit"])


@admin_blp.route("/testimonials/wall-order", methods=["PUT"])
@admin_blp.arguments(schemas.WallOrderSchema)
@admin_blp.response(200, schemas.TestimonialSchema(many=True))
@admin_blp.alt_response(403, description="Not marketing or an admin.")
@admin_blp.alt_response(422, description="An id that is not on the wall, or listed twice.")
@auth.require(*STAFF)
def wall_order(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Order the wall: the listed testimonials first, in that order; the others follow."""
    return moderation.set_wall_order(_uow(), body["ids"])


@admin_blp.route("/testimonials/<testimonial_id>", methods=["GET"])
@admin_blp.response(200, schemas.TestimonialDetailSchema)
@admin_blp.alt_response(403, description="Not marketing or an admin.")
@admin_blp.alt_response(404, description="No such testimonial.")
@auth.require(*STAFF)
def get_testimonial(testimonial_id: str) -> dict[str, Any]:
    """One testimonial with the author's original text and every edit."""
    return queries.get_testimonial(_uow(), testimonial_id)


@admin_blp.route("/testimonials/<testimonial_id>", methods=["PUT"])
@admin_blp.arguments(schemas.EditSchema)
@admin_blp.response(200, schemas.TestimonialDetailSchema)
@admin_blp.alt_response(403, description="Not marketing or an admin.")
@admin_blp.alt_response(404, description="No such testimonial.")
@admin_blp.alt_response(422, description="Nothing changed, or a field out of its limits.")
@auth.require(*STAFF)
def edit(body: dict[str, Any], testimonial_id: str) -> dict[str, Any]:
    """Correct the name shown or the story, saying why; the original and the revision stay."""
    return moderation.edit(_uow(), auth.current_principal(), testimonial_id, body)


@admin_blp.route("/testimonials/<testimonial_id>/approve", methods=["POST"])
@admin_blp.response(200, schemas.TestimonialSchema)
@admin_blp.alt_response(403, description="Not marketing or an admin.")
@admin_blp.alt_response(404, description="No such testimonial.")
@admin_blp.alt_response(409, description="No consent to publish, or already approved.")
@auth.require(*STAFF)
def approve(testimonial_id: str) -> dict[str, Any]:
    """Put it on the public wall."""
    return moderation.approve(_uow(), testimonial_id)


@admin_blp.route("/testimonials/<testimonial_id>/reject", methods=["POST"])
@admin_blp.arguments(schemas.RejectSchema)
@admin_blp.response(200, schemas.TestimonialSchema)
@admin_blp.alt_response(403, description="Not marketing or an admin.")
@admin_blp.alt_response(404, description="No such testimonial.")
@admin_blp.alt_response(409, description="Already rejected.")
@auth.require(*STAFF)
def reject(body: dict[str, Any], testimonial_id: str) -> dict[str, Any]:
    """Refuse it (or take an approved one down) for a listed reason — never the rating."""
    return moderation.reject(_uow(), testimonial_id, body["reason"], body.get("note"))


@admin_blp.route("/testimonials/<testimonial_id>/feature", methods=["POST"])
@admin_blp.response(200, schemas.TestimonialSchema)
@admin_blp.alt_response(403, description="Not marketing or an admin.")
@admin_blp.alt_response(409, description="Not approved.")
@auth.require(*STAFF)
def feature(testimonial_id: str) -> dict[str, Any]:
    """Show it first on the wall."""
    return moderation.set_featured(_uow(), testimonial_id, True)


@admin_blp.route("/testimonials/<testimonial_id>/unfeature", methods=["POST"])
@admin_blp.response(200, schemas.TestimonialSchema)
@admin_blp.alt_response(403, description="Not marketing or an admin.")
@admin_blp.alt_response(409, description="Not approved.")
@auth.require(*STAFF)
def unfeature(testimonial_id: str) -> dict[str, Any]:
    """Stop featuring it; it keeps its place among the others."""
    return moderation.set_featured(_uow(), testimonial_id, False)
