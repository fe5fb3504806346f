"""Invitations and password resets: emailed links that work once, and the events they cause."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from services.identity.models import LinkToken
from services.identity.tests.helpers import (
    PASSWORD,
    admin_token,
    bearer,
    login,
    outbox,
    register,
    student_tokens,
)
from shared.bus.consumer import EventConsumer
from shared.bus.handlers import Handlers
from shared.db import utcnow
from shared.testing.fixtures import wait_for

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def identity(services):
    return services("identity")


def invite(identity, admin: str, email: str = "tutor@example.com", role: str = "tutor"):
    return identity.client.post(
        "/api/admin/users",
        json={"email": email, "name": "Tess Tutor", "role": role},
        headers=bearer(admin),
    )


def test_an_invited_tutor_accepts_the_invitation_and_logs_in(identity):
    admin = admin_token(identity)
    created = invite(identity, admin)
    assert created.status_code == 201
    tutor = created.get_json()
    assert tutor["roles"] == ["tutor"]
    assert tutor["status"] == "invited"

    early = login(identity, email="tutor@example.com")
    assert early.status_code == 403

    [invited] = [e for e in outbox(identity, "user.invited") if e["user_id"] == tutor["id"]]
    assert invited["role"] == "tutor"
    accepted = identity.client.post(
        "/api/invitations/accept", json={"token": invited["token"], "password": PASSWORD}
    )
    assert accepted.status_code == 200
    assert accepted.get_json()["status"] == "active"

    signed_in = login(identity, email="tutor@example.com")
    assert signed_in.status_code == 200
    assert signed_in.get_json()["user"]["roles"] == ["tutor"]
    registered = [e for e in outbox(identity, "user.registered") if e["user_id"] == tutor["id"]]
    assert registered == [
        {
            "user_id": tutor["id"],
            "email": "tutor@example.com",
            "name": "Tess Tutor",
            "roles": ["tutor"],
            "time_zone": None,
        }
    ]

    again = identity.client.post(
        "/api/invitations/accept", json={"token": invited["token"], "password": NEW_PASSWORD}
    )
    assert again.status_code == 422
    assert "token" in again.get_json()["errors"]


def test_invitation_and_registration_events_reach_a_consumer_on_the_bus(identity):
    received: dict[str, list[dict]] = {"user.invited": [], "user.registered": []}
    probe = Handlers("probe")

    @probe.on("user.invited")
    def on_invited(event, uow):
        received["user.invited"].append(event.data)

    @probe.on("user.registered")
    def on_registered(event, uow):
        received["user.registered"].append(event.data)

    consumer = EventConsumer("probe", probe, identity.runtime.uow, identity.runtime.broker)
    consumer.open()
    try:
        admin = admin_token(identity)
        tutor = invite(identity, admin).get_json()
        [invited] = [e for e in outbox(identity, "user.invited") if e["user_id"] == tutor["id"]]
        identity.client.post(
            "/api/invitations/accept", json={"token": invited["token"], "password": PASSWORD}
        )
        identity.relay.relay_once()
        wait_for(
            lambda: (
                consumer.poll(0.2) == 0
                and any(e["user_id"] == tutor["id"] for e in received["user.registered"])
            ),
            message="the tutor's user.registered",
        )
    finally:
        consumer.close()
    [got] = [e for e in received["user.invited"] if e["user_id"] == tutor["id"]]
    assert got["email"] == "tutor@example.com"
    assert got["token"] == invited["token"]
    assert got["expires_at"]


def test_inviting_a_student_or_a_taken_email_is_refused(identity):
    admin = admin_token(identity)
    student = invite(identity, admin, role="student")
    assert student.status_code == 422
    assert "role" in student.get_json()["errors"]
    register(identity, email="ada@example.com")
    taken = invite(identity, admin, email="ADA@example.com")
    assert taken.status_code == 409
    assert "email" in taken.get_json()["errors"]


def test_a_password_reset_link_works_once_and_the_old_password_stops_working(identity):
    tokens = student_tokens(identity)
    response = identity.client.post("/api/password-resets", json={"email": "Ada@example.com"})
    assert response.status_code == 202
    assert response.get_json() == {"status": "sent"}
    [requested] = outbox(identity, "user.password_reset_requested")
    assert requested["email"] == "ada@example.com"

    done = identity.client.post(
        "/api/password-resets/complete",
        json={"token": requested["token"], "password": NEW_PASSWORD},
    )
    assert done.status_code == 200
    # the account, so the site can end its own sessions of it on every device
    assert done.get_json()["id"] == tokens["user"]["id"]
    assert login(identity, password=PASSWORD).status_code == 401
    assert login(identity, password=NEW_PASSWORD).status_code == 200
    # every session of the account was signed out
    stale = identity.client.post(
        "/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert stale.status_code == 401

    again = identity.client.post(
        "/api/password-resets/complete",
        json={"token": requested["token"], "password": "yet another passphrase"},
    )
    assert again.status_code == 422
    assert "token" in again.get_json()["errors"]
    assert login(identity, password=NEW_PASSWORD).status_code == 200


def test_a_reset_for_an_unknown_email_looks_the_same_and_sends_nothing(identity):
    response = identity.client.post("/api/password-resets", json={"email": "nobody@example.com"})
    assert response.status_code == 202
    assert response.get_json() == {"status": "sent"}
    assert outbox(identity, "user.password_reset_requested") == []


def test_an_expired_reset_link_is_refused(identity):
    register(identity)
    identity.client.post("/api/password-resets", json={"email": "ada@example.com"})
    [requested] = outbox(identity, "user.password_reset_requested")
    with identity.runtime.db.session() as s, s.begin():
        s.execute(sa.update(LinkToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    response = identity.client.post(
        "/api/password-resets/complete",
        json={"token": requested["token"], "password": NEW_PASSWORD},
    )
    assert response.status_code == 422
    assert "token" in response.get_json()["errors"]
    assert login(identity).status_code == 200


def test_a_forged_reset_token_is_refused(identity):
    response = identity.client.post(
        "/api/password-resets/complete",
        json={"token": "eyJ1IjoiYWRtaW4ifQ.forged.sig", "password": NEW_PASSWORD},
    )
    assert response.status_code == 422
    assert "token" in response.get_json()["errors"]


def test_a_short_new_password_is_refused_and_the_link_still_works(identity):
    register(identity)
    identity.client.post("/api/password-resets", json={"email": "ada@example.com"})
    [requested] = outbox(identity, "user.password_reset_requested")
    short = identity.client.post(
        "/api/password-resets/complete", json={"token": requested["token"], "password": "short"}
    )
    assert short.status_code == 422
    assert "password" in short.get_json()["errors"]
    ok = identity.client.post(
        "/api/password-resets/complete",
        json={"token": requested["token"], "password": NEW_PASSWORD},
    )
    assert ok.status_code == 200
