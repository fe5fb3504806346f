"""The address of the person behind a request, even when the site made the request for them.

Browsers reach the services through the site, so a service sees the site's address on every
sign-in. A limit per client address would then be one limit for everybody (five wrong passwords
anywhere locked every account out). The site therefore sends the browser's address in
``X-Preceptor-Client-Address``, with a timestamp and an HMAC under a key derived from
``SERVICE_SECRET``: only a holder of that secret (the site, or another service) can vouch for an
address, and a captured header stops working after ``FRESH_SECONDS``. A service believes the
header only when its MAC is right and it is fresh; otherwise (a browser calling an API directly,
a forged or stale header) the address is the connection's own, ``request.remote_addr``.

The site learns the browser's address behind reverse proxies from ``TRUSTED_PROXIES``
(werkzeug's ``ProxyFix`` over ``X-Forwarded-For``), never from a header a browser could set.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from flask import has_request_context, request

from shared import config

HEADER = "X-Preceptor-Client-Address"
FRESH_SECONDS = 60
"""How long a signed address is believed; generous for clock skew between hosts."""
MAX_LENGTH = 64
UNKNOWN = "unknown"


def _key() -> bytes:
    # A key of its own, so a MAC made here can never be mistaken for any other use of the secret.
    return hmac.new(
        config.service_secret().encode(), b"preceptor client address", hashlib.sha256
    ).digest()


def _mac(address: str, stamp: str) -> str:
    return hmac.new(_key(), f"{address}\n{stamp}".encode(), hashlib.sha256).hexdigest()


def vouch(address: str, now: float | None = None) -> str:
    """The header value that tells a service ``address`` is the client's."""
    address = address[:MAX_LENGTH]
    stamp = str(int(time.time() if now is None else now))
    return f"{address} {stamp} {_mac(address, stamp)}"


def verified(value: str | None, now: float | None = None) -> str | None:
    """The address in a header value, or None unless its MAC is right and it is fresh."""
    if not value:
        return None
    parts = value.rsplit(" ", 2)
    if len(parts) != 3:
        return None
    address, stamp, mac = parts
    if not address or len(address) > MAX_LENGTH or not stamp.isdigit():
        return None
    if not hmac.compare_digest(mac, _mac(address, stamp)):
        return None
    age = (time.time() if now is None else now) - int(stamp)
    if not -FRESH_SECONDS <= age <= FRESH_SECONDS:
        return None
    return address


def of_request() -> str:
    """The client's address for rate limits: a vouched-for one, else the connection's."""
    vouched = verified(request.headers.get(HEADER))
    if vouched is not None:
        return vouched
    return (request.remote_addr or UNKNOWN)[:MAX_LENGTH]


def forwarded() -> dict[str, str]:
    """Headers for a call made on behalf of the current request (empty outside one)."""
    if not has_request_context():
        return {}
    return {HEADER: vouch(of_request())}
