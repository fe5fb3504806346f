"""Signing in and out: password login within the limits, refresh with reuse detection,
logout, and tokens for services."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.identity import domain, limits
from services.identity.loading import user_by_email
from services.identity.models import RefreshToken, User, rate_limits
from services.identity.queries import user_view
from services.identity.signing_keys import Signer, access_ttl, active_signer
from shared import config, rate_limit
from shared.db import UnitOfWork, utcnow

log = logging.getLogger(__name__)


def refresh_ttl() -> timedelta:
    return timedelta(seconds=config.env_int("REFRESH_TOKEN_TTL", 2592000))


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
        wait = rate_limit.take_all(
            uow.session, rate_limits, limits.login_tries(email, client), utcnow()
        )
        if wait is not None:
            raise domain.LoginThrottled(
                "Too many failed logins; try again later.", retry_after=wait
            )
        uow.commit()
    with uow:
        user = user_by_email(uow.session, email)
        if user is None:
            domain.spend_verification_time(password)
        elif user.password_hash is None:
            domain.check_can_log_in(user.status, user.password_hash)
        if user is None or not domain.password_matches(user.password_hash, password):
            raise domain.InvalidCredentials("Wrong email or password.")
        domain.check_can_log_in(user.status, user.password_hash)
        if domain.needs_rehash(user.password_hash):
            user.password_hash = domain.hash_password(password)
        rate_limit.forget(uow.session, rate_limits, limits.account_key(email))
        rate_limit.give_back(uow.session, rate_limits, limits.client_key(client))
        tokens = issue_tokens(uow.session, user, signer)
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
            revoke_refresh_tokens(uow.session, RefreshToken.family_id == row.family_id)
            uow.commit()
            log.warning("refresh token reused; family revoked", extra={"user_id": row.user_id})
            raise domain.InvalidRefreshToken("This refresh token was already used.")
        if decision == domain.RefreshDecision.EXPIRED:
            raise domain.InvalidRefreshToken("This refresh token has expired.")
        user = uow.session.get(User, row.user_id)
        if user is None or user.status != domain.ACTIVE:
            raise domain.InvalidRefreshToken("This account cannot sign in.")
        row.revoked_at = utcnow()
        tokens = issue_tokens(uow.session, user, signer, family_id=row.family_id)
        uow.commit()
        return tokens


def logout(uow: UnitOfWork, refresh_token: str) -> None:
    with uow:
        revoke_refresh_tokens(
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


# --- tokens ------------------------------------------------------------------------------------


def issue_tokens(
    db: Session, user: User, signer: Signer, family_id: str | None = None
) -> dict[str, Any]:
    now = utcnow()
    refresh = domain.new_opaque_token()
    db.add(
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


def revoke_refresh_tokens(db: Session, *conditions: Any) -> None:
    db.execute(
        update(RefreshToken)
        .where(RefreshToken.revoked_at.is_(None), *conditions)
        .values(revoked_at=utcnow())
    )
