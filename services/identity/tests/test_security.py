"""Tokens that must be refused, role checks, and key rotation that signs nobody out."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from services.identity import domain, signing_keys
from services.identity.tests.helpers import admin_token, bearer, student_tokens
from shared.db import utcnow


@pytest.fixture
def identity(services):
    return services("identity")


def claims_of(token: str) -> domain.Claims:
    raw = jwt.decode(token, options={"verify_signature": False})
    return domain.Claims(raw["sub"], tuple(raw["roles"]), raw["email"], raw["name"])


def test_a_request_without_a_token_is_a_401(identity):
    response = identity.client.get("/api/users/me")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_a_garbage_token_is_a_401(identity):
    response = identity.client.get("/api/users/me", headers=bearer("not.a.jwt"))
    assert response.status_code == 401


def test_an_expired_token_signed_by_our_own_key_is_a_401(identity):
    tokens = student_tokens(identity)
    signer = signing_keys.active_signer(identity.runtime.db)
    expired = domain.mint_access_token(
        claims_of(tokens["access_token"]),
        signer.private_key,
        signer.kid,
        utcnow() - timedelta(hours=2),
        timedelta(minutes=15),
    )
    response = identity.client.get("/api/users/me", headers=bearer(expired))
    assert response.status_code == 401
    assert "expired" in response.get_json()["detail"]


def test_a_token_signed_by_another_key_under_our_kid_is_a_401(identity):
    tokens = student_tokens(identity)
    kid = jwt.get_unverified_header(tokens["access_token"])["kid"]
    impostor = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = domain.Claims("someone", ("admin",), "evil@example.com", "Eve")
    forged = domain.mint_access_token(claims, impostor, kid, utcnow(), timedelta(minutes=15))
    response = identity.client.get("/api/admin/users", headers=bearer(forged))
    assert response.status_code == 401


def test_a_student_calling_an_admin_endpoint_is_a_403(identity):
    tokens = student_tokens(identity)
    for method, path in [
        ("get", "/api/admin/users"),
        ("post", "/api/admin/signing-keys/rotate"),
    ]:
        response = getattr(identity.client, method)(path, headers=bearer(tokens["access_token"]))
        assert response.status_code == 403, path
    invite = identity.client.post(
        "/api/admin/users",
        json={"email": "t@example.com", "name": "T", "role": "tutor"},
        headers=bearer(tokens["access_token"]),
    )
    assert invite.status_code == 403


def test_an_admin_lists_users_by_role(identity):
    admin = admin_token(identity)
    student_tokens(identity, email="ada@example.com")
    everyone = identity.client.get("/api/admin/users", headers=bearer(admin))
    assert everyone.status_code == 200
    assert {"ada@example.com", "root@example.com"} <= {u["email"] for u in everyone.get_json()}
    students = identity.client.get("/api/admin/users?role=student", headers=bearer(admin))
    assert [u["email"] for u in students.get_json()] == ["ada@example.com"]
    bad = identity.client.get("/api/admin/users?role=wizard", headers=bearer(admin))
    assert bad.status_code == 422
    assert "role" in bad.get_json()["errors"]


def test_a_token_issued_before_a_key_rotation_still_verifies_after_it(identity):
    admin = admin_token(identity)
    before = student_tokens(identity)
    old_kid = jwt.get_unverified_header(before["access_token"])["kid"]

    rotated = identity.client.post("/api/admin/signing-keys/rotate", headers=bearer(admin))
    assert rotated.status_code == 201
    new_kid = rotated.get_json()["kid"]
    assert new_kid != old_kid

    assert (
        identity.client.get("/api/users/me", headers=bearer(before["access_token"])).status_code
        == 200
    )
    after = identity.client.post(
        "/api/auth/refresh", json={"refresh_token": before["refresh_token"]}
    ).get_json()
    assert jwt.get_unverified_header(after["access_token"])["kid"] == new_kid
    assert (
        identity.client.get("/api/users/me", headers=bearer(after["access_token"])).status_code
        == 200
    )

    keys = identity.client.get("/.well-known/jwks.json").get_json()["keys"]
    assert {k["kid"] for k in keys} == {old_kid, new_kid}
    assert all(k["kty"] == "RSA" and k["alg"] == "RS256" and "d" not in k for k in keys)


def test_jwks_drops_a_key_retired_longer_ago_than_a_token_can_live(identity, monkeypatch):
    first = signing_keys.active_signer(identity.runtime.db).kid
    signing_keys.rotate_signing_key(identity.runtime.uow())
    kids = {k["kid"] for k in identity.client.get("/.well-known/jwks.json").get_json()["keys"]}
    assert first in kids
    monkeypatch.setenv("ACCESS_TOKEN_TTL", str(-2 * 3600))  # as if the key retired long ago
    kids = {k["kid"] for k in identity.client.get("/.well-known/jwks.json").get_json()["keys"]}
    assert first not in kids
    assert len(kids) == 1


def test_the_private_key_is_stored_encrypted(identity):
    import sqlalchemy as sa

    from services.identity.models import SigningKey

    signing_keys.active_signer(identity.runtime.db)
    with identity.runtime.db.session() as s:
        stored = s.scalar(sa.select(SigningKey.private_key))
    assert "PRIVATE KEY" not in stored
