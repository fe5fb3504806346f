"""Stand-ins for the identity and email services' HTTP contracts, for the site's tests only.

The site is tested against real HTTP servers that answer the endpoints it calls with canned
JSON shaped like the contract (problem+json errors included) and record every request, so a
test can check exactly what the site sent. They hold no business rules: the real services are
tested in their own folders, and the end-to-end tests run the site against them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.serving import BaseWSGIServer, make_server

from shared.testing.fixtures import free_port


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    json: Any
    headers: dict[str, str]
    body: bytes


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
    """A real HTTP server for one service's contract; ``answer()`` overrides one endpoint."""

    name = "service"

    def __init__(self) -> None:
        self.app = Flask(f"{self.name}-contract")
        self.calls: list[Call] = []
        self._overrides: dict[tuple[str, str], tuple[int, Any]] = {}
        self._server: BaseWSGIServer | None = None
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
                )
            )
            override = self._overrides.get((request.method, request.path))
            if override is None:
                return None
            status, body = override
            if status >= 400 and isinstance(body, dict):
                return problem(status, body.get("detail", "Refused"), body.get("errors"))
            response = jsonify(body) if body is not None else Response(status=status)
            response.status_code = status
            return response

        self.routes(self.app)

    def routes(self, app: Flask) -> None:
        raise NotImplementedError

    def reset(self) -> None:
        """Forget recorded calls and overrides (one server serves a whole test session)."""
        self.calls.clear()
        self._overrides.clear()

    def answer(self, method: str, path: str, status: int, body: Any = None) -> None:
        """Make one endpoint answer ``status`` with ``body`` (a problem's detail/errors if 4xx)."""
        self._overrides[(method, path)] = (status, body)

    def calls_to(self, method: str, path: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.path == path]

    def start(self) -> str:
        self._server = make_server("127.0.0.1", free_port(), self.app, threaded=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
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
        "roles": roles or (["admin"] if email.startswith("admin") else ["student"]),
        "created_at": "2026-11-02T09:00:00+00:00",
    }


def _tokens(user: dict, generation: int = 1, expires_in: int = 900) -> dict:
    return {
        "access_token": f"access-{generation}.{user['email']}",
        "refresh_token": f"refresh.{user['email']}",
        "token_type": "Bearer",
        "expires_in": expires_in,
        "user": user,
    }


class IdentityContract(ContractServer):
    """identity's contract: users, login/refresh/logout, password resets, invitations, admin."""

    name = "identity"
    WRONG_PASSWORD = "wrong-password"
    EXPIRED_TOKEN = "expired"

    def __init__(self) -> None:
        self.access_ttl = 900
        super().__init__()

    def reset(self) -> None:
        super().reset()
        self.access_ttl = 900

    def _bearer_user(self) -> dict | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer access-"):
            return None
        return _user(header.split(".", 1)[1])

    def routes(self, app: Flask) -> None:
        @app.post("/api/users")
        def register():
            body = request.get_json()
            user = _user(body["email"], body["name"])
            return jsonify(user), 201

        @app.post("/api/auth/login")
        def login():
            body = request.get_json()
            if body["password"] == self.WRONG_PASSWORD:
                return problem(401, "Wrong email or password.")
            return jsonify(_tokens(_user(body["email"]), expires_in=self.access_ttl))

        @app.post("/api/auth/refresh")
        def refresh():
            email = request.get_json()["refresh_token"].split(".", 1)[1]
            return jsonify(_tokens(_user(email), generation=2))

        @app.post("/api/auth/logout")
        def logout():
            return Response(status=204)

        @app.get("/api/users/me")
        def me():
            user = self._bearer_user()
            return jsonify(user) if user else problem(401, "Send an access token.")

        @app.patch("/api/users/me")
        def rename():
            user = self._bearer_user()
            if user is None:
                return problem(401, "Send an access token.")
            return jsonify({**user, "name": request.get_json()["name"]})

        @app.post("/api/password-resets")
        def request_reset():
            return Response(status=202)

        @app.post("/api/password-resets/complete")
        def complete_reset():
            if request.get_json()["token"] == self.EXPIRED_TOKEN:
                return problem(
                    422, "Invalid fields: token", {"token": ["This reset link has expired."]}
                )
            return Response(status=204)

        @app.post("/api/invitations/accept")
        def accept_invitation():
            return jsonify(_user("invited@example.org", "Ines Tutor", ["tutor"]))

        @app.get("/api/admin/users")
        def list_users():
            user = self._bearer_user()
            if user is None or "admin" not in user["roles"]:
                return problem(403, "This needs the role admin.")
            return jsonify(
                [
                    {**_user("admin@example.org", "Ann Admin"), "status": "active"},
                    {**_user("tutor@example.org", "Tom Tutor", ["tutor"]), "status": "invited"},
                ]
            )

        @app.post("/api/admin/users")
        def invite():
            body = request.get_json()
            user = _user(body["email"], body["name"], [body["role"]])
            return jsonify({**user, "status": "invited"}), 201


TOPICS = [
    {"slug": "step1", "name": "USMLE Step 1", "description": "Cycles and strategy for Step 1."},
    {"slug": "step2ck", "name": "USMLE Step 2 CK", "description": "Cycles and strategy for CK."},
    {"slug": "tutoring", "name": "Tutoring", "description": "When tutors have openings."},
]


class EmailContract(ContractServer):
    """email's contract: topics, subscriptions, confirmation, preferences, unsubscribe."""

    name = "email"
    SUBSCRIBER = "reader@example.org"
    MISSING_TOKEN = "missing"
    EXPIRED_TOKEN = "expired"

    def routes(self, app: Flask) -> None:
        @app.get("/api/topics")
        def topics():
            return jsonify(TOPICS)

        @app.post("/api/subscriptions")
        def subscribe():
            body = request.get_json()
            return jsonify({"status": "pending", "email": body["email"]}), 202

        @app.post("/api/subscriptions/confirm")
        def confirm():
            if request.get_json()["token"] == self.EXPIRED_TOKEN:
                return problem(422, "Invalid fields: token", {"token": ["This link has expired."]})
            return jsonify(
                {
                    "email": self.SUBSCRIBER,
                    "topics": ["step1"],
                    "status": "confirmed",
                    "manage_token": "manage-abc",
                }
            )

        @app.get("/api/preferences/<token>")
        def preferences(token: str):
            if token == self.MISSING_TOKEN:
                return problem(404, "No subscription for that link.")
            return jsonify({"email": self.SUBSCRIBER, "topics": ["step1"], "status": "confirmed"})

        @app.put("/api/preferences/<token>")
        def save_preferences(token: str):
            topics = request.get_json()["topics"]
            return jsonify({"email": self.SUBSCRIBER, "topics": topics, "status": "confirmed"})

        @app.post("/api/unsubscribe/<token>")
        def unsubscribe(token: str):
            if token == self.MISSING_TOKEN:
                return problem(404, "No subscription for that link.")
            return jsonify({"email": self.SUBSCRIBER, "status": "unsubscribed"})
