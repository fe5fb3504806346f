"""identity's stand-in: users, login/refresh/logout, password resets, invitations, admin."""

from __future__ import annotations

from flask import Flask, Response, jsonify, request

from services.web.tests.contracts.base import ContractServer, _tokens, _user, problem


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
            # The same answer whether or not the email already has an account.
            body = request.get_json()
            return jsonify({"status": "check-inbox", "email": body["email"].lower()}), 202

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
            return jsonify({**user, **request.get_json()})

        @app.post("/api/password-resets")
        def request_reset():
            return Response(status=202)

        @app.post("/api/password-resets/complete")
        def complete_reset():
            if request.get_json()["token"] == self.EXPIRED_TOKEN:
                return problem(
                    422, "Invalid fields: token", {"token": ["This reset link has expired."]}
                )
            # A token `reset.<email>` resets that account (else the default student's).
            token = request.get_json()["token"]
            email = token.split(".", 1)[1] if token.startswith("reset.") else "student@example.org"
            return jsonify(_user(email))

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
