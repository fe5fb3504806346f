"""Accounts, sign-in and invitations at the identity service."""

from __future__ import annotations

from services.web.clients.base import ServiceClient


class IdentityClient(ServiceClient):
    def __init__(self) -> None:
        super().__init__("identity")

    def register(self, email: str, password: str, name: str, time_zone: str | None = None) -> dict:
        """Answers the same whether or not the email already has an account. ``time_zone``: the
        browser's, kept as the account's until the person chooses another."""
        body = {"email": email, "password": password, "name": name}
        if time_zone:
            body["time_zone"] = time_zone
        return self.call("POST", "/api/users", json=body)

    def login(self, email: str, password: str) -> dict:
        return self.call("POST", "/api/auth/login", json={"email": email, "password": password})

    def refresh(self, refresh_token: str) -> dict:
        return self.call("POST", "/api/auth/refresh", json={"refresh_token": refresh_token})

    def logout(self, refresh_token: str) -> None:
        self.call("POST", "/api/auth/logout", json={"refresh_token": refresh_token})

    def me(self, token: str) -> dict:
        return self.call("GET", "/api/users/me", token=token)

    def rename(self, token: str, name: str) -> dict:
        return self.call("PATCH", "/api/users/me", json={"name": name}, token=token)

    def set_time_zone(self, token: str, time_zone: str | None) -> dict:
        """The zone the person reads times in; None: the browser's again."""
        return self.call("PATCH", "/api/users/me", json={"time_zone": time_zone}, token=token)

    def request_password_reset(self, email: str) -> None:
        self.call("POST", "/api/password-resets", json={"email": email})

    def complete_password_reset(self, token: str, password: str) -> dict:
        """The account whose password changed (identity signed it out everywhere)."""
        return self.call(
            "POST", "/api/password-resets/complete", json={"token": token, "password": password}
        )

    def accept_invitation(self, token: str, password: str) -> dict:
        return self.call(
            "POST", "/api/invitations/accept", json={"token": token, "password": password}
        )

    def list_users(self, token: str) -> list[dict]:
        return self.call("GET", "/api/admin/users", token=token)

    def invite(self, token: str, email: str, name: str, role: str) -> dict:
        return self.call(
            "POST",
            "/api/admin/users",
            json={"email": email, "name": name, "role": role},
            token=token,
        )
