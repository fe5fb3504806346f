"""Registering, signing in and out, and refresh-token rotation, through the HTTP API."""

from __future__ import annotations

import pytest

from services.identity.tests.helpers import (
    PASSWORD,
    bearer,
    login,
    outbox,
    register,
    student_tokens,
    user_count,
)
from shared import config


@pytest.fixture
def identity(services):
    return services("identity")


def test_a_student_registers_logs_in_and_reads_their_account(identity):
    created = register(identity, email="Ada@Example.com")
    assert created.status_code == 202
    assert created.get_json() == {"status": "check-inbox", "email": "ada@example.com"}

    signed_in = login(identity, email="ADA@example.com")
    assert signed_in.status_code == 200
    body = signed_in.get_json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    user = body["user"]
    assert user["email"] == "ada@example.com"
    assert user["roles"] == ["student"]
    assert set(user) >= {"id", "email", "name", "roles", "created_at"}
    assert "password" not in user
    assert body["refresh_token"]

    me = identity.client.get("/api/users/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.get_json()["id"] == user["id"]
    assert outbox(identity, "user.registered") == [
        {
            "user_id": user["id"],
            "email": "ada@example.com",
            "name": "Ada Lovelace",
            "roles": ["student"],
            "time_zone": None,
        }
    ]


def test_a_person_changes_their_name(identity):
    tokens = student_tokens(identity)
    response = identity.client.patch(
        "/api/users/me", json={"name": "Ada King"}, headers=bearer(tokens["access_token"])
    )
    assert response.status_code == 200
    assert response.get_json()["name"] == "Ada King"
    me = identity.client.get("/api/users/me", headers=bearer(tokens["access_token"]))
    assert me.get_json()["name"] == "Ada King"


def test_a_person_chooses_the_time_zone_they_read_times_in_and_mail_learns_it(identity):
    tokens = student_tokens(identity)
    headers = bearer(tokens["access_token"])
    assert identity.client.get("/api/users/me", headers=headers).get_json()["time_zone"] is None

    chosen = identity.client.patch(
        "/api/users/me", json={"time_zone": "Asia/Kolkata"}, headers=headers
    )
    again = identity.client.patch(
        "/api/users/me", json={"time_zone": "Asia/Kolkata"}, headers=headers
    )
    cleared = identity.client.patch("/api/users/me", json={"time_zone": None}, headers=headers)

    assert chosen.status_code == again.status_code == cleared.status_code == 200
    assert chosen.get_json()["time_zone"] == "Asia/Kolkata"
    assert chosen.get_json()["name"] == "Ada Lovelace"  # the name is left as it was
    assert cleared.get_json()["time_zone"] is None
    user_id = chosen.get_json()["id"]
    # One event per change (the repeat changed nothing), so email keeps the person's clock.
    assert outbox(identity, "user.time_zone_changed") == [
        {"user_id": user_id, "email": "ada@example.com", "time_zone": "Asia/Kolkata"},
        {"user_id": user_id, "email": "ada@example.com", "time_zone": None},
    ]


def test_an_unknown_time_zone_is_a_422_naming_the_field_and_changes_nothing(identity):
    tokens = student_tokens(identity)
    headers = bearer(tokens["access_token"])

    for zone in ("Mars/Olympus_Mons", "", "America/New York", 42):
        refused = identity.client.patch("/api/users/me", json={"time_zone": zone}, headers=headers)
        assert refused.status_code == 422, zone
        assert refused.headers["Content-Type"].startswith("application/problem+json")
        assert "time_zone" in refused.get_json()["errors"]

    assert identity.client.get("/api/users/me", headers=headers).get_json()["time_zone"] is None
    assert outbox(identity, "user.time_zone_changed") == []


def test_registration_may_carry_the_browsers_zone(identity):
    created = identity.client.post(
        "/api/users",
        json={
            "email": "ada@example.com",
            "password": PASSWORD,
            "name": "Ada Lovelace",
            "time_zone": "America/New_York",
        },
    )

    assert created.status_code == 202
    assert login(identity).get_json()["user"]["time_zone"] == "America/New_York"
    [registered] = outbox(identity, "user.registered")
    assert registered["time_zone"] == "America/New_York"


def test_registering_a_taken_email_answers_as_for_a_new_one_and_mails_the_owner(identity):
    new = register(identity)
    before = user_count(identity)
    again = register(identity, email="ADA@EXAMPLE.COM", password="another password!", name="Eve")
    assert again.status_code == new.status_code == 202
    assert again.get_data() == new.get_data()
    assert again.headers.get("Content-Type") == new.headers.get("Content-Type")
    assert user_count(identity) == before
    assert len(outbox(identity, "user.registered")) == 1
    [notice] = outbox(identity, "user.registration_attempted")
    owner = login(identity).get_json()["user"]
    assert notice == {"user_id": owner["id"], "email": "ada@example.com", "name": "Ada Lovelace"}
    assert login(identity, password="another password!").status_code == 401  # nothing changed


def test_a_flood_of_registrations_of_a_taken_email_mails_its_owner_at_most_the_limit(
    identity, monkeypatch
):
    monkeypatch.setenv("MAIL_REQUEST_LIMIT", "2")
    first = register(identity)
    answers = {register(identity).get_data() for _ in range(6)}
    assert answers == {first.get_data()}
    assert len(outbox(identity, "user.registration_attempted")) == 2


def test_a_wrong_password_and_an_unknown_email_get_the_same_401(identity):
    register(identity)
    wrong = login(identity, password="not the password")
    unknown = login(identity, email="nobody@example.com")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json()["detail"] == unknown.get_json()["detail"]
    assert wrong.get_json()["title"] == unknown.get_json()["title"]


def test_logins_are_refused_with_429_after_too_many_failures(identity, monkeypatch):
    monkeypatch.setenv("LOGIN_RATE_LIMIT", "3")
    monkeypatch.setenv("LOGIN_CLIENT_RATE_LIMIT", "3")
    monkeypatch.setenv("LOGIN_RATE_WINDOW", "600")
    register(identity)
    for _ in range(3):
        assert login(identity, password="not the password").status_code == 401
    limited = login(identity)  # even the right password waits
    assert limited.status_code == 429
    assert limited.mimetype == "application/problem+json"
    assert 1 <= int(limited.headers["Retry-After"]) <= 601


def test_failures_from_one_address_throttle_every_email_it_tries(identity, monkeypatch):
    monkeypatch.setenv("LOGIN_RATE_LIMIT", "2")
    monkeypatch.setenv("LOGIN_CLIENT_RATE_LIMIT", "2")
    register(identity)
    assert login(identity, email="one@example.com").status_code == 401
    assert login(identity, email="two@example.com").status_code == 401
    assert login(identity).status_code == 429


def test_a_refresh_returns_new_tokens_and_retires_the_old_refresh_token(identity):
    first = student_tokens(identity)
    refreshed = identity.client.post(
        "/api/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert refreshed.status_code == 200
    second = refreshed.get_json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["user"]["email"] == "ada@example.com"
    me = identity.client.get("/api/users/me", headers=bearer(second["access_token"]))
    assert me.status_code == 200
    third = identity.client.post(
        "/api/auth/refresh", json={"refresh_token": second["refresh_token"]}
    )
    assert third.status_code == 200


def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(identity):
    first = student_tokens(identity)
    second = identity.client.post(
        "/api/auth/refresh", json={"refresh_token": first["refresh_token"]}
    ).get_json()
    replay = identity.client.post(
        "/api/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert replay.status_code == 401
    # the thief's replay also kills the token the rightful owner holds
    latest = identity.client.post(
        "/api/auth/refresh", json={"refresh_token": second["refresh_token"]}
    )
    assert latest.status_code == 401


def test_an_unknown_refresh_token_is_a_401(identity):
    response = identity.client.post("/api/auth/refresh", json={"refresh_token": "made-up"})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_logout_revokes_the_refresh_token_and_repeats_harmlessly(identity):
    tokens = student_tokens(identity)
    body = {"refresh_token": tokens["refresh_token"]}
    assert identity.client.post("/api/auth/logout", json=body).status_code == 204
    assert identity.client.post("/api/auth/logout", json=body).status_code == 204
    assert identity.client.post("/api/auth/refresh", json=body).status_code == 401


def test_logging_out_one_session_leaves_the_others_signed_in(identity):
    laptop = student_tokens(identity)
    phone = login(identity).get_json()
    identity.client.post("/api/auth/logout", json={"refresh_token": laptop["refresh_token"]})
    response = identity.client.post(
        "/api/auth/refresh", json={"refresh_token": phone["refresh_token"]}
    )
    assert response.status_code == 200


def test_a_service_with_the_shared_secret_gets_a_service_token(identity):
    response = identity.client.post(
        "/api/auth/service-token",
        json={"service": "enrollment", "secret": config.service_secret()},
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    with identity.app.app_context():
        from shared import auth

        principal = auth.verifier().verify(body["access_token"])
    assert principal.user_id == "service:enrollment"
    assert principal.roles == ("service",)


def test_a_wrong_service_secret_is_a_401(identity):
    response = identity.client.post(
        "/api/auth/service-token", json={"service": "enrollment", "secret": "guess"}
    )
    assert response.status_code == 401
    assert "access_token" not in response.get_json()


def test_a_service_token_has_no_account_to_read(identity):
    token = identity.client.post(
        "/api/auth/service-token",
        json={"service": "enrollment", "secret": config.service_secret()},
    ).get_json()["access_token"]
    response = identity.client.get("/api/users/me", headers=bearer(token))
    assert response.status_code == 403


def test_the_password_is_never_stored_in_clear(identity):
    register(identity)
    import sqlalchemy as sa

    from services.identity.models import User

    with identity.runtime.db.session() as s:
        stored = s.scalar(sa.select(User.password_hash))
    assert PASSWORD not in stored
    assert stored.startswith("$argon2id$")


def test_a_hash_made_with_other_argon2_parameters_is_replaced_at_the_next_sign_in(identity):
    """When argon2's parameters change (a library upgrade raises its defaults), each account
    moves to the new ones the next time its person signs in, with no reset mail."""
    import sqlalchemy as sa
    from argon2 import PasswordHasher

    from services.identity import domain
    from services.identity.models import User

    register(identity)
    older = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1).hash(PASSWORD)
    with identity.runtime.db.session() as s:
        s.execute(
            sa.update(User).where(User.email == "ada@example.com").values(password_hash=older)
        )
        s.commit()

    assert login(identity).status_code == 200

    with identity.runtime.db.session() as s:
        stored = s.scalar(sa.select(User.password_hash).where(User.email == "ada@example.com"))
    assert stored != older and not domain.needs_rehash(stored)
    assert domain.password_matches(stored, PASSWORD)
