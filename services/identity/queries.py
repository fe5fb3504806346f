"""The read side: what an account looks like to its owner and to staff."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from services.identity.loading import own_user
from services.identity.models import User
from shared.auth import Principal
from shared.db import UnitOfWork


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


def me(uow: UnitOfWork, principal: Principal) -> dict[str, Any]:
    with uow:
        return user_view(own_user(uow.session, principal))


def list_users(uow: UnitOfWork, role: str | None = None) -> list[dict[str, Any]]:
    with uow:
        query = select(User).order_by(User.created_at, User.email)
        if role:
            query = query.where(User.role == role)
        return [user_view(u) for u in uow.session.scalars(query)]
