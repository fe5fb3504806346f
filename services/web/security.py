"""Who is signed in, and the protections every page gets: cookie session, CSRF, headers.

The session is Flask's signed cookie (HttpOnly, SameSite=Lax, Secure behind https) holding the
user's tokens from identity; the site verifies nothing itself and lets each service check the
access token it is handed. CSRF tokens live in that session and every POST must echo one back,
except RFC 8058 one-click unsubscribe, which mail providers send without any cookie.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Flask, Response, abort, flash, g, redirect, request, session, url_for
from markupsafe import Markup, escape

from services.web import clients
from shared import config

REFRESH_MARGIN_SECONDS = 60
"""Refresh the access token when it has less than this left, so a page never sends a stale one."""

CSRF_EXEMPT_ENDPOINTS = {"email_pages.unsubscribe"}
"""One-click unsubscribe (RFC 8058) arrives from mail providers with no session at all."""

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


class SessionExpired(Exception):
    """The user's tokens no longer work; they must sign in again."""


def install(app: Flask) -> None:
    app.config.update(
        SECRET_KEY=config.secret_key(),
        # Cookies signed under a previous key still open their session (Flask >= 3.1), so a
        # SECRET_KEY rotation signs nobody out; the next change to a session re-signs it.
        SECRET_KEY_FALLBACKS=config.secret_key_fallbacks(),
        SESSION_COOKIE_NAME="preceptor_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.cookie_secure(),
    )
    app.jinja_env.globals.update(
        csrf_token=csrf_token, csrf_field=csrf_field, current_user=current_user
    )
    app.before_request(check_csrf)
    app.after_request(add_security_headers)


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def csrf_field() -> Markup:
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(escape(csrf_token()))


def check_csrf() -> None:
    if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
        return
    if request.endpoint is None or request.endpoint in CSRF_EXEMPT_ENDPOINTS:
        return
    expected = session.get("csrf")
    # Forms send the token as a field; the checkout script sends it as a header.
    sent = request.form.get("csrf_token", "") or request.headers.get("X-CSRF-Token", "")
    if not expected or not sent or not hmac.compare_digest(str(expected), sent):
        abort(400, description="This form has expired. Go back, reload the page and try again.")


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def stripe_content_security_policy() -> str:
    """The policy of a page that runs Stripe.js: its origin may load scripts, frames and fetch.

    Only the checkout page gets it (see ``allow_stripe``); every other page keeps the strict
    same-origin policy. The Stripe API origin joins connect-src too: with localstripe it is the
    Stripe.js origin itself, in production it is https://api.stripe.com, which Stripe.js calls.
    """
    settings = config.stripe_settings()
    js = origin(settings.js_url)
    connect = " ".join(dict.fromkeys((js, origin(settings.api_base))))
    return (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; "
        f"script-src 'self' {js}; frame-src 'self' {js}; "
        f"font-src 'self'; connect-src 'self' {connect}; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


def allow_stripe() -> None:
    """Let this response run Stripe.js (called by the checkout page's view)."""
    g.allow_stripe = True


WIDGET_CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors *"
)
"""The testimonials widget: any site may frame it, and it may do nothing but show itself."""


def allow_framing() -> None:
    """Let any site put this response in an iframe (only the public testimonials widget).

    Every other page keeps ``frame-ancestors 'none'`` and ``X-Frame-Options: DENY`` so no
    site can frame a form and trick a signed-in person into clicking it (clickjacking).
    """
    g.allow_framing = True


def add_security_headers(response: Response) -> Response:
    if g.get("allow_framing"):
        response.headers.setdefault("Content-Security-Policy", WIDGET_CONTENT_SECURITY_POLICY)
        response.headers.pop("X-Frame-Options", None)
        skip = {"X-Frame-Options"}
    else:
        strict = not g.get("allow_stripe")
        policy = CONTENT_SECURITY_POLICY if strict else stripe_content_security_policy()
        response.headers.setdefault("Content-Security-Policy", policy)
        skip = set()
    for name, value in SECURITY_HEADERS.items():
        if name not in skip:
            response.headers.setdefault(name, value)
    if session.get("user"):
        # Pages of a signed-in person must not linger in shared caches or the back button.
        response.headers["Cache-Control"] = "no-store"
    return response


def sign_in(tokens: dict[str, Any]) -> None:
    """Start a fresh session (never reuse the anonymous one: session fixation)."""
    session.clear()
    _store_tokens(tokens)
    session["user"] = _user_fields(tokens["user"])
    session["csrf"] = secrets.token_urlsafe(32)


def sign_out() -> None:
    session.clear()


def _store_tokens(tokens: dict[str, Any]) -> None:
    session["access_token"] = tokens["access_token"]
    session["refresh_token"] = tokens["refresh_token"]
    session["expires_at"] = int(time.time()) + int(tokens.get("expires_in") or 0)


def _user_fields(user: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": user.get("id"),
        "email": user.get("email"),
        "name": user.get("name"),
        "roles": list(user.get("roles") or []),
    }


def update_user(user: dict[str, Any]) -> None:
    session["user"] = _user_fields(user)


def current_user() -> dict[str, Any] | None:
    return session.get("user")


def has_role(*roles: str) -> bool:
    user = current_user()
    return bool(user) and any(r in user.get("roles", []) for r in roles)


def access_token() -> str:
    """The user's access token, refreshed through identity when it is about to expire."""
    token = session.get("access_token")
    refresh_token = session.get("refresh_token")
    if not token or not refresh_token:
        raise SessionExpired()
    if session.get("expires_at", 0) - time.time() > REFRESH_MARGIN_SECONDS:
        return token
    try:
        tokens = clients.identity.refresh(refresh_token)
    except clients.ServiceError as exc:
        raise SessionExpired() from exc
    _store_tokens(tokens)
    if tokens.get("user"):
        update_user(tokens["user"])
    return tokens["access_token"]


def login_url(next_path: str | None = None) -> str:
    target = next_path if next_path is not None else request.full_path.rstrip("?")
    return url_for("account_pages.login") + "?" + urlencode({"next": target})


def login_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user():
            return redirect(login_url())
        return view(*args, **kwargs)

    return wrapper


def role_required(*roles: str) -> Callable:
    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user():
                return redirect(login_url())
            if not has_role(*roles):
                abort(403, description="This page is for staff with the right role.")
            return view(*args, **kwargs)

        return wrapper

    return decorate


def safe_next(target: str | None, default: str) -> str:
    """Only same-site paths: an open redirect would make our login page a phishing tool."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def end_expired_session() -> Response:
    path = request.full_path.rstrip("?") if request.method == "GET" else None
    sign_out()
    flash("Your session has ended. Please sign in again.", "info")
    return redirect(login_url(path or url_for("account_pages.account")))
