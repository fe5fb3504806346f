"""A SECRET_KEY rotation signs nobody out: emailed links and stored signing keys keep working
while the old key is in SECRET_KEY_FALLBACKS, and the worker moves the keys under the new one."""

from __future__ import annotations

import jwt
import pytest
import sqlalchemy as sa

from services.identity import domain, signing_keys, worker
from services.identity.models import SigningKey
from services.identity.tests.helpers import (
    PASSWORD,
    admin_token,
    bearer,
    login,
    outbox,
    register,
    student_tokens,
)

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def identity(services):
    return services("identity")


def request_reset(identity, email: str = "ada@example.com") -> str:
    assert identity.client.post("/api/password-resets", json={"email": email}).status_code == 202
    return outbox(identity, "user.password_reset_requested")[-1]["token"]


def complete_reset(identity, token: str):
    return identity.client.post(
        "/api/password-resets/complete", json={"token": token, "password": NEW_PASSWORD}
    )


def stored_keys(identity) -> dict[str, str]:
    with identity.runtime.db.session() as s:
        return dict(s.execute(sa.select(SigningKey.kid, SigningKey.private_key)).all())


def test_a_reset_link_sent_before_the_rotation_works_while_the_old_key_is_a_fallback(
    identity, secret_key_rotation
):
    register(identity)
    token = request_reset(identity)

    secret_key_rotation.rotate()

    assert complete_reset(identity, token).status_code == 200
    assert login(identity, password=NEW_PASSWORD).status_code == 200


def test_a_reset_link_sent_before_the_rotation_is_refused_once_the_fallback_is_dropped(
    identity, secret_key_rotation
):
    register(identity)
    old_link = request_reset(identity)
    secret_key_rotation.rotate()
    new_link = request_reset(identity)

    secret_key_rotation.drop_fallback()

    refused = complete_reset(identity, old_link)
    assert refused.status_code == 422
    assert "token" in refused.get_json()["errors"]
    assert login(identity, password=PASSWORD).status_code == 200
    # A link sent after the rotation was signed with the new key alone.
    assert complete_reset(identity, new_link).status_code == 200


def test_identity_signs_and_verifies_across_the_rotation_and_then_without_the_old_key(
    identity, secret_key_rotation
):
    before = student_tokens(identity)
    kid = jwt.get_unverified_header(before["access_token"])["kid"]

    secret_key_rotation.rotate()
    # The stored key was encrypted under the old key: it is read through the fallback.
    during = login(identity)
    assert during.status_code == 200
    assert jwt.get_unverified_header(during.get_json()["access_token"])["kid"] == kid

    assert worker.reencrypt_signing_keys(identity.runtime) == {"reencrypted": 1, "unreadable": 0}
    assert worker.reencrypt_signing_keys(identity.runtime) == {"reencrypted": 0, "unreadable": 0}
    secret_key_rotation.drop_fallback()

    after = login(identity)
    assert after.status_code == 200
    assert jwt.get_unverified_header(after.get_json()["access_token"])["kid"] == kid
    for tokens in (before, during.get_json(), after.get_json()):
        me = identity.client.get("/api/users/me", headers=bearer(tokens["access_token"]))
        assert me.status_code == 200
    refreshed = identity.client.post(
        "/api/auth/refresh", json={"refresh_token": before["refresh_token"]}
    )
    assert refreshed.status_code == 200


def test_dropping_the_fallback_before_re_encrypting_leaves_the_signing_key_unreadable(
    identity, secret_key_rotation
):
    signing_keys.active_signer(identity.runtime.db)
    secret_key_rotation.drop_fallback()

    with pytest.raises(domain.UnreadableSigningKey):
        signing_keys.active_signer(identity.runtime.db)
    assert worker.reencrypt_signing_keys(identity.runtime) == {"reencrypted": 0, "unreadable": 1}


def test_a_signing_key_made_after_the_rotation_is_encrypted_under_the_new_key(
    identity, secret_key_rotation
):
    admin = admin_token(identity)
    secret_key_rotation.rotate()

    rotated = identity.client.post("/api/admin/signing-keys/rotate", headers=bearer(admin))
    assert rotated.status_code == 201
    new_kid = rotated.get_json()["kid"]

    stored = stored_keys(identity)[new_kid]
    domain.decrypt_private_key(stored, [secret_key_rotation.new])
    with pytest.raises(domain.UnreadableSigningKey):
        domain.decrypt_private_key(stored, [secret_key_rotation.old])
