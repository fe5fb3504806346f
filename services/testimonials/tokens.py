"""The signed, expiring secret of a testimonial request link (itsdangerous, its own salt).

The token names only the request; who is asked and about what is the request row's. It lives
``REQUEST_VALID_DAYS`` days: an expired token is told apart from a forged one (410 vs 404).
"""

from __future__ import annotations

from datetime import timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from services.testimonials import domain
from shared.link_signing import link_serializer

REQUEST_SALT = "preceptor.testimonials.request"
REQUEST_MAX_AGE = timedelta(days=domain.REQUEST_VALID_DAYS)


class Expired(Exception):
    """The token was ours, but its time is up."""


class Invalid(Exception):
    """The token is not one we signed (tampered, truncated, another salt)."""


def _serializer(issued_at: float | None = None) -> URLSafeTimedSerializer:
    return link_serializer(REQUEST_SALT, issued_at=issued_at)


def request_token(request_id: str, *, issued_at: float | None = None) -> str:
    """``issued_at`` (epoch seconds) backdates a token, which is how tests see one expire."""
    return _serializer(issued_at).dumps({"r": request_id})


def read_request_token(token: str) -> str:
    """The request id the token names; :class:`Expired` or :class:`Invalid` otherwise."""
    try:
        data = _serializer().loads(token, max_age=int(REQUEST_MAX_AGE.total_seconds()))
        return str(data["r"])
    except SignatureExpired as exc:
        raise Expired() from exc
    except (BadSignature, KeyError, TypeError) as exc:
        raise Invalid() from exc
