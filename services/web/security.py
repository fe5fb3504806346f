"""Who is signed in, and the protections every page gets: sessions, CSRF, headers, redirects.

The session lives on the server (services/web/sessions.py: a row in the site's database with
the user and their tokens from identity); Flask's signed cookie (HttpOnly, SameSite=Lax, Secure
behind https) carries only that session's random id, the CSRF token and flashed messages, never
a token. The site verifies nothing itself and lets each service check the access token it is
handed. Every POST must echo the CSRF token back, except RFC 8058 one-click unsubscribe, which
mail providers send without any cookie.
"""

from __future__ import annotations

import hmac
import secrets
import time
import unicodedata
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

from flask import Flask, Response, abort, current_app, flash, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature, URLSafeTimedSerializer
from markupsafe import Markup, escape
from werkzeug.wrappers import Request

from services.web import clients
from services.web.sessions import Session, SessionStore
from shared import config
from shared.http import runtime_of

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


class SignedCookieSessions(SecureCookieSessionInterface):
    """Flask's signed cookie, signed again under the current key when a fallback opened it.

    The cookie rarely changes now that the tokens live on the server (sign-in, a new CSRF token,
    a flashed message), so Flask alone would leave a cookie signed under an old key as it was,
    and dropping that key from SECRET_KEY_FALLBACKS at the end of a rotation would sign out
    everyone who has not signed in since. Re-signing on first use after the rotation keeps
    the promise of docs/operations.md: nobody is signed out by a rotation they were active in.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        opened = super().open_session(app, request)
        cookie = request.cookies.get(self.get_cookie_name(app))
        if opened is None or not cookie or not app.config.get("SECRET_KEY_FALLBACKS"):
            return opened
        current_key_only = URLSafeTimedSerializer(
            app.secret_key,
            salt=self.salt,
            serializer=self.serializer,
            signer_kwargs={
                "key_derivation": self.key_derivation,
                "digest_method": self.digest_method,
            },
        )
        try:
            current_key_only.loads(cookie)
        except BadSignature:
            opened.modified = bool(opened)  # a fallback key opened it: sign it again now
        return opened


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
    app.session_interface = SignedCookieSessions()
    app.extensions["sessions"] = SessionStore(runtime_of(app).db, config.session_settings())
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
    if session.get(SESSION_ID):
        # Pages of a signed-in person must not linger in shared caches or the back button.
        response.headers["Cache-Control"] = "no-store"
    return response


SESSION_ID = "sid"
"""The cookie's key for the server-side session's id (the row's key is its SHA-256)."""


def _store() -> SessionStore:
    return current_app.extensions["sessions"]


def _session() -> Session | None:
    """This request's server-side session, read once (one primary-key read) and kept in g."""
    if "site_session" not in g:
        session_id = session.get(SESSION_ID)
        g.site_session = None  # if the read fails, the error page is drawn as for a visitor
        g.site_session = _store().load(session_id) if session_id else None
        if session_id and g.site_session is None:
            # Ended elsewhere (sign-out, a password reset) or expired: the cookie forgets it.
            session.pop(SESSION_ID, None)
    return g.site_session


def sign_in(tokens: dict[str, Any]) -> None:
    """Start a fresh session (never reuse the anonymous one: session fixation)."""
    _end_this_session()
    session.clear()
    session_id, g.site_session = _store().start(tokens)
    session[SESSION_ID] = session_id
    session["csrf"] = secrets.token_urlsafe(32)


def sign_out() -> Session | None:
    """End this browser's session on the server and forget it here; the session it was."""
    ended = _end_this_session()
    session.clear()
    return ended


def _end_this_session() -> Session | None:
    ended = _session() if session.get(SESSION_ID) else None
    if ended is not None:
        _store().end(ended.key)
    g.site_session = None
    return ended


def end_every_session_of(user_id: str) -> None:
    """Sign an account out of the site on every device (after its password was reset)."""
    _store().end_every_session_of(user_id)
    current = g.get("site_session")
    if current is not None and current.user.get("id") == user_id:
        session.clear()
        g.site_session = None


def update_user(user: dict[str, Any]) -> None:
    """Keep identity's latest view of the person (a rename) in the session."""
    current = _session()
    if current is None or (renamed := _store().rename(current, user)) is None:
        raise SessionExpired()
    g.site_session = renamed


def current_user() -> dict[str, Any] | None:
    current = _session()
    return current.user if current else None


def has_role(*roles: str) -> bool:
    user = current_user()
    return bool(user) and any(r in user.get("roles", []) for r in roles)


def access_token() -> str:
    """The user's access token, refreshed through identity when it is about to expire."""
    current = _session()
    if current is None:
        raise SessionExpired()
    if current.access_expires_at - time.time() > REFRESH_MARGIN_SECONDS:
        return current.access_token
    try:
        tokens = clients.identity.refresh(current.refresh_token)
    except clients.ServiceError as exc:
        raise SessionExpired() from exc
    renewed = _store().renew_tokens(current, tokens)
    if renewed is None:
        raise SessionExpired()  # ended (a password reset, a sign-out) while we refreshed
    g.site_session = renewed
    return renewed.access_token


def login_url(next_path: str | None = None) -> str:
    """The sign-in page, coming back to ``next_path`` (this page by default) if it is local."""
    target = local_path(next_path if next_path is not None else request.full_path.rstrip("?"))
    login = url_for("account_pages.login")
    return f"{login}?{urlencode({'next': target})}" if target else login


SIGN_IN_REASONS: tuple[tuple[str, str], ...] = (
    ("/my/enrollments", "see your enrollments"),
    ("/my/tutoring", "see your tutoring"),
    ("/checkout", "see your checkout"),
    ("/tutoring/packages", "see your checkout"),
    ("/tutoring/plan", "see your study plan"),
    ("/tutoring/progress", "see your progress"),
    ("/tutoring/consultations", "see your consultation"),
    ("/tutoring", "book a tutor"),
    ("/courses", "enroll in a course"),
    ("/account", "see your account"),
    ("/testimonials/new", "share your experience of Preceptor"),
    ("/admin/payments", "see the payments ledger"),
    ("/admin", "see the admin pages"),
    ("/marketing", "see the marketing pages"),
    ("/tutor", "see your tutor pages"),
)
"""What a visitor sent to sign in was on their way to do, by the path's first segments (the
first match wins, so the longer paths come first)."""


def sign_in_reason(path: str | None) -> str:
    """Why a local ``path`` sent its visitor to sign in: "Please sign in to see your enrollments."

    Told why, a visitor knows the sign-in is a step on their way, not where they ended up.
    """
    bare = (path or "").split("?", 1)[0].split("#", 1)[0].rstrip("/")
    for prefix, wanted in SIGN_IN_REASONS:
        if bare == prefix or bare.startswith(prefix + "/"):
            return f"Please sign in to {wanted}."
    return "Please sign in to see that page."


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


MAX_NEXT_LENGTH = 2000
DECODE_ROUNDS = 3
"""Percent-decodings a target is checked after: a browser or a proxy may decode once more
than we expect, and ``%25`` hides one more layer each time."""


def local_path(target: str | None) -> str | None:
    """``target`` if it can only be a path on this site, else None: the one check every
    redirect to a place a request names goes through (an open redirect would make our sign-in
    page a phishing tool).

    Browsers read a Location loosely: they drop tabs and line breaks anywhere (``/%09/evil``,
    once decoded, is slash, tab, slash: ``//evil``), turn a backslash into ``/``, skip leading
    whitespace and decode what they like. Rather than guess at every normalisation, the target
    must need none: it starts with one ``/`` not followed by ``/`` or ``\\``, and neither it nor
    any percent-decoding of it (nor their NFKC forms, where a fullwidth solidus becomes ``/``)
    holds a backslash, whitespace of any script, or a control or invisible format character, nor
    a scheme or a host.
    """
    if not isinstance(target, str) or not target or len(target) > MAX_NEXT_LENGTH:
        return None
    forms = [target]
    try:
        while (decoded := unquote(forms[-1], errors="strict")) != forms[-1]:
            if len(forms) > DECODE_ROUNDS:
                return None  # still encoded after that many rounds: nobody links like that
            forms.append(decoded)
    except UnicodeDecodeError:
        return None  # %-escapes that are not UTF-8: not a path we would have made
    forms += [unicodedata.normalize("NFKC", form) for form in forms]
    return target if all(_plain_local_path(form) for form in forms) else None


def _plain_local_path(text: str) -> bool:
    if not text.startswith("/") or text.startswith("//") or "\\" in text:
        return False
    if any(c.isspace() or unicodedata.category(c)[0] in "CZ" for c in text):
        return False  # C: controls, format (zero-width, bidi), surrogates; Z: every space
    parts = urlsplit(text)
    return not parts.scheme and not parts.netloc


def end_expired_session() -> Response:
    path = request.full_path.rstrip("?") if request.method == "GET" else None
    sign_out()
    flash("Your session has ended. Please sign in again.", "info")
    return redirect(login_url(path or url_for("account_pages.account")))
