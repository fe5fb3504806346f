"""The synchronous call enrollment and tutoring make: asking payments for a checkout (§2).

A student is waiting for the answer, so it is HTTP with a short timeout; every failure
(payments or identity unreachable, a 5xx, an answer we cannot read) becomes
:class:`PaymentsUnavailable` (503), and the caller decides what to undo. Each service calls
with its own service token and names its ``purchase_kind``.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from shared import config, context
from shared.auth import ServiceTokens
from shared.errors import PaymentsUnavailable

log = logging.getLogger(__name__)

TIMEOUT = 10


class PaymentsClient:
    """Payments' HTTP API, called with the calling service's own service token."""

    def __init__(
        self,
        service: str,
        base_url: str | None = None,
        tokens: ServiceTokens | None = None,
    ) -> None:
        self.service = service
        self._base_url = base_url
        self._tokens = tokens
        self._lock = threading.Lock()
        self._local = threading.local()

    @property
    def base_url(self) -> str:
        return (self._base_url or config.service_url("payments")).rstrip("/")

    def tokens(self) -> ServiceTokens:
        # Made on first use: identity's address is read from the environment then, not at import.
        with self._lock:
            if self._tokens is None:
                self._tokens = ServiceTokens(self.service)
            return self._tokens

    def create_intent(
        self,
        *,
        purchase_kind: str,
        purchase_ref: str,
        user_id: str,
        email: str,
        name: str,
        amount_minor: int,
        currency: str,
        description: str,
    ) -> dict[str, Any]:
        """The PaymentIntent of a purchase: created once, the same one on every later call."""
        body = {
            "purchase_ref": purchase_ref,
            "purchase_kind": purchase_kind,
            "user_id": user_id,
            "email": email,
            "name": name,
            "amount_minor": amount_minor,
            "currency": currency,
            "description": description,
        }
        response = self._call("POST", "/api/payment-intents", json=body)
        if response.status_code not in (200, 201):
            raise self._refused(response)
        return self._json(response, ("payment_id", "client_secret", "publishable_key", "js_url"))

    def payment(self, purchase_ref: str) -> dict[str, Any] | None:
        """What payments knows of a purchase (None if no payment was ever started for it)."""
        response = self._call("GET", f"/api/payments/by-purchase/{purchase_ref}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self._refused(response)
        return self._json(response, ("payment_id", "status"))

    def _session(self) -> requests.Session:
        """This thread's HTTP session: its connection to payments is kept open between calls
        (a session per call paid a TCP handshake and the session's own setup every time).
        Sessions are not shared between threads, which requests does not promise is safe."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            # One more try when a kept-open connection turns out closed by the server (it
            # drops idle ones after a few seconds): both calls are idempotent, a checkout is
            # the same one for the same purchase however often it is asked for.
            retry = Retry(total=1, connect=1, read=1, status=0, allowed_methods=None)
            session.mount("http://", HTTPAdapter(max_retries=retry))
            session.mount("https://", HTTPAdapter(max_retries=retry))
        return session

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        try:
            token = self.tokens().token()
            return self._session().request(
                method,
                f"{self.base_url}{path}",
                headers={
                    "Authorization": f"Bearer {token}",
                    "X-Correlation-ID": context.current_correlation_id(),
                },
                timeout=TIMEOUT,
                **kwargs,
            )
        except (requests.RequestException, KeyError, ValueError) as exc:
            log.warning("payments unreachable", extra={"path": path, "error": str(exc)[:300]})
            raise PaymentsUnavailable(
                "Payments cannot be reached right now; nothing was charged. Try again shortly."
            ) from exc

    @staticmethod
    def _refused(response: requests.Response) -> PaymentsUnavailable:
        log.warning(
            "payments refused a call",
            extra={"status": response.status_code, "body": response.text[:300]},
        )
        return PaymentsUnavailable(
            "Payments could not start the checkout; nothing was charged. Try again shortly."
        )

    @staticmethod
    def _json(response: requests.Response, needed: tuple[str, ...]) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError as exc:
            raise PaymentsUnavailable("Payments answered something we cannot read.") from exc
        if not isinstance(body, dict) or any(k not in body for k in needed):
            raise PaymentsUnavailable("Payments answered something we cannot read.")
        return body


def for_runtime(runtime: Any) -> PaymentsClient:
    """The process's one client (its service token is cached across requests and jobs)."""
    return runtime.extras.setdefault("payments", PaymentsClient(runtime.service))
