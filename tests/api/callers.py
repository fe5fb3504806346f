"""Who calls the APIs in the hardening tests: one signed-in person per role, and a service.

Everyone gets a real access token from the real identity service (students register, staff
accept an admin's invitation, a service presents the service secret), so every other service
checks them exactly as in production: against identity's JWKS.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from services.identity.use_cases import invitations
from shared import config
from shared.auth import ROLES
from shared.testing.fixtures import ServiceUnderTest

PASSWORD = "a long enough password"
ANONYMOUS = "anonymous"
SERVICE = "service"
CALLERS = (ANONYMOUS, *ROLES, SERVICE)
"""Every kind of caller the matrix tries: nobody, each person's role, and a service."""


@dataclass(frozen=True)
class Caller:
    kind: str
    headers: dict[str, str]


def _login(identity: ServiceUnderTest, email: str) -> dict[str, str]:
    r = identity.client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.get_json()
    return {"Authorization": f"Bearer {r.get_json()['access_token']}"}


def _person(identity: ServiceUnderTest, role: str) -> dict[str, str]:
    email = f"{role}@callers.example.com"
    if role == "student":
        r = identity.client.post(
            "/api/users", json={"email": email, "password": PASSWORD, "name": "Sam Student"}
        )
        assert r.status_code == 202, r.get_json()
    else:
        uow = identity.runtime.uow
        _user, token = invitations.invite_user(uow(), email, f"{role.title()} Staff", role)
        invitations.accept_invitation(uow(), token, PASSWORD)
    return _login(identity, email)


def _service(identity: ServiceUnderTest) -> dict[str, str]:
    r = identity.client.post(
        "/api/auth/service-token",
        json={"service": "hardening", "secret": config.service_secret()},
    )
    assert r.status_code == 200, r.get_json()
    return {"Authorization": f"Bearer {r.get_json()['access_token']}"}


def callers(identity: ServiceUnderTest) -> dict[str, Caller]:
    """One caller of each kind in ``CALLERS``, signed in with identity."""
    found = {ANONYMOUS: Caller(ANONYMOUS, {}), SERVICE: Caller(SERVICE, _service(identity))}
    for role in ROLES:
        found[role] = Caller(role, _person(identity, role))
    return {kind: found[kind] for kind in CALLERS}


@pytest.fixture
def people(services) -> tuple[ServiceUnderTest, dict[str, Caller]]:
    """Identity, served over HTTP (other services check tokens against its JWKS), and one
    caller of each kind."""
    identity = services("identity", serve=True)
    return identity, callers(identity)
