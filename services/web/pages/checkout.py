"""The card checkout every purchase shares: the Stripe form's page, its card step, its status.

An enrollment and a package of tutoring hours are paid the same way: the owning service answers
the purchase with ``checkout`` (client secret, publishable key, payment id) while it awaits
payment, the page runs Stripe.js with that data (``checkout_macros.html`` and
``static/checkout.js``), the card step sends the Stripe token to payments for the payment the
purchase names, and the done page polls the purchase's status until the webhook → bus path has
decided. Each purchase only says how to load itself; nothing here knows what is being bought.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import jsonify, request
from werkzeug.wrappers import Response

from services.web import clients, security
from shared import config

PENDING = "pending_payment"


def pending_payment(purchase: dict) -> dict | None:
    """The payment data of a purchase still awaiting payment, else None (nothing to pay)."""
    return purchase.get("checkout") if purchase.get("status") == PENDING else None


def page_context(payment: dict | None) -> dict[str, Any]:
    """What a checkout page's template needs; lets this response run Stripe.js when it pays."""
    if payment:
        security.allow_stripe()
    # The script tag and the CSP must name the same Stripe.js, so both come from config.
    return {"payment": payment, "stripe_js_url": config.stripe_settings().js_url}


def card_step(load: Callable[[], dict], gone: str) -> tuple[Response, int] | Response:
    """The checkout script's card step, answered in JSON: charge the card Stripe.js tokenized.

    The browser sends only Stripe's token; the payment it goes to is the one the student's own
    purchase (``load``) names, so a page can never pay into someone else's purchase. ``gone`` is
    the message when the purchase can no longer be paid.
    """
    if not security.current_user():
        return jsonify({"detail": "Sign in again."}), 401
    body = request.get_json(silent=True) or {}
    card_token = body.get("token")
    if not isinstance(card_token, str) or not card_token:
        return jsonify({"detail": "The card could not be read. Please try again."}), 400
    try:
        payment = pending_payment(load())
        if not payment:
            return jsonify({"detail": gone}), 409
        answer = clients.payments.pay_with_card(
            security.access_token(), payment["payment_id"], card_token
        )
    except clients.ServiceError as error:
        messages = [m for ms in (error.errors or {}).values() for m in ms]
        return jsonify({"detail": messages[0] if messages else error.detail}), error.status
    return jsonify({"status": answer["status"], "client_secret": answer["client_secret"]})


def status_answer(load: Callable[[], dict], purchase_id: str) -> tuple[Response, int] | Response:
    """What a "confirming your payment" page polls; JSON, so errors are JSON too."""
    if not security.current_user():
        return jsonify({"error": "Sign in again."}), 401
    try:
        purchase = load()
    except clients.ServiceError as error:
        if error.status == 401:
            return jsonify({"error": "Sign in again."}), 401
        return jsonify({"error": error.detail}), error.status
    return jsonify({"id": purchase.get("id", purchase_id), "status": purchase.get("status")})
