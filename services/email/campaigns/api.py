"""HTTP in, use case, HTTP out: campaigns, audiences and suppression for marketing staff, and
the bounce webhook for the mail provider (paths and fields are a contract)."""

from __future__ import annotations

import secrets
from typing import Any

from services.email import suppression
from services.email.campaigns import schemas
from services.email.campaigns import use_cases as campaigns
from shared import auth, config
from shared.errors import DomainError, Unauthorized
from shared.http import BEARER, Blueprint, current_uow

marketing = Blueprint(
    "campaigns",
    __name__,
    url_prefix="/api/admin",
    description="Campaigns, audiences, topics and the suppression list, for marketing and admin.",
)
bounces = Blueprint(
    "bounces",
    __name__,
    url_prefix="/api",
    description="Bounce and complaint notifications from the mail provider.",
)

STAFF = ("marketing", "admin")
_uow = current_uow


@marketing.route("/topics", methods=["GET"])
@marketing.response(200, schemas.AdminTopicSchema(many=True))
@auth.require(*STAFF)
def topics() -> Any:
    """Topics with how many subscribers are confirmed, pending and unsubscribed."""
    return campaigns.list_topics(_uow())


@marketing.route("/audiences", methods=["GET"])
@marketing.response(200, schemas.AudienceSchema(many=True))
@auth.require(*STAFF)
def audiences() -> Any:
    """Every audience a campaign can go to, with how many people it reaches now."""
    return campaigns.list_audiences(_uow())


@marketing.route("/campaigns", methods=["GET"])
@marketing.response(200, schemas.CampaignSchema(many=True))
@auth.require(*STAFF)
def list_campaigns() -> Any:
    """Campaigns, newest first, with their figures."""
    return campaigns.list_campaigns(_uow())


@marketing.route("/campaigns", methods=["POST"])
@marketing.arguments(schemas.CampaignInputSchema)
@marketing.response(201, schemas.CampaignSchema)
@marketing.alt_response(422, description="Invalid fields, an unknown merge field or audience.")
@auth.require(*STAFF)
def create_campaign(body: dict[str, Any]) -> Any:
    """Write a campaign (a draft). Merge fields: `{{first_name}}` and `{{course}}`."""
    principal = auth.current_principal()
    author = principal.email or principal.user_id
    return campaigns.create(
        _uow(), author, body["subject"], body["body_markdown"], body["audience"]
    )


@marketing.route("/campaigns/<string:campaign_id>", methods=["GET"])
@marketing.response(200, schemas.CampaignSchema)
@marketing.alt_response(404, description="No such campaign.")
@auth.require(*STAFF)
def get_campaign(campaign_id: str) -> Any:
    return campaigns.get(_uow(), campaign_id)


@marketing.route("/campaigns/<string:campaign_id>", methods=["PUT"])
@marketing.arguments(schemas.CampaignInputSchema)
@marketing.response(200, schemas.CampaignSchema)
@marketing.alt_response(409, description="The campaign is no longer a draft.")
@auth.require(*STAFF)
def edit_campaign(body: dict[str, Any], campaign_id: str) -> Any:
    """Change a draft's subject, body and audience."""
    return campaigns.edit(
        _uow(), campaign_id, body["subject"], body["body_markdown"], body["audience"]
    )


@marketing.route("/campaigns/<string:campaign_id>/preview", methods=["GET"])
@marketing.response(200, schemas.PreviewSchema)
@auth.require(*STAFF)
def preview(campaign_id: str) -> Any:
    """The email as the first person of the audience gets it (or a sample person)."""
    return campaigns.preview(_uow(), campaign_id)


@marketing.route("/campaigns/<string:campaign_id>/test", methods=["POST"])
@marketing.arguments(schemas.TestSendSchema)
@marketing.response(202, schemas.TestSentSchema)
@auth.require(*STAFF)
def test_send(body: dict[str, Any], campaign_id: str) -> Any:
    """Send a test ("[Test] " subject) to `email`, or to the caller's own address."""
    to = body.get("email") or auth.current_principal().email
    if not to:
        raise DomainError("Your account has no email address; name one.", field="email")
    return campaigns.test_send(_uow(), campaign_id, to.strip().lower())


