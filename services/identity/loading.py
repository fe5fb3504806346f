"""Loading an account for a use case: the caller's own, or one by address."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.identity import domain
from services.identity.models import User
from shared.auth import Principal
from shared.errors import NotFound


def own_user(db: Session, principal: Principal) -> User:
    if principal.is_service:
        raise domain.NotAUser("A service token has no account.")
    user = db.get(User, principal.user_id)
    if user is None:
        raise NotFound("This account no longer exists.")
    return user


def user_by_email(db: Session, email: str) -> User | None:
    return db.scalar(select(User).where(User.email == email))
