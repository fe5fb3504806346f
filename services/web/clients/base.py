"""Calling one service: JSON over HTTP as the user, problem+json answers as ``ServiceError``.

A service that cannot be reached (down, timed out, failing on its side) becomes
``ServiceUnavailable``, which the site shows as a friendly 503 page, never a 500.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import requests

from shared import client_address, config, context

# The name it had when the clients were one module, so log routing and filters still match.
log = logging.getLogger("services.web.clients")

TIMEOUT = 5.0


class ServiceError(Exception):
    """A service refused the request; ``errors`` maps form fields to messages."""

    def __init__(
        self,
        status: int,
        detail: str,
        errors: dict[str, list[str]] | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
        self.errors: dict[str, list[str]] = errors or {}
        self.retry_after = retry_after
        """Seconds the service asked us to wait (its ``Retry-After``), so a page can say how long."""

    def first(self, field: str) -> str | None:
        messages = self.errors.get(field)
        return messages[0] if messages else None


class ServiceUnavailable(Exception):
    """A service did not answer (down, timed out, or failing on its side)."""

    def __init__(self, service: str, reason: str) -> None:
        super().__init__(f"{service} unavailable: {reason}")
        self.service = service
        self.reason = reason


def _as_error(response: requests.Response) -> ServiceError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    raw_errors = body.get("errors") or {}
    errors: dict[str, list[str]] = {}
    if isinstance(raw_errors, dict):
        for field, messages in raw_errors.items():
            if isinstance(messages, str):
                messages = [messages]
            errors[str(field)] = [str(m) for m in messages or []]
    detail = body.get("detail") or body.get("title") or response.reason or "Request refused"
    wait = response.headers.get("Retry-After", "")
    retry_after = int(wait) if wait.isdigit() else None
    return ServiceError(response.status_code, str(detail), errors, retry_after)


class ServiceClient:
    """JSON over HTTP to one service, with the ids that let one grep follow a request."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.session = requests.Session()

    @property
    def base_url(self) -> str:
        # Read at call time: tests and deployments point the site at services by environment.
        return config.service_url(self.service)

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        token: str | None = None,
    ) -> Any:
        # The browser's address, vouched for, so per-client limits see the person, not the site.
        headers = {"Accept": "application/json", **client_address.forwarded()}
        request_id = context.request_id.get()
        correlation_id = context.correlation_id.get()
        if request_id:
            headers["X-Request-ID"] = request_id
        if correlation_id:
            headers["X-Correlation-ID"] = correlation_id
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            response = self.session.request(
                method, f"{self.base_url}{path}", json=json, headers=headers, timeout=TIMEOUT
            )
        except requests.RequestException as exc:
            log.warning(
                "service unreachable",
                extra={"target": self.service, "path": path, "error": type(exc).__name__},
            )
            raise ServiceUnavailable(self.service, type(exc).__name__) from exc
        if response.status_code >= 500:
            log.warning(
                "service failed",
                extra={"target": self.service, "path": path, "status": response.status_code},
            )
            raise ServiceUnavailable(self.service, f"HTTP {response.status_code}")
        if response.status_code >= 400:
            raise _as_error(response)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise ServiceUnavailable(self.service, "answer was not JSON") from exc

    # Every service with data answers these (shared/operations.py); admins only.

    def operations(self, token: str, events: int = 20) -> dict:
        """The service's outbox backlog, dead letters and last handled events."""
        return self.call("GET", f"/api/admin/operations?events={int(events)}", token=token)

    def replay_dead_letters(self, token: str, ids: list[str] | None = None) -> dict:
        """Replay the named dead letters, or every one when ``ids`` is None."""
        body: dict[str, Any] = {"all": True} if ids is None else {"ids": ids}
        path = "/api/admin/operations/dead-letters/replay"
        return self.call("POST", path, json=body, token=token)


def segment(value: str) -> str:
    """A token as one URL path segment, so it can never reach another endpoint."""
    return quote(value, safe="")
