"""Verifying who is calling: RS256 JWTs from identity, checked locally against its JWKS.

Services never call identity per request: they cache its public keys and refetch only when a
token names a key they have not seen (which is how key rotation reaches them).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from copy import deepcopy
from dataclasses import dataclass
from functools import wraps
from typing import Any

import jwt
import requests
from flask import current_app, g, request

from shared import config
from shared.errors import Forbidden, Unauthorized, Unavailable
from shared.openapi import ACCESS
from shared.openapi import ROLES as ROLES_KEY

ISSUER = "preceptor-identity"
AUDIENCE = "preceptor"
ALGORITHM = "RS256"
ROLES = ("student", "tutor", "marketing", "admin")
SERVICE = "service"
"""The role of the tokens services present when they call each other (``ServiceTokens``)."""

BEARER = [{"bearer": []}]
"""OpenAPI security requirement of an endpoint that needs an access token."""


@dataclass(frozen=True)
class Principal:
    """The caller of a request, as its token says."""

    user_id: str
    roles: tuple[str, ...]
    email: str | None = None
    name: str | None = None
    token: str | None = None

    def has(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)

    @property
    def is_service(self) -> bool:
        return "service" in self.roles


KeySource = Callable[[], dict[str, Any]]
"""Returns a JWKS document: ``{"keys": [...]}``."""


def http_jwks(url: str | None = None) -> KeySource:
    target = url or f"{config.service_url('identity')}/.well-known/jwks.json"

    def fetch() -> dict[str, Any]:
        try:
            response = requests.get(target, timeout=5)
            response.raise_for_status()
            return response.json()
        except requests.RequestException as exc:
            raise Unavailable("The identity service is not reachable to check the token.") from exc

    return fetch


class TokenVerifier:
    def __init__(self, source: KeySource, ttl: float = 300, min_refetch: float = 10) -> None:
        self.source = source
        self.ttl = ttl
        self.min_refetch = min_refetch
        self._keys: dict[str, Any] = {}
        self._fetched_at = 0.0
        self._lock = threading.Lock()

    def _refresh(self, force: bool) -> None:
        now = time.monotonic()
        with self._lock:
            stale = now - self._fetched_at > self.ttl
            if not (stale or (force and now - self._fetched_at > self.min_refetch)):
                return
            jwks = self.source()
            self._keys = {
                k["kid"]: jwt.PyJWK(k, algorithm=ALGORITHM).key for k in jwks.get("keys", [])
            }
            self._fetched_at = now

    def key_for(self, kid: str) -> Any:
        self._refresh(force=False)
        if kid not in self._keys:
            self._refresh(force=True)
        if kid not in self._keys:
            raise Unauthorized("The token was signed by a key we do not know.")
        return self._keys[kid]

    def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized("The token is malformed.") from exc
        if header.get("alg") != ALGORITHM or not header.get("kid"):
            raise Unauthorized("The token is not signed the way we sign tokens.")
        key = self.key_for(header["kid"])
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("The token has expired.") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"The token is not valid: {exc}.") from exc
        if claims.get("typ") != "access":
            raise Unauthorized("That is not an access token.")
        return Principal(
            user_id=claims["sub"],
            roles=tuple(claims.get("roles", ())),
            email=claims.get("email"),
            name=claims.get("name"),
            token=token,
        )


def install(app: Any, verifier: TokenVerifier) -> None:
    """Choose how an app verifies tokens (identity verifies against its own keys)."""
    app.extensions["token_verifier"] = verifier


def verifier() -> TokenVerifier:
    extensions = current_app.extensions
    if "token_verifier" not in extensions:
        extensions["token_verifier"] = TokenVerifier(http_jwks())
    return extensions["token_verifier"]


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def current_principal(optional: bool = False) -> Principal | None:
    if "principal" in g:
        return g.principal
    token = bearer_token()
    if token is None:
        if optional:
            return None
        raise Unauthorized("Send an access token: Authorization: Bearer <token>.")
    g.principal = verifier().verify(token)
    return g.principal


def _declare(fn: Callable, **doc: Any) -> Callable:
    """Write who may call ``fn`` into its OpenAPI operation (flask-smorest's ``manual_doc``).

    flask-smorest's decorators above keep a copy of it, so the route's operation carries it.
    """
    apidoc = deepcopy(getattr(fn, "_apidoc", {}))
    apidoc.setdefault("manual_doc", {}).update(doc)
    fn._apidoc = apidoc  # type: ignore[attr-defined]
    return fn


def require(*roles: str) -> Callable:
    """Endpoint decorator: a valid token, and (if roles are named) one of those roles.

    The requirement is also declared in the endpoint's OpenAPI operation (``security``,
    ``x-access`` and ``x-roles``), where the access-matrix test reads it.
    """

    def decorate(fn: Callable) -> Callable:
        @wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            if roles and not principal.has(*roles):
                raise Forbidden(f"This needs the role {' or '.join(roles)}.")
            return fn(*args, **kwargs)

        if roles:
            return _declare(wrapper, security=BEARER, **{ACCESS: "roles", ROLES_KEY: list(roles)})
        return _declare(wrapper, security=BEARER, **{ACCESS: "signed-in"})

    return decorate


def public(*, optional_token: bool = False) -> Callable:
    """Endpoint decorator declaring that anyone may call it, without a token.

    Public on purpose, not by omission: every operation declares who may call it. With
    ``optional_token`` the endpoint also reads a bearer token when one is sent.
    """
    security = [*BEARER, {}] if optional_token else []

    def decorate(fn: Callable) -> Callable:
        return _declare(fn, security=security, **{ACCESS: "public"})

    return decorate


def shared_secret(security: list[dict[str, list[str]]] | None = None) -> Callable:
    """Endpoint decorator declaring that no person's token opens it: the caller shows a
    shared secret or a signature (webhooks, service credentials), which the endpoint checks."""

    def decorate(fn: Callable) -> Callable:
        return _declare(fn, security=security or [], **{ACCESS: "secret"})

    return decorate


def declared_access(view: Callable | None) -> tuple[str | None, tuple[str, ...]]:
    """What an endpoint's view declares about its callers: (x-access, x-roles)."""
    doc = getattr(view, "_apidoc", {}).get("manual_doc", {})
    return doc.get(ACCESS), tuple(doc.get(ROLES_KEY, ()))


