"""What every service stand-in shares: a real HTTP server recording its calls, problem+json,
and the bearer tokens the identity stand-in hands out (``access-N.<email>``).

The stand-ins hold no business rules: whatever a page shows that a rule decides comes in the
owning service's answer, and ``test_contracts.py`` checks every answer against that service's
OpenAPI document so a stand-in cannot drift from the real API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, g, jsonify, request
from werkzeug.serving import BaseWSGIServer

from services.web.tests.contracts import openapi_check
from shared.testing.fixtures import serve_in_thread


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    json: Any
    headers: dict[str, str]
    body: bytes
    query: dict[str, str]


def problem(status: int, detail: str, errors: dict[str, list[str]] | None = None) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": detail, "status": status}
    body["detail"] = detail
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


class ContractServer:
    """A real HTTP server for one service's contract; ``answer()`` overrides one endpoint.

    Every answer of its own is checked against the real service's OpenAPI document as it is
    sent; what does not fit is kept in ``drifts`` (the ``*_api`` fixtures fail the test that
    saw it). An ``answer()`` override is the test's own scenario, sometimes deliberately
    outside the contract (a malformed row, a status the service never sends), so not checked.
    """

    name = "service"

    def __init__(self) -> None:
        self.app = Flask(f"{self.name}-contract")
        self.calls: list[Call] = []
        self._overrides: dict[tuple[str, str], tuple[int, Any]] = {}
        self._server: BaseWSGIServer | None = None
        self.drifts: list[str] = []
        self.url = ""

        @self.app.before_request
        def record() -> Response | None:
            self.calls.append(
                Call(
                    request.method,
                    request.path,
                    request.get_json(silent=True),
                    dict(request.headers),
                    request.get_data(),
                    request.args.to_dict(),
                )
            )
            override = self._overrides.get((request.method, request.path))
            if override is None:
                return None
            g.overridden = True  # a test's own "suppose it answered this": not checked
            status, body = override
            if status >= 400 and isinstance(body, dict):
                return problem(status, body.get("detail", "Refused"), body.get("errors"))
            response = jsonify(body) if body is not None else Response(status=status)
            response.status_code = status
            return response

        @self.app.after_request
        def check(response: Response) -> Response:
            checked = response.status_code < 500 and not g.get("overridden")
            if checked and response.mimetype.endswith("json"):
                found = openapi_check.drift(
                    self.name,
                    request.method,
                    request.path,
                    response.status_code,
                    response.get_json(),
                )
                if found:
                    self.drifts.append(found)
            return response

        self.routes(self.app)
        self._operations_routes(self.app)

    def routes(self, app: Flask) -> None:
        raise NotImplementedError

    def _operations_routes(self, app: Flask) -> None:
        """Every service with data answers the shared operations API (shared/operations.py)."""

        @app.get("/api/admin/operations", endpoint="contract_operations")
        def operations():
            if not request.headers.get("Authorization", "").startswith("Bearer access-"):
                return problem(401, "Send an access token.")
            return jsonify(
                {
                    "service": self.name,
                    "outbox": {"backlog": 0, "oldest_age_seconds": None},
                    "last_events": [],
                    "dead_letters": [],
                    "problems": [],
                }
            )

        @app.post("/api/admin/operations/dead-letters/replay", endpoint="contract_replay")
        def replay():
            body = request.get_json() or {}
            return jsonify({"service": self.name, "replayed": len(body.get("ids") or [1])})

    def reset(self) -> None:
        """Forget recorded calls and overrides (one server serves a whole test session)."""
        self.calls.clear()
        self._overrides.clear()
        self.drifts.clear()

    def answer(self, method: str, path: str, status: int, body: Any = None) -> None:
        """Make one endpoint answer ``status`` with ``body`` (a problem's detail/errors if 4xx)."""
        self._overrides[(method, path)] = (status, body)

    def calls_to(self, method: str, path: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.path == path]

    def start(self) -> str:
        self._server = serve_in_thread(self.app)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()


def _user(email: str, name: str = "Ada Student", roles: list[str] | None = None) -> dict:
    return {
        "id": f"user-{email.split('@')[0]}",
        "email": email,
        "name": name,
        "roles": roles or _roles_of(email),
        "time_zone": "Asia/Kolkata" if email.startswith("kolkata") else None,
        "status": "active",
        "created_at": "2026-11-02T09:00:00+00:00",
    }


def _roles_of(email: str) -> list[str]:
    for role in ("admin", "tutor", "marketing"):
        if email.startswith(role):
            return [role]
    return ["student"]


def _tokens(user: dict, generation: int = 1, expires_in: int = 900) -> dict:
    return {
        "access_token": f"access-{generation}.{user['email']}",
        "refresh_token": f"refresh.{user['email']}",
        "token_type": "Bearer",
        "expires_in": expires_in,
        "user": user,
    }


def _bearer() -> dict | None:
    """The user a stand-in's caller is, from the identity stand-in's ``access-N.<email>`` token."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer access-"):
        return None
    return _user(header.split(".", 1)[1])


def _staff() -> tuple[dict | None, Response | None]:
    """Marketing screens' rule: marketing or admin; 401 without a token, 403 for anyone else."""
    user = _bearer()
    if user is None:
        return None, problem(401, "Send an access token.")
    if not {"marketing", "admin"} & set(user["roles"]):
        return None, problem(403, "This needs the role marketing or admin.")
    return user, None


def _invalid(errors: dict[str, list[str]]) -> Response:
    return problem(422, "Invalid fields: " + ", ".join(sorted(errors)), errors)
