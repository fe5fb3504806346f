"""Identity's rules on their own: no database, no HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from services.identity import domain
from shared.auth import AUDIENCE, ISSUER

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_emails_are_compared_lowercased_and_trimmed():
    assert domain.normalize_email("  Ada@Example.COM ") == "ada@example.com"


@pytest.mark.parametrize("password", ["short", "x" * 9, "x" * 201])
def test_a_password_outside_10_to_200_characters_is_refused(password):
    with pytest.raises(domain.WeakPassword) as err:
        domain.hash_password(password)
    assert err.value.field == "password"


def test_a_hashed_password_matches_only_itself_and_is_argon2():
    hashed = domain.hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert domain.password_matches(hashed, "correct horse battery")
    assert not domain.password_matches(hashed, "correct horse battery!")
    assert not domain.password_matches(None, "correct horse battery")
    assert not domain.password_matches("not a hash", "correct horse battery")


def test_an_invited_account_cannot_log_in_before_choosing_a_password():
    with pytest.raises(domain.InvitationPending):
        domain.check_can_log_in(domain.INVITED, None)
    domain.check_can_log_in(domain.ACTIVE, "$argon2id$...")


def test_only_staff_roles_can_be_invited():
    for role in ("tutor", "marketing", "admin"):
        domain.check_staff_role(role)
    with pytest.raises(domain.DomainError) as err:
        domain.check_staff_role("student")
    assert err.value.field == "role"


def test_a_revoked_refresh_token_shown_again_is_a_reuse():
    later = NOW + timedelta(days=1)
    assert domain.judge_refresh(None, later, NOW) == domain.RefreshDecision.ROTATE
    assert domain.judge_refresh(NOW, later, NOW) == domain.RefreshDecision.REUSED
    assert domain.judge_refresh(None, NOW, NOW) == domain.RefreshDecision.EXPIRED


def test_the_database_keeps_only_a_digest_of_a_bearer_secret():
    token = domain.new_opaque_token()
    assert len(token) >= 40
    assert domain.token_digest(token) != token
    assert domain.token_digest(token) == domain.token_digest(token)


def test_a_link_token_reads_back_only_for_its_purpose_and_secret():
    links = domain.LinkTokens(["secret-one"])
    token = links.make(domain.PASSWORD_RESET, "user-1")
    assert links.read(domain.PASSWORD_RESET, token, timedelta(hours=1)) == "user-1"
    with pytest.raises(domain.InvalidLinkToken) as err:
        links.read(domain.INVITATION, token, timedelta(days=7))
    assert err.value.field == "token"
    with pytest.raises(domain.InvalidLinkToken):
        domain.LinkTokens(["secret-two"]).read(domain.PASSWORD_RESET, token, timedelta(hours=1))
    with pytest.raises(domain.InvalidLinkToken):
        links.read(domain.PASSWORD_RESET, token + "x", timedelta(hours=1))


def test_a_used_or_expired_link_is_refused():
    with pytest.raises(domain.InvalidLinkToken, match="already used"):
        domain.check_link_usable(NOW, NOW + timedelta(hours=1), NOW)
    with pytest.raises(domain.InvalidLinkToken, match="expired"):
        domain.check_link_usable(None, NOW, NOW)
    domain.check_link_usable(None, NOW + timedelta(seconds=1), NOW)


def test_a_signing_key_is_stored_encrypted_and_signs_tokens_its_jwk_verifies():
    made = domain.generate_signing_key(["the secret key"])
    assert "PRIVATE KEY" not in made.private_pem_encrypted
    private = domain.decrypt_private_key(made.private_pem_encrypted, ["the secret key"])
    token = domain.mint_access_token(
        domain.Claims("user-1", ("student",), "ada@example.com", "Ada"),
        private,
        made.kid,
        datetime.now(UTC),
        timedelta(minutes=15),
    )
    assert jwt.get_unverified_header(token)["kid"] == made.kid
    public = jwt.PyJWK(made.public_jwk).key
    claims = jwt.decode(token, public, algorithms=["RS256"], audience=AUDIENCE, issuer=ISSUER)
    assert claims["sub"] == "user-1"
    assert claims["typ"] == "access"
    assert claims["roles"] == ["student"]
    assert claims["exp"] - claims["iat"] == 900
    assert made.public_jwk["kty"] == "RSA" and "d" not in made.public_jwk


def test_a_signing_key_cannot_be_decrypted_under_another_secret_key():
    made = domain.generate_signing_key(["the secret key"])
    with pytest.raises(domain.UnreadableSigningKey):
        domain.decrypt_private_key(made.private_pem_encrypted, ["another secret key"])


def test_a_retired_key_stays_published_for_the_token_lifetime_plus_an_hour():
    ttl = timedelta(minutes=15)
    assert domain.key_published(None, ttl, NOW)
    assert domain.key_published(NOW - timedelta(minutes=74), ttl, NOW)
    assert not domain.key_published(NOW - timedelta(minutes=76), ttl, NOW)


def test_service_secrets_compare_exactly():
    assert domain.same_secret("abc", "abc")
    assert not domain.same_secret("abc", "abd")
    assert not domain.same_secret("", "abc")


# --- SECRET_KEY rotation -------------------------------------------------------------------------


def test_a_link_signed_under_the_old_secret_key_reads_only_while_it_is_a_fallback():
    token = domain.LinkTokens(["old key"]).make(domain.PASSWORD_RESET, "user-1")
    rotated = domain.LinkTokens(["new key", "old key"])
    assert rotated.read(domain.PASSWORD_RESET, token, timedelta(hours=1)) == "user-1"
    with pytest.raises(domain.InvalidLinkToken):
        domain.LinkTokens(["new key"]).read(domain.PASSWORD_RESET, token, timedelta(hours=1))


def test_after_a_rotation_new_links_are_signed_with_the_new_secret_key():
    token = domain.LinkTokens(["new key", "old key"]).make(domain.PASSWORD_RESET, "user-1")
    new_only = domain.LinkTokens(["new key"])
    assert new_only.read(domain.PASSWORD_RESET, token, timedelta(hours=1)) == "user-1"
    with pytest.raises(domain.InvalidLinkToken):
        domain.LinkTokens(["old key"]).read(domain.PASSWORD_RESET, token, timedelta(hours=1))


def test_a_signing_key_stored_under_the_old_secret_key_decrypts_through_the_fallback():
    made = domain.generate_signing_key(["old key"])
    private = domain.decrypt_private_key(made.private_pem_encrypted, ["new key", "old key"])
    assert domain.public_jwk(private.public_key(), made.kid) == made.public_jwk
    with pytest.raises(domain.UnreadableSigningKey):
        domain.decrypt_private_key(made.private_pem_encrypted, ["new key"])


def test_re_encrypting_moves_a_signing_key_under_the_current_secret_key_once():
    made = domain.generate_signing_key(["old key"])
    again = domain.reencrypted_private_key(made.private_pem_encrypted, ["new key", "old key"])
    assert again is not None
    private = domain.decrypt_private_key(again, ["new key"])
    assert domain.public_jwk(private.public_key(), made.kid) == made.public_jwk
    assert domain.reencrypted_private_key(again, ["new key", "old key"]) is None
    with pytest.raises(domain.UnreadableSigningKey):
        domain.reencrypted_private_key(made.private_pem_encrypted, ["new key"])


def test_a_new_signing_key_is_encrypted_under_the_current_secret_key():
    made = domain.generate_signing_key(["new key", "old key"])
    domain.decrypt_private_key(made.private_pem_encrypted, ["new key"])
    with pytest.raises(domain.UnreadableSigningKey):
        domain.decrypt_private_key(made.private_pem_encrypted, ["old key"])


def test_secret_keys_must_be_a_list_not_one_string():
    # A bare string would be taken as one key per letter, its last letter signing.
    with pytest.raises(TypeError):
        domain.LinkTokens("the secret key")
    with pytest.raises(TypeError):
        domain.generate_signing_key("the secret key")
