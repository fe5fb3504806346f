"""Accounts: registering (or telling an address's owner that someone tried), changing one's
name and time zone, and the first administrator."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.identity import domain, limits
from services.identity.events import RegistrationAttempted, UserRegistered, UserTimeZoneChanged
from services.identity.loading import own_user, user_by_email
from services.identity.models import User
from services.identity.queries import user_view
from shared.auth import Principal
from shared.db import UnitOfWork, insert_with_conflicts, utcnow


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
            uow.record(registered(user))
            uow.commit()
        elif limits.may_mail(uow.session, email, client, "registration"):
            owner = user_by_email(uow.session, email)
            uow.record(RegistrationAttempted(user_id=owner.id, email=owner.email, name=owner.name))
            uow.commit()


def registered(user: User) -> UserRegistered:
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
        user = own_user(uow.session, principal)
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


def ensure_first_admin(db: Session, email: str, password: str) -> bool:
    """Create the first admin if there is none; True when it made one."""
    if db.scalar(select(User.id).where(User.role == "admin").limit(1)) is not None:
        return False
    now = utcnow()
    db.add(
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
    db.flush()
    return True
