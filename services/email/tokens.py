"""Signed links in emails (itsdangerous), one salt per purpose so a token cannot be reused.

The confirmation token names the subscriber and the opt-in round (``nonce``) and lives 7 days.
The manage token (preferences and unsubscribe) names only the subscriber and lives a year, so
the unsubscribe link of an old email keeps working, across a SECRET_KEY rotation too while the
old key is in SECRET_KEY_FALLBACKS (``shared.link_signing``).
"""

from __future__ import annotations

from datetime import timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer

from services.email.domain import InvalidConfirmation, SubscriptionNotFound
from shared.link_signing import link_serializer

CONFIRM_SALT = "preceptor.email.confirm"
MANAGE_SALT = "preceptor.email.manage"
CONFIRM_MAX_AGE = timedelta(days=7)
MANAGE_MAX_AGE = timedelta(days=365)


def _serializer(salt: str, issued_at: float | None = None) -> URLSafeTimedSerializer:
    return link_serializer(salt, issued_at=issued_at)


def confirm_token(subscriber_id: str, nonce: str, *, issued_at: float | None = None) -> str:
    """``issued_at`` (epoch seconds) backdates a token, which is how tests see one expire."""
    return _serializer(CONFIRM_SALT, issued_at).dumps({"s": subscriber_id, "n": nonce})


def read_confirm_token(token: str) -> tuple[str, str]:
    try:
        data = _serializer(CONFIRM_SALT).loads(token, max_age=int(CONFIRM_MAX_AGE.total_seconds()))
        return str(data["s"]), str(data["n"])
    except (BadSignature, KeyError, TypeError) as exc:
        raise InvalidConfirmation() from exc


def manage_token(subscriber_id: str, *, issued_at: float | None = None) -> str:
    return _serializer(MANAGE_SALT, issued_at).dumps({"s": subscriber_id})


def read_manage_token(token: str) -> str:
    try:
        data = _serializer(MANAGE_SALT).loads(token, max_age=int(MANAGE_MAX_AGE.total_seconds()))
        return str(data["s"])
    except (BadSignature, KeyError, TypeError) as exc:
        raise SubscriptionNotFound() from exc


RECIPIENT_SALT = "preceptor.email.campaign-recipient"
RECIPIENT_MAX_AGE = timedelta(days=365)


def recipient_token(campaign_id: str, address: str, *, issued_at: float | None = None) -> str:
    """The unsubscribe link of a campaign email: it names the address and the campaign.

    It is accepted by the same preferences and unsubscribe endpoints as the manage token.
    """
    return _serializer(RECIPIENT_SALT, issued_at).dumps({"c": campaign_id, "e": address})


def read_recipient_token(token: str) -> tuple[str, str] | None:
    """``(campaign_id, address)``, or None if the token is not a campaign recipient's."""
    try:
        data = _serializer(RECIPIENT_SALT).loads(
            token, max_age=int(RECIPIENT_MAX_AGE.total_seconds())
        )
        return str(data["c"]), str(data["e"])
    except (BadSignature, KeyError, TypeError):
        return None


OPT_OUT_SALT = "preceptor.email.opt-out"
OPT_OUT_MAX_AGE = timedelta(days=365)


def opt_out_token(kind: str, address: str, *, issued_at: float | None = None) -> str:
    """The unsubscribe link of an opt-out kind (a weekly digest): it names the kind and the
    address, so leaving it stops that kind only. It lives a year, like the manage token, so an
    old digest's link still works; the same preferences and unsubscribe endpoints take it."""
    return _serializer(OPT_OUT_SALT, issued_at).dumps({"k": kind, "e": address})


def read_opt_out_token(token: str) -> tuple[str, str] | None:
    """``(kind, address)``, or None if the token is not an opt-out link's."""
    try:
        data = _serializer(OPT_OUT_SALT).loads(token, max_age=int(OPT_OUT_MAX_AGE.total_seconds()))
        return str(data["k"]), str(data["e"])
    except (BadSignature, KeyError, TypeError):
        return None
