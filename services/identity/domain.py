"""Identity's rules: who may sign in, how secrets are kept, and when a token is still good.

Nothing here touches Flask, a database session or the broker, so every rule is testable in
microseconds; the use cases (``use_cases/``) load rows, ask these functions, and commit.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from shared.auth import ALGORITHM, AUDIENCE, ISSUER
from shared.errors import Conflict, DomainError, Forbidden, TooManyRequests, Unauthorized
from shared.link_signing import checked_keys, link_serializer

ROLES = ("student", "tutor", "marketing", "admin")
STAFF_ROLES = ("tutor", "marketing", "admin")
"""Roles an admin gives by invitation; nobody can register themselves into them."""

ACTIVE = "active"
INVITED = "invited"

PASSWORD_MIN = 10
PASSWORD_MAX = 200
EMAIL_MAX = 254
NAME_MAX = 100

INVITATION_TTL = timedelta(days=7)
PASSWORD_RESET_TTL = timedelta(hours=1)
JWKS_GRACE = timedelta(hours=1)
"""How long past its lifetime a retired key stays in the JWKS (clock skew, slow caches)."""

INVITATION = "invitation"
PASSWORD_RESET = "password_reset"


# --- errors in the business's words -----------------------------------------------------------


class EmailTaken(Conflict):
    title = "That email already has an account"


class InvalidCredentials(Unauthorized):
    title = "Wrong email or password"


class InvitationPending(Forbidden):
    title = "This account has not chosen a password yet"


class LoginThrottled(TooManyRequests):
    title = "Too many failed logins; wait before trying again"


class InvalidRefreshToken(Unauthorized):
    title = "The refresh token is not valid"


class InvalidServiceCredentials(Unauthorized):
    title = "Wrong service credentials"


class InvalidLinkToken(DomainError):
    title = "This link is invalid, expired or already used"


class WeakPassword(DomainError):
    title = "The password does not meet the rules"


class NotAUser(Forbidden):
    title = "This token does not belong to a person's account"


# --- people ------------------------------------------------------------------------------------


def normalize_email(email: str) -> str:
    """Emails compare case-insensitively: one spelling per person, stored lowercased."""
    return email.strip().lower()


def check_password_rules(password: str) -> None:
    if len(password) < PASSWORD_MIN:
        raise WeakPassword(f"Use at least {PASSWORD_MIN} characters.", field="password")
    if len(password) > PASSWORD_MAX:
        raise WeakPassword(f"Use at most {PASSWORD_MAX} characters.", field="password")


_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    check_password_rules(password)
    return _hasher.hash(password)


def password_matches(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


_DUMMY_HASH = _hasher.hash("a password nobody has, to spend the same time")


def spend_verification_time(password: str) -> None:
    """Verify against a dummy hash so an unknown email costs as long as a wrong password."""
    password_matches(_DUMMY_HASH, password)


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def check_can_log_in(status: str, password_hash: str | None) -> None:
    if status == INVITED or not password_hash:
        raise InvitationPending("Choose a password with the link in your invitation email first.")


def check_staff_role(role: str) -> None:
    if role not in STAFF_ROLES:
        raise DomainError(f"Invite one of: {', '.join(STAFF_ROLES)}.", field="role")


# --- opaque secrets ----------------------------------------------------------------------------


def new_opaque_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What the database keeps of a bearer secret: a leak of the table gives no usable token."""
    return hashlib.sha256(token.encode()).hexdigest()


