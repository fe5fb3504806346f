"""Identity's use cases: one function per thing a person, an admin or a service can do.

Each opens the unit of work, asks ``domain`` for the rules, records the events it causes and
commits once, so rows and events are written together or not at all.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.identity import domain
from services.identity.models import LinkToken, LoginAttempt, RefreshToken, SigningKey, User
from shared import config
from shared.auth import Principal
from shared.db import Database, UnitOfWork, utcnow
from shared.errors import Conflict, NotFound

log = logging.getLogger(__name__)


# --- settings (read at call time so a deployment, or a test, can change them) ----------------


def access_ttl() -> timedelta:
    return timedelta(seconds=config.env_int("ACCESS_TOKEN_TTL", 900))


def refresh_ttl() -> timedelta:
    return timedelta(seconds=config.env_int("REFRESH_TOKEN_TTL", 2592000))


def login_rate_limit() -> domain.RateLimit:
    return domain.RateLimit(
        limit=config.env_int("LOGIN_RATE_LIMIT", 5),
        window=timedelta(seconds=config.env_int("LOGIN_RATE_WINDOW", 300)),
    )


def link_tokens() -> domain.LinkTokens:
    return domain.LinkTokens(config.secret_keys())


# --- views -------------------------------------------------------------------------------------


def user_view(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "roles": user.roles,
        "status": user.status,
        "created_at": user.created_at,
    }


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


# --- tokens ------------------------------------------------------------------------------------


def _issue_tokens(
    session: Session, user: User, signer: Signer, family_id: str | None = None
) -> dict[str, Any]:
    now = utcnow()
    refresh = domain.new_opaque_token()
    session.add(
        RefreshToken(
            id=str(uuid.uuid4()),
            user_id=user.id,
            family_id=family_id or str(uuid.uuid4()),
            token_hash=domain.token_digest(refresh),
            created_at=now,
            expires_at=now + refresh_ttl(),
            revoked_at=None,
        )
    )
    ttl = access_ttl()
    claims = domain.Claims(user.id, tuple(user.roles), user.email, user.name)
    return {
        "access_token": signer.mint(claims, ttl),
        "refresh_token": refresh,
        "token_type": "Bearer",
        "expires_in": int(ttl.total_seconds()),
        "user": user_view(user),
    }


def _revoke_refresh_tokens(session: Session, *conditions: Any) -> None:
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.revoked_at.is_(None), *conditions)
        .values(revoked_at=utcnow())
    )


# --- people ------------------------------------------------------------------------------------


def _commit_new_user(uow: UnitOfWork) -> None:
    try:
        uow.commit()
    except IntegrityError as exc:
        raise domain.EmailTaken("That email already has an account.", field="email") from exc


def register(uow: UnitOfWork, email: str, password: str, name: str) -> dict[str, Any]:
    password_hash = domain.hash_password(password)
    with uow:
        now = utcnow()
        user = User(
            id=str(uuid.uuid4()),
            email=domain.normalize_email(email),
            name=name.strip(),
            role="student",
            status=domain.ACTIVE,
            password_hash=password_hash,
            created_at=now,
            updated_at=now,
        )
        uow.session.add(user)
        uow.record(
            "user.registered",
            {"user_id": user.id, "email": user.email, "name": user.name, "roles": user.roles},
        )
        _commit_new_user(uow)
        return user_view(user)


def login(uow: UnitOfWork, email: str, password: str, ip: str) -> dict[str, Any]:
    email = domain.normalize_email(email)
    signer = active_signer(uow.db)
    rule = login_rate_limit()
    with uow:
        now = utcnow()
        since = now - rule.window
        by_email = uow.session.scalars(
            select(LoginAttempt.attempted_at).where(
                LoginAttempt.email == email, LoginAttempt.attempted_at > since
            )
        ).all()
        by_ip = uow.session.scalars(
            select(LoginAttempt.attempted_at).where(
                LoginAttempt.ip == ip, LoginAttempt.attempted_at > since
            )
        ).all()
        waits = [w for w in (domain.throttle(f, rule, now) for f in (by_email, by_ip)) if w]
        if waits:
            raise domain.LoginThrottled(
                "Too many failed logins; try again later.", retry_after=max(waits)
            )
        user = uow.session.scalar(select(User).where(User.email == email))
        if user is None:
            domain.spend_verification_time(password)
        elif user.password_hash is None:
            domain.check_can_log_in(user.status, user.password_hash)
        if user is None or not domain.password_matches(user.password_hash, password):
            uow.session.add(LoginAttempt(email=email, ip=ip, attempted_at=now))
            uow.commit()
            raise domain.InvalidCredentials("Wrong email or password.")
        domain.check_can_log_in(user.status, user.password_hash)
        if domain.needs_rehash(user.password_hash):
            user.password_hash = domain.hash_password(password)
        uow.session.execute(delete(LoginAttempt).where(LoginAttempt.email == email))
        tokens = _issue_tokens(uow.session, user, signer)
        uow.commit()
        return tokens


def refresh(uow: UnitOfWork, refresh_token: str) -> dict[str, Any]:
    signer = active_signer(uow.db)
    with uow:
        row = uow.session.scalar(
            select(RefreshToken)
            .where(RefreshToken.token_hash == domain.token_digest(refresh_token))
            .with_for_update()
        )
        if row is None:
            raise domain.InvalidRefreshToken("Unknown refresh token.")
        decision = domain.judge_refresh(row.revoked_at, row.expires_at, utcnow())
        if decision == domain.RefreshDecision.REUSED:
            _revoke_refresh_tokens(uow.session, RefreshToken.family_id == row.family_id)
            uow.commit()
            log.warning("refresh token reused; family revoked", extra={"user_id": row.user_id})
            raise domain.InvalidRefreshToken("This refresh token was already used.")
        if decision == domain.RefreshDecision.EXPIRED:
            raise domain.InvalidRefreshToken("This refresh token has expired.")
        user = uow.session.get(User, row.user_id)
        if user is None or user.status != domain.ACTIVE:
            raise domain.InvalidRefreshToken("This account cannot sign in.")
        row.revoked_at = utcnow()
        tokens = _issue_tokens(uow.session, user, signer, family_id=row.family_id)
        uow.commit()
        return tokens


def logout(uow: UnitOfWork, refresh_token: str) -> None:
    with uow:
        _revoke_refresh_tokens(
            uow.session, RefreshToken.token_hash == domain.token_digest(refresh_token)
        )
        uow.commit()


def service_token(uow: UnitOfWork, service: str, secret: str) -> dict[str, Any]:
    if not domain.same_secret(secret, config.service_secret()):
        raise domain.InvalidServiceCredentials("Wrong service credentials.")
    signer = active_signer(uow.db)
    ttl = access_ttl()
    return {
        "access_token": signer.mint(domain.Claims(f"service:{service}", ("service",)), ttl),
        "token_type": "Bearer",
        "expires_in": int(ttl.total_seconds()),
    }


def _own_user(session: Session, principal: Principal) -> User:
    if principal.is_service:
        raise domain.NotAUser("A service token has no account.")
    user = session.get(User, principal.user_id)
    if user is None:
        raise NotFound("This account no longer exists.")
    return user


def me(uow: UnitOfWork, principal: Principal) -> dict[str, Any]:
    with uow:
        return user_view(_own_user(uow.session, principal))


def update_me(uow: UnitOfWork, principal: Principal, name: str | None) -> dict[str, Any]:
    with uow:
        user = _own_user(uow.session, principal)
        if name is not None:
            user.name = name.strip()
            user.updated_at = utcnow()
        uow.commit()
        return user_view(user)


def list_users(uow: UnitOfWork, role: str | None = None) -> list[dict[str, Any]]:
    with uow:
        query = select(User).order_by(User.created_at, User.email)
        if role:
            query = query.where(User.role == role)
        return [user_view(u) for u in uow.session.scalars(query)]


# --- emailed links -----------------------------------------------------------------------------


def _new_link(session: Session, purpose: str, user_id: str, ttl: timedelta) -> tuple[str, Any]:
    now = utcnow()
    token = link_tokens().make(purpose, user_id)
    expires_at = now + ttl
    session.add(
        LinkToken(
            id=str(uuid.uuid4()),
            user_id=user_id,
            purpose=purpose,
            token_hash=domain.token_digest(token),
            created_at=now,
            expires_at=expires_at,
            used_at=None,
        )
    )
    return token, expires_at


def _use_link(session: Session, purpose: str, token: str, ttl: timedelta) -> User:
    """The link's user, marking the link used: a second use finds it used and is refused."""
    user_id = link_tokens().read(purpose, token, ttl)
    row = session.scalar(
        select(LinkToken)
        .where(LinkToken.token_hash == domain.token_digest(token))
        .with_for_update()
    )
    if row is None or row.purpose != purpose or row.user_id != user_id:
        raise domain.InvalidLinkToken("This link is not valid.", field="token")
    now = utcnow()
    domain.check_link_usable(row.used_at, row.expires_at, now)
    row.used_at = now
    user = session.get(User, user_id)
    if user is None:
        raise domain.InvalidLinkToken("This link is not valid.", field="token")
    return user


