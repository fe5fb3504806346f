"""Identity's signing keys: the one that signs access tokens, their rotation, re-encryption
under a new SECRET_KEY, and the JWKS every other service verifies tokens with.

Apart from the account use cases (use_cases/) because every token use case needs a signer
first, and the keys have their own life: made on first use, rotated by an admin, re-encrypted
hourly by the worker.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.identity import domain
from services.identity.models import SigningKey
from shared import config
from shared.db import Database, UnitOfWork, utcnow
from shared.errors import Conflict

log = logging.getLogger(__name__)


def access_ttl() -> timedelta:
    """Lifetime of an access token; also how long a retired key stays in the JWKS."""
    return timedelta(seconds=config.env_int("ACCESS_TOKEN_TTL", 900))


# --- signing keys ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signer:
    kid: str
    private_key: Any

    def mint(self, claims: domain.Claims, ttl: timedelta) -> str:
        return domain.mint_access_token(claims, self.private_key, self.kid, utcnow(), ttl)


_private_keys: dict[tuple[str, tuple[str, ...]], Any] = {}
_private_keys_lock = threading.Lock()


def _signer_for(row: SigningKey) -> Signer:
    # Cached per set of keys, so a process whose SECRET_KEYs change decrypts again (and fails
    # loudly if no key can) instead of signing with a key it could no longer read.
    keys = tuple(config.secret_keys())
    with _private_keys_lock:
        key = _private_keys.get((row.kid, keys))
        if key is None:
            key = domain.decrypt_private_key(row.private_key, keys)
            _private_keys[(row.kid, keys)] = key
    return Signer(row.kid, key)


def _new_key_row(now: Any) -> SigningKey:
    made = domain.generate_signing_key(config.secret_keys())
    return SigningKey(
        kid=made.kid,
        private_key=made.private_pem_encrypted,
        public_jwk=json.dumps(made.public_jwk),
        active=True,
        created_at=now,
        retired_at=None,
    )


def active_signer(db: Database) -> Signer:
    """The key that signs new tokens; the first one is made on first use.

    It runs in a transaction of its own, before the caller's unit of work writes anything, so
    two workers racing to make the first key settle on one (the partial unique index) without
    failing a login.
    """
    for _ in range(3):
        with db.session() as session:
            row = session.scalar(select(SigningKey).where(SigningKey.active.is_(True)))
            if row is not None:
                return _signer_for(row)
            session.add(_new_key_row(utcnow()))
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
    raise RuntimeError("could not settle on an active signing key")


def rotate_signing_key(uow: UnitOfWork) -> str:
    """A new key signs from now on; the old one stays in the JWKS until its tokens expire."""
    with uow:
        now = utcnow()
        current = uow.session.scalars(
            select(SigningKey).where(SigningKey.active.is_(True)).with_for_update()
        ).all()
        for row in current:
            row.active = False
            row.retired_at = now
        uow.session.flush()
        row = _new_key_row(now)
        uow.session.add(row)
        try:
            uow.commit()
        except IntegrityError as exc:
            raise Conflict("Another rotation happened at the same moment; try again.") from exc
        log.info("signing key rotated", extra={"kid": row.kid})
        return row.kid


def reencrypt_signing_keys(uow: UnitOfWork) -> dict[str, int]:
    """Encrypt again, under the current SECRET_KEY, every stored key still under a previous one.

    Until this has run, identity reads those keys through SECRET_KEY_FALLBACKS; after it, the
    fallback can be dropped without identity losing its keys. The identity worker runs it at
    start and then hourly. Keys no SECRET_KEY can read are counted and left alone: a retired
    one is harmless (only its public half is used), an active one stops logins until it is
    retired (docs/operations.md, "Key rotation").
    """
    keys = config.secret_keys()
    counts = {"reencrypted": 0, "unreadable": 0}
    with uow:
        rows = uow.session.scalars(
            select(SigningKey).order_by(SigningKey.created_at).with_for_update()
        ).all()
        for row in rows:
            try:
                again = domain.reencrypted_private_key(row.private_key, keys)
            except domain.UnreadableSigningKey:
                counts["unreadable"] += 1
                log.warning(
                    "signing key unreadable under every SECRET_KEY",
                    extra={"kid": row.kid, "active": row.active},
                )
                continue
            if again is not None:
                row.private_key = again
                counts["reencrypted"] += 1
        uow.commit()
    return counts


def jwks(db: Database) -> dict[str, Any]:
    """Every public key a token still alive may have been signed with."""
    active_signer(db)
    now = utcnow()
    with db.session() as session:
        rows = session.scalars(select(SigningKey).order_by(SigningKey.created_at.desc())).all()
    return {
        "keys": [
            json.loads(r.public_jwk)
            for r in rows
            if domain.key_published(r.retired_at, access_ttl(), now)
        ]
    }
