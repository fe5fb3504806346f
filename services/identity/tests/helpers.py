"""Steps the identity tests share: they go through the real API and use cases, never around them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from services.identity.models import User
from services.identity.use_cases import invitations
from shared.testing.fixtures import ServiceUnderTest

PASSWORD = "correct horse battery"


def register(
    identity: ServiceUnderTest,
    email: str = "ada@example.com",
    password: str = PASSWORD,
    name: str = "Ada Lovelace",
):
    return identity.client.post(
        "/api/users", json={"email": email, "password": password, "name": name}
    )


def login(identity: ServiceUnderTest, email: str = "ada@example.com", password: str = PASSWORD):
    return identity.client.post("/api/auth/login", json={"email": email, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def student_tokens(identity: ServiceUnderTest, email: str = "ada@example.com") -> dict[str, Any]:
    assert register(identity, email=email).status_code == 202
    response = login(identity, email=email)
    assert response.status_code == 200
    return response.get_json()


def admin_token(identity: ServiceUnderTest, email: str = "root@example.com") -> str:
    """An admin signed in through the invitation flow (the seeded admin's password is random)."""
    _user, token = invitations.invite_user(identity.runtime.uow(), email, "Root Admin", "admin")
    invitations.accept_invitation(identity.runtime.uow(), token, PASSWORD)
    response = login(identity, email=email)
    assert response.status_code == 200
    return response.get_json()["access_token"]


def outbox(identity: ServiceUnderTest, event_type: str) -> list[dict[str, Any]]:
    return identity.recorded(event_type)


def user_count(identity: ServiceUnderTest) -> int:
    with identity.runtime.db.session() as s:
        return s.scalar(sa.select(sa.func.count()).select_from(User))