def check_declared_access(view: Callable | None) -> None:
    """Refuse a caller the endpoint's declaration does not let in, before the endpoint runs.

    Called by every service's request hook, so the declaration is enforced at the door: a
    caller without a token gets 401 and a wrong role 403 before the body is parsed or
    anything is looked up, whatever order the endpoint's decorators are in.
    """
    kind, roles = declared_access(view)
    if kind not in ("signed-in", "roles"):
        return
    principal = current_principal()
    if roles and not principal.has(*roles):
        raise Forbidden(f"This needs the role {' or '.join(roles)}.")


def ensure_owner(principal: Principal, owner_id: str, *, staff: Iterable[str] = ("admin",)) -> None:
    """Only the owner (or staff) may see a person's data; others are refused."""
    if principal.user_id != owner_id and not principal.has(*staff):
        raise Forbidden("That belongs to someone else.")


class ServiceTokens:
    """Tokens this service presents when it calls another service on its own behalf."""

    def __init__(self, service: str, identity_url: str | None = None) -> None:
        self.service = service
        self.url = f"{identity_url or config.service_url('identity')}/api/auth/service-token"
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def token(self) -> str:
        with self._lock:
            if self._token is None or time.time() > self._expires - 60:
                response = requests.post(
                    self.url,
                    json={"service": self.service, "secret": config.service_secret()},
                    timeout=5,
                )
                response.raise_for_status()
                body = response.json()
                self._token = body["access_token"]
                self._expires = time.time() + body["expires_in"]
            return self._token