def invite_user(uow: UnitOfWork, email: str, name: str, role: str) -> tuple[dict[str, Any], str]:
    """An account without a password, and a 7-day link (sent by email) to choose one."""
    domain.check_staff_role(role)
    with uow:
        now = utcnow()
        user = User(
            id=str(uuid.uuid4()),
            email=domain.normalize_email(email),
            name=name.strip(),
            role=role,
            status=domain.INVITED,
            password_hash=None,
            created_at=now,
            updated_at=now,
        )
        uow.session.add(user)
        try:
            uow.session.flush()
        except IntegrityError as exc:
            raise domain.EmailTaken("That email already has an account.", field="email") from exc
        token, expires_at = _new_link(
            uow.session, domain.INVITATION, user.id, domain.INVITATION_TTL
        )
        uow.record(
            "user.invited",
            {
                "user_id": user.id,
                "email": user.email,
                "name": user.name,
                "role": role,
                "token": token,
                "expires_at": expires_at,
            },
        )
        _commit_new_user(uow)
        return user_view(user), token


def accept_invitation(uow: UnitOfWork, token: str, password: str) -> dict[str, Any]:
    password_hash = domain.hash_password(password)
    with uow:
        user = _use_link(uow.session, domain.INVITATION, token, domain.INVITATION_TTL)
        user.password_hash = password_hash
        user.status = domain.ACTIVE
        user.updated_at = utcnow()
        uow.record(
            "user.registered",
            {"user_id": user.id, "email": user.email, "name": user.name, "roles": user.roles},
        )
        uow.commit()
        return user_view(user)


