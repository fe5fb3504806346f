"""Invitations: staff get an account without a password and a link (sent by email) to choose
one; accepting it activates the account."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.exc import IntegrityError

from services.identity import domain
from services.identity.events import UserInvited
from services.identity.links import new_link, use_link
from services.identity.models import User
from services.identity.queries import user_view
from services.identity.use_cases.accounts import registered
from shared.db import UnitOfWork, utcnow


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
        token, expires_at = new_link(uow.session, domain.INVITATION, user.id, domain.INVITATION_TTL)
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
        user = use_link(uow.session, domain.INVITATION, token, domain.INVITATION_TTL)
        user.password_hash = password_hash
        user.status = domain.ACTIVE
        user.updated_at = utcnow()
        uow.record(registered(user))
        uow.commit()
        return user_view(user)


def _commit_new_user(uow: UnitOfWork) -> None:
    try:
        uow.commit()
    except IntegrityError as exc:
        raise domain.EmailTaken("That email already has an account.", field="email") from exc