@marketing.route("/campaigns/<string:campaign_id>/schedule", methods=["POST"])
@marketing.arguments(schemas.ScheduleSchema)
@marketing.response(200, schemas.CampaignSchema)
@marketing.alt_response(422, description="`send_at` is not an aware time in the future.")
@auth.require(*STAFF)
def schedule(body: dict[str, Any], campaign_id: str) -> Any:
    return campaigns.schedule(_uow(), campaign_id, body["send_at"])


@marketing.route("/campaigns/<string:campaign_id>/send", methods=["POST"])
@marketing.response(200, schemas.CampaignSchema)
@marketing.alt_response(409, description="The campaign already went or was cancelled.")
@auth.require(*STAFF)
def send_now(campaign_id: str) -> Any:
    """Start sending now: one recipient row per person of the audience, sent by the worker."""
    return campaigns.send_now(_uow(), campaign_id)


@marketing.route("/campaigns/<string:campaign_id>/pause", methods=["POST"])
@marketing.response(200, schemas.CampaignSchema)
@marketing.alt_response(409, description="Only a campaign that is sending can be paused.")
@auth.require(*STAFF)
def pause(campaign_id: str) -> Any:
    return campaigns.pause(_uow(), campaign_id)


@marketing.route("/campaigns/<string:campaign_id>/resume", methods=["POST"])
@marketing.response(200, schemas.CampaignSchema)
@marketing.alt_response(409, description="Only a paused campaign can be resumed.")
@auth.require(*STAFF)
def resume(campaign_id: str) -> Any:
    return campaigns.resume(_uow(), campaign_id)


@marketing.route("/campaigns/<string:campaign_id>/cancel", methods=["POST"])
@marketing.response(200, schemas.CampaignSchema)
@marketing.alt_response(409, description="The campaign already went or was cancelled.")
@auth.require(*STAFF)
def cancel(campaign_id: str) -> Any:
    return campaigns.cancel(_uow(), campaign_id)


@marketing.route("/campaigns/<string:campaign_id>/deliveries", methods=["GET"])
@marketing.arguments(schemas.RecipientQuerySchema, location="query")
@marketing.response(200, schemas.RecipientSchema(many=True))
@auth.require(*STAFF)
def deliveries(query: dict[str, Any], campaign_id: str) -> Any:
    """The campaign's recipients and what became of each."""
    return campaigns.recipients(_uow(), campaign_id, query.get("status"), query["limit"])


@marketing.route("/suppressions", methods=["GET"])
@marketing.arguments(schemas.SuppressionQuerySchema, location="query")
@marketing.response(200, schemas.SuppressionSchema(many=True))
@auth.require(*STAFF)
def list_suppressions(query: dict[str, Any]) -> Any:
    return suppression.list_suppressions(_uow(), query.get("reason"), query["limit"])


@marketing.route("/suppressions", methods=["POST"])
@marketing.arguments(schemas.SuppressSchema)
@marketing.response(201, schemas.SuppressionSchema)
@auth.require(*STAFF)
def add_suppression(body: dict[str, Any]) -> Any:
    """Suppress an address by hand; no campaign mails it again."""
    return suppression.add(_uow(), body["email"], body["reason"])


@bounces.route("/bounces", methods=["POST"])
@bounces.arguments(schemas.BounceSchema)
@bounces.response(202, schemas.BounceAnswerSchema)
@bounces.alt_response(401, description="Missing or wrong `Authorization: Bearer <secret>`.")
@auth.shared_secret(BEARER)
def report_bounce(body: dict[str, Any]) -> Any:
    """A bounce or complaint from the mail provider, with `BOUNCE_WEBHOOK_SECRET` as bearer.

    A hard bounce or a complaint suppresses the address; a soft bounce is only recorded.
    """
    presented = auth.bearer_token() or ""
    if not secrets.compare_digest(presented.encode(), config.bounce_webhook_secret().encode()):
        raise Unauthorized("Send the bounce webhook secret: Authorization: Bearer <secret>.")
    return suppression.report(
        _uow(),
        report_type=body["type"],
        address=body["email"],
        bounce_type=body.get("bounce_type"),
        message_id=body.get("message_id"),
        diagnostic=body.get("diagnostic"),
        occurred_at=body.get("occurred_at"),
    )
