"""HTTP in, use case, HTTP out: the API the web site calls (paths and fields are a contract)."""

from __future__ import annotations

from typing import Any

from services.email import opt_outs, queries, schemas
from services.email.use_cases import subscriptions
from shared import auth, client_address
from shared.http import Blueprint, current_uow

public = Blueprint(
    "subscriptions",
    __name__,
    url_prefix="/api",
    description="Topics, double opt-in subscriptions, preferences and one-click unsubscribe.",
)
staff = Blueprint(
    "admin",
    __name__,
    url_prefix="/api/admin",
    description="Deliveries and subscribers, for marketing and admin staff.",
)


_uow = current_uow


@public.route("/topics", methods=["GET"])
@public.response(200, schemas.TopicSchema(many=True))
@auth.public()
def topics() -> Any:
    """The topics a person can subscribe to."""
    return queries.list_topics(_uow())


@public.route("/subscriptions", methods=["POST"])
@public.arguments(schemas.SubscribeSchema)
@public.response(202, schemas.SubscribeAnswerSchema)
@public.alt_response(422, description="Invalid fields, or an unknown topic (field `topics`).")
@auth.public()
def subscribe(body: dict[str, Any]) -> Any:
    """Start double opt-in: a confirmation email goes out unless the address is confirmed.

    The answer is the same in every case, so it does not reveal who subscribes, nor whether
    too many confirmations were asked for this address or by this client (then none is sent).
    """
    address = subscriptions.subscribe(
        _uow(), body["email"], body["topics"], body.get("name"), client_address.of_request()
    )
    return {"status": "pending", "email": address}


@public.route("/subscriptions/confirm", methods=["POST"])
@public.arguments(schemas.ConfirmSchema)
@public.response(200, schemas.ConfirmedSchema)
@public.alt_response(422, description="The token is invalid or has expired (field `token`).")
@auth.public()
def confirm(body: dict[str, Any]) -> Any:
    """Confirm a subscription with the token from the confirmation email."""
    return subscriptions.confirm_subscription(_uow(), body["token"])


@public.route("/preferences/<string:manage_token>", methods=["GET"])
@public.response(200, schemas.PreferencesSchema)
@public.alt_response(404, description="The link is invalid.")
@auth.public()
def get_preferences(manage_token: str) -> Any:
    """A subscriber's address, topics and status; for a weekly digest's link, whether the
    address still gets that digest (`list_name` says which)."""
    digest = opt_outs.read_token(manage_token)
    if digest is not None:
        return opt_outs.preferences(_uow(), *digest)
    return subscriptions.preferences(_uow(), manage_token)


@public.route("/preferences/<string:manage_token>", methods=["PUT"])
@public.arguments(schemas.TopicsSchema)
@public.response(200, schemas.PreferencesSchema)
@public.alt_response(404, description="The link is invalid.")
@auth.public()
def put_preferences(body: dict[str, Any], manage_token: str) -> Any:
    """Replace a subscriber's topics (a weekly digest's link has none: 404)."""
    return subscriptions.change_topics(_uow(), manage_token, body["topics"])


@public.route("/unsubscribe/<string:manage_token>", methods=["POST"])
@public.response(200, schemas.UnsubscribedSchema)
@public.alt_response(404, description="The link is invalid.")
@auth.public()
def unsubscribe(manage_token: str) -> Any:
    """One-click unsubscribe (RFC 8058): any body, including `List-Unsubscribe=One-Click`.

    A weekly digest's link stops that digest only (`list_name` says which), nothing else.
    """
    digest = opt_outs.read_token(manage_token)
    if digest is not None:
        return opt_outs.opt_out(_uow(), *digest)
    return subscriptions.unsubscribe(_uow(), manage_token)


@staff.route("/deliveries", methods=["GET"])
@staff.arguments(schemas.DeliveryQuerySchema, location="query")
@staff.response(200, schemas.DeliverySchema(many=True))
@auth.require("marketing", "admin")
def deliveries(query: dict[str, Any]) -> Any:
    """Recent emails, newest first, optionally of one status."""
    return queries.recent_deliveries(_uow(), query.get("status"), query["limit"])


@staff.route("/subscribers", methods=["GET"])
@staff.arguments(schemas.SubscriberQuerySchema, location="query")
@staff.response(200, schemas.SubscriberSchema(many=True))
@auth.require("marketing", "admin")
def subscribers(query: dict[str, Any]) -> Any:
    """Subscribers with their status and topics, newest first."""
    return queries.list_subscribers(_uow(), query.get("status"), query["limit"])
