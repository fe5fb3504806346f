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
from services.identity.models import LinkToken, RefreshToken, SigningKey, User, rate_limits
from shared import config, rate_limit
from shared.auth import Principal
from shared.db import Database, UnitOfWork, insert_with_conflicts, utcnow
from shared.errors import Conflict, NotFound

log = logging.getLogger(__name__)


# --- settings (read at call time so a deployment, or a test, can change them) ----------------


def access_ttl() -> timedelta:
    return timedelta(seconds=config.env_int("ACCESS_TOKEN_TTL", 900))


def refresh_ttl() -> timedelta:
    return timedelta(seconds=config.env_int("REFRESH_TOKEN_TTL", 2592000))


def client_window() -> rate_limit.Window:
    """Tries one client address may make in the window (a right password does not count).

    Higher than an account's free tries: a whole school may reach us from one address, and one
    person's typos must not keep the rest of it out.
    """
    return rate_limit.Window(
        limit=config.env_int("LOGIN_CLIENT_RATE_LIMIT", 20),
        window=float(config.env_int("LOGIN_RATE_WINDOW", 300)),
    )


def account_backoff() -> rate_limit.Backoff:
    """Free tries on one account, then waits from 1 s doubling up to LOGIN_DELAY_MAX.

    Progressive rather than a lock, so guessing at one account slows to a crawl but its owner
    is never locked out for longer than the cap; a password reset lifts it at once.
    """
    return rate_limit.Backoff(
        free=config.env_int("LOGIN_RATE_LIMIT", 5),
        base=1.0,
        cap=float(config.env_int("LOGIN_DELAY_MAX", 900)),
        window=float(config.env_int("LOGIN_RATE_WINDOW", 300)),
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


def register(uow: UnitOfWork, email: str, password: str, name: str, client: str) -> None:
    """Create a student account, or tell the owner of an existing one: the caller cannot tell.

    A new address gets its account (and, by ``user.registered``, a welcome email); the person
    signs in with the password they chose. An address that already has an account gets an
    email instead (``user.registration_attempted``: sign in or reset your password), at most
    MAIL_REQUEST_LIMIT of them, so registration never confirms to a stranger who has an
    account. The password is hashed either way, so both take as long. The INSERT ... ON
    CONFLICT DO NOTHING settles two registrations of one address at once on one account.
    """
    password_hash = domain.hash_password(password)
    email = domain.normalize_email(email)
    with uow:
        now = utcnow()
        user_id = str(uuid.uuid4())
        created = uow.session.execute(
            insert_with_conflicts(uow.session, User.__table__)
            .values(
                id=user_id,
                email=email,
                name=name.strip(),
                role="student",
                status=domain.ACTIVE,
                password_hash=password_hash,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["email"])
            .returning(User.__table__.c.id)
        ).first()
        if created is not None:
            user = uow.session.get(User, user_id)
            uow.record(
                "user.registered",
                {"user_id": user.id, "email": user.email, "name": user.name, "roles": user.roles},
            )
            uow.commit()
        elif _may_mail(uow.session, email, client, "registration"):
            owner = uow.session.scalar(select(User).where(User.email == email))
            uow.record(
                "user.registration_attempted",
                {"user_id": owner.id, "email": owner.email, "name": owner.name},
            )
            uow.commit()


def _login_tries(email: str, client: str) -> list[tuple[str, rate_limit.Rule]]:
    # Account first, then client: every login locks the rows in that order (no deadlock).
    return [(_account_key(email), account_backoff()), (_client_key(client), client_window())]


def _account_key(email: str) -> str:
    return f"login:account:{email}"


def _client_key(client: str) -> str:
    return f"login:client:{client}"


def login(uow: UnitOfWork, email: str, password: str, client: str) -> dict[str, Any]:
    """Tokens for the right password, within the limits per account and per client address.

    The try is counted *before* the password is checked, in a transaction of its own, by one
    conditional statement (shared/rate_limit.py): 30 parallel guesses get at most the limit
    through, where counting failures afterwards let each of them see a count under it. A right
    password then gives the try back (client) and ends the account's back-off.
    """
    email = domain.normalize_email(email)
    signer = active_signer(uow.db)
    with uow:
        wait = rate_limit.take_all(uow.session, rate_limits, _login_tries(email, client), utcnow())
        if wait is not None:
            raise domain.LoginThrottled(
                "Too many failed logins; try again later.", retry_after=wait
            )
        uow.commit()
    with uow:
        user = uow.session.scalar(select(User).where(User.email == email))
        if user is None:
            domain.spend_verification_time(password)
        elif user.password_hash is None:
            domain.check_can_log_in(user.status, user.password_hash)
        if user is None or not domain.password_matches(user.password_hash, password):
            raise domain.InvalidCredentials("Wrong email or password.")
        domain.check_can_log_in(user.status, user.password_hash)
        if domain.needs_rehash(user.password_hash):
            user.password_hash = domain.hash_password(password)
        rate_limit.forget(uow.session, rate_limits, _account_key(email))
        rate_limit.give_back(uow.session, rate_limits, _client_key(client))
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


def _mail_rules_in_force() -> tuple[rate_limit.Window, rate_limit.Window]:
    rules = rate_limit.mail_rules()
    return rules.per_address, rules.per_client


def _may_mail(session: Session, address: str, client: str, action: str) -> bool:
    """Whether a stranger's request may send ``address`` an email now (per address and per
    client, counted atomically). A refusal is silent: the answer must not differ. On a refusal
    the caller must not commit (a key that allowed the try would be charged for nothing)."""
    tries = rate_limit.mail_rules().tries(address, client, action)
    return rate_limit.take_all(session, rate_limits, tries, utcnow()) is None


def request_password_reset(uow: UnitOfWork, email: str, client: str) -> None:
    """Sends a link if the account exists and the limits allow; says nothing either way, so
    emails stay private and a flood of requests sends at most MAIL_REQUEST_LIMIT emails."""
    email = domain.normalize_email(email)
    with uow:
        if not _may_mail(uow.session, email, client, "password-reset"):
            return
        user = uow.session.scalar(select(User).where(User.email == email))
        if user is None or user.status != domain.ACTIVE:
            uow.commit()  # the request still counts, so unknown addresses cost the same
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
        # Whoever reads the account's email may sign in at once, whatever a guesser did.
        rate_limit.forget(uow.session, rate_limits, _account_key(user.email))
        uow.commit()
    return user_view(user)


# --- housekeeping ------------------------------------------------------------------------------


def purge_expired(uow: UnitOfWork) -> dict[str, int]:
    """Rate-limit counters no rule looks at any more, and refresh and link tokens past their
    expiry."""
    with uow:
        now = utcnow()
        horizon = max(
            rule.horizon for rule in (client_window(), account_backoff(), *_mail_rules_in_force())
        )
        counts = {
            "rate_limits": rate_limit.purge(uow.session, rate_limits, horizon, now),
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