def request_password_reset(uow: UnitOfWork, email: str) -> None:
    """Sends a link if the account exists; says nothing either way, so emails stay private."""
    with uow:
        user = uow.session.scalar(select(User).where(User.email == domain.normalize_email(email)))
        if user is None or user.status != domain.ACTIVE:
            return
        token, expires_at = _new_link(
            uow.session, domain.PASSWORD_RESET, user.id, domain.PASSWORD_RESET_TTL
        )
        uow.record(
            "user.password_reset_requested",
            {
                "user_id": user.id,
                "email": user.email,
                "name": user.name,
                "token": token,
                "expires_at": expires_at,
            },
        )
        uow.commit()


def complete_password_reset(uow: UnitOfWork, token: str, password: str) -> dict[str, Any]:
    """New password; every other reset link and every session of the account stop working."""
    password_hash = domain.hash_password(password)
    with uow:
        user = _use_link(uow.session, domain.PASSWORD_RESET, token, domain.PASSWORD_RESET_TTL)
        now = utcnow()
        user.password_hash = password_hash
        user.updated_at = now
        uow.session.execute(
            update(LinkToken)
            .where(
                LinkToken.user_id == user.id,
                LinkToken.purpose == domain.PASSWORD_RESET,
                LinkToken.used_at.is_(None),
            )
            .values(used_at=now)
        )
        _revoke_refresh_tokens(uow.session, RefreshToken.user_id == user.id)
        uow.commit()
    return user_view(user)


# --- housekeeping ------------------------------------------------------------------------------


def purge_expired(uow: UnitOfWork) -> dict[str, int]:
    """Failed logins past the window, and refresh and link tokens past their expiry."""
    with uow:
        now = utcnow()
        window = login_rate_limit().window
        counts = {
            "login_attempts": uow.session.execute(
                delete(LoginAttempt).where(LoginAttempt.attempted_at < now - window)
            ).rowcount,
            "refresh_tokens": uow.session.execute(
                delete(RefreshToken).where(RefreshToken.expires_at < now)
            ).rowcount,
            "link_tokens": uow.session.execute(
                delete(LinkToken).where(LinkToken.expires_at < now)
            ).rowcount,
        }
        uow.commit()
        return counts


def ensure_first_admin(session: Session, email: str, password: str) -> bool:
    """Create the first admin if there is none; True when it made one."""
    if session.scalar(select(User.id).where(User.role == "admin").limit(1)) is not None:
        return False
    now = utcnow()
    session.add(
        User(
            id=str(uuid.uuid4()),
            email=domain.normalize_email(email),
            name="Administrator",
            role="admin",
            status=domain.ACTIVE,
            password_hash=domain.hash_password(password),
            created_at=now,
            updated_at=now,
        )
    )
    session.flush()
    return True
