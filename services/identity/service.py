"""Identity's use cases: one function per thing a person, an admin or a service can do.

Each opens the unit of work, asks ``domain`` for the rules, records the events it causes and
commits once, so rows and events are written together or not at all.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.identity import domain
from services.identity.events import (
    PasswordResetRequested,
    RegistrationAttempted,
    UserInvited,
    UserRegistered,
    UserTimeZoneChanged,
)
from services.identity.models import LinkToken, RefreshToken, User, rate_limits
from services.identity.signing_keys import Signer, access_ttl, active_signer
from shared import config, rate_limit
from shared.auth import Principal
from shared.db import UnitOfWork, insert_with_conflicts, utcnow
from shared.errors import NotFound

log = logging.getLogger(__name__)


# --- settings (read at call time so a deployment, or a test, can change them) ----------------


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
        "time_zone": user.time_zone,
        "created_at": user.created_at,
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


def register(
    uow: UnitOfWork,
    email: str,
    password: str,
    name: str,
    client: str,
    time_zone: str | None = None,
) -> None:
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
                time_zone=time_zone or None,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["email"])
            .returning(User.__table__.c.id)
        ).first()
        if created is not None:
            user = uow.session.get(User, user_id)
            uow.record(_registered(user))
            uow.commit()
        elif _may_mail(uow.session, email, client, "registration"):
            owner = uow.session.scalar(select(User).where(User.email == email))
            uow.record(RegistrationAttempted(user_id=owner.id, email=owner.email, name=owner.name))
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


def _registered(user: User) -> UserRegistered:
    return UserRegistered(
        user_id=user.id,
        email=user.email,
        name=user.name,
        roles=list(user.roles),
        time_zone=user.time_zone,
    )


_UNSET: Any = object()


def update_me(
    uow: UnitOfWork, principal: Principal, name: str | None, time_zone: str | None = _UNSET
) -> dict[str, Any]:
    """Change the person's name and/or time zone (``None`` clears it: the browser's again).

    A changed zone is told by ``user.time_zone_changed``, so services that mail the person
    (email) print times on their clock.
    """
    with uow:
        user = _own_user(uow.session, principal)
        if name is not None:
            user.name = name.strip()
            user.updated_at = utcnow()
        if time_zone is not _UNSET and (time_zone or None) != user.time_zone:
            user.time_zone = time_zone or None
            user.updated_at = utcnow()
            uow.record(
                UserTimeZoneChanged(user_id=user.id, email=user.email, time_zone=user.time_zone)
            )
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
            UserInvited(
                user_id=user.id,
                email=user.email,
                name=user.name,
                role=role,
                token=token,
                expires_at=expires_at,
            )
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
        uow.record(_registered(user))
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
            PasswordResetRequested(
                user_id=user.id,
                email=user.email,
                name=user.name,
                token=token,
                expires_at=expires_at,
            )
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
