"""Emailed one-time links (an invitation, a password reset): signed, stored by digest, and
usable once."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.identity import domain
from services.identity.models import LinkToken, User
from shared import config
from shared.db import utcnow


def link_tokens() -> domain.LinkTokens:
    return domain.LinkTokens(config.secret_keys())


def new_link(db: Session, purpose: str, user_id: str, ttl: timedelta) -> tuple[str, Any]:
    now = utcnow()
    token = link_tokens().make(purpose, user_id)
    expires_at = now + ttl
    db.add(
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


def use_link(db: Session, purpose: str, token: str, ttl: timedelta) -> User:
    """The link's user, marking the link used: a second use finds it used and is refused."""
    user_id = link_tokens().read(purpose, token, ttl)
    row = db.scalar(
        select(LinkToken)
        .where(LinkToken.token_hash == domain.token_digest(token))
        .with_for_update()
    )
    if row is None or row.purpose != purpose or row.user_id != user_id:
        raise domain.InvalidLinkToken("This link is not valid.", field="token")
    now = utcnow()
    domain.check_link_usable(row.used_at, row.expires_at, now)
    row.used_at = now
    user = db.get(User, user_id)
    if user is None:
        raise domain.InvalidLinkToken("This link is not valid.", field="token")
    return user