def same_secret(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


# --- signed links (invitation, password reset) --------------------------------------------------


class LinkTokens:
    """Signed, expiring tokens for email links; the database remembers each one's use.

    ``secret_keys`` are the current SECRET_KEY first (it signs), then the fallbacks (they only
    verify), so a link sent before a key rotation still works while its key is a fallback.
    """

    def __init__(self, secret_keys: Sequence[str]) -> None:
        self._secret_keys = checked_keys(secret_keys)

    def _serializer(self, purpose: str) -> URLSafeTimedSerializer:
        return link_serializer(f"preceptor.identity.{purpose}", keys=self._secret_keys)

    def make(self, purpose: str, user_id: str) -> str:
        return self._serializer(purpose).dumps({"u": user_id, "n": secrets.token_urlsafe(16)})

    def read(self, purpose: str, token: str, max_age: timedelta) -> str:
        """The user id the token names, if its signature and age are good."""
        try:
            data = self._serializer(purpose).loads(token, max_age=int(max_age.total_seconds()))
        except SignatureExpired as exc:
            raise InvalidLinkToken("This link has expired.", field="token") from exc
        except BadSignature as exc:
            raise InvalidLinkToken("This link is not valid.", field="token") from exc
        if not isinstance(data, dict) or not isinstance(data.get("u"), str):
            raise InvalidLinkToken("This link is not valid.", field="token")
        return data["u"]


def check_link_usable(used_at: datetime | None, expires_at: datetime, now: datetime) -> None:
    if used_at is not None:
        raise InvalidLinkToken("This link was already used.", field="token")
    if expires_at <= now:
        raise InvalidLinkToken("This link has expired.", field="token")


# --- refresh tokens ----------------------------------------------------------------------------


class RefreshDecision:
    ROTATE = "rotate"
    REUSED = "reused"
    EXPIRED = "expired"


def judge_refresh(revoked_at: datetime | None, expires_at: datetime, now: datetime) -> str:
    """A revoked token shown again means it was stolen or replayed: the family must die."""
    if revoked_at is not None:
        return RefreshDecision.REUSED
    if expires_at <= now:
        return RefreshDecision.EXPIRED
    return RefreshDecision.ROTATE


# --- signing keys ------------------------------------------------------------------------------


def _fernet(secret_key: str) -> Fernet:
    derived = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"preceptor-identity",
        info=b"signing-key-encryption",
    ).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def key_cipher(secret_keys: Sequence[str]) -> MultiFernet:
    """Fernet keys derived from SECRET_KEY, so a copy of the database alone cannot sign tokens.

    The first (current) key encrypts; every key decrypts, so signing keys stored under a
    previous SECRET_KEY stay readable while it is in SECRET_KEY_FALLBACKS.
    """
    return MultiFernet([_fernet(k) for k in checked_keys(secret_keys)])


@dataclass(frozen=True)
class NewSigningKey:
    kid: str
    private_pem_encrypted: str
    public_jwk: dict[str, Any]


def generate_signing_key(secret_keys: Sequence[str]) -> NewSigningKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    kid = uuid.uuid4().hex
    return NewSigningKey(
        kid=kid,
        private_pem_encrypted=key_cipher(secret_keys).encrypt(pem).decode(),
        public_jwk=public_jwk(private.public_key(), kid),
    )


def public_jwk(public_key: rsa.RSAPublicKey, kid: str) -> dict[str, Any]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(public_key))
    jwk.update(kid=kid, use="sig", alg=ALGORITHM)
    return jwk


class UnreadableSigningKey(RuntimeError):
    """The stored key was encrypted under a SECRET_KEY that is neither current nor a fallback."""


def _unreadable() -> UnreadableSigningKey:
    return UnreadableSigningKey(
        "the signing key cannot be decrypted: it was stored under a SECRET_KEY that is neither"
        " SECRET_KEY nor in SECRET_KEY_FALLBACKS"
    )


def decrypt_private_key(encrypted: str, secret_keys: Sequence[str]) -> rsa.RSAPrivateKey:
    try:
        pem = key_cipher(secret_keys).decrypt(encrypted.encode())
    except InvalidToken as exc:
        raise _unreadable() from exc
    return serialization.load_pem_private_key(pem, password=None)


def reencrypted_private_key(encrypted: str, secret_keys: Sequence[str]) -> str | None:
    """The stored key encrypted under the current SECRET_KEY, or None if it already is.

    Once every stored key is under the current SECRET_KEY, the previous one can leave
    SECRET_KEY_FALLBACKS without identity losing its keys.
    """
    try:
        _fernet(checked_keys(secret_keys)[0]).decrypt(encrypted.encode())
        return None
    except InvalidToken:
        pass
    try:
        return key_cipher(secret_keys).rotate(encrypted.encode()).decode()
    except InvalidToken as exc:
        raise _unreadable() from exc


def key_published(retired_at: datetime | None, access_ttl: timedelta, now: datetime) -> bool:
    """A retired key stays public while tokens it signed may still be alive."""
    return retired_at is None or retired_at > now - (access_ttl + JWKS_GRACE)


@dataclass(frozen=True)
class Claims:
    subject: str
    roles: tuple[str, ...]
    email: str | None = None
    name: str | None = None


def mint_access_token(
    claims: Claims, private_key: Any, kid: str, now: datetime, ttl: timedelta
) -> str:
    payload: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "typ": "access",
        "sub": claims.subject,
        "roles": list(claims.roles),
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    if claims.email is not None:
        payload["email"] = claims.email
    if claims.name is not None:
        payload["name"] = claims.name
    return jwt.encode(payload, private_key, algorithm=ALGORITHM, headers={"kid": kid})
