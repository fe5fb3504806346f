"""Password reset: a link by email for an active account, and the new password that ends every
other link and sign-in of the account."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from services.identity import domain, limits
from services.identity.events import PasswordResetRequested
from services.identity.links import new_link, use_link
from services.identity.loading import user_by_email
from services.identity.models import LinkToken, RefreshToken, rate_limits
from services.identity.queries import user_view
from services.identity.use_cases.sign_in import revoke_refresh_tokens
from shared import rate_limit
from shared.db import UnitOfWork, utcnow


def request_password_reset(uow: UnitOfWork, email: str, client: str) -> None:
    """Sends a link if the account exists and the limits allow; says nothing either way, so
    emails stay private and a flood of requests sends at most MAIL_REQUEST_LIMIT emails."""
    email = domain.normalize_email(email)
    with uow:
        if not limits.may_mail(uow.session, email, client, "password-reset"):
            return
        user = user_by_email(uow.session, email)
        if user is None or user.status != domain.ACTIVE:
            uow.commit()  # the request still counts, so unknown addresses cost the same
            return
        token, expires_at = new_link(
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
    """New password; every other reset link and every db of the account stop working."""
    password_hash = domain.hash_password(password)
    with uow:
        user = use_link(uow.session, domain.PASSWORD_RESET, token, domain.PASSWORD_RESET_TTL)
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
        revoke_refresh_tokens(uow.session, RefreshToken.user_id == user.id)
        # Whoever reads the account's email may sign in at once, whatever a guesser did.
        rate_limit.forget(uow.session, rate_limits, limits.account_key(user.email))
        uow.commit()
    return user_view(user)
