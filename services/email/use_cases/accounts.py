"""Identity's events become emails: the welcome, an invitation, a password reset, and the
note to an address's owner that someone tried to register with it."""

from __future__ import annotations

from typing import Any

from services.email import compose, reader_zones
from services.email.domain import Kind
from shared import config
from shared.db import UnitOfWork

_STAFF_AS = {
    "tutor": "a tutor",
    "marketing": "a member of the marketing team",
    "admin": "an administrator",
}


def welcome(uow: UnitOfWork, event_id: str, data: dict[str, Any]) -> None:
    """The welcome, and (in its commit) the zone the person reads times in, if identity knows it.

    Staff who accepted an invitation are not students: their welcome says what they joined as
    and where to sign in, not which courses to browse.
    """
    context = {"name": data["name"], "staff_as": _staff_as(data.get("roles") or [])}
    compose.queue_once(
        uow,
        Kind.WELCOME,
        data["email"],
        context,
        event_id,
        learn=lambda db: reader_zones.remember(db, data),
    )


def _staff_as(roles: list[str]) -> str | None:
    """How a staff welcome names the person's part (None: a student, who gets the student welcome)."""
    if "student" in roles:
        return None
    return next((_STAFF_AS[role] for role in roles if role in _STAFF_AS), None)


def invite(uow: UnitOfWork, event_id: str, data: dict[str, Any]) -> None:
    context = {
        "name": data["name"],
        "role": data["role"],
        "link": f"{config.public_url()}/invitation/{data['token']}",
        "expires_at": compose.when(
            data["expires_at"], reader_zones.reader_zone(uow, data["email"])
        ),
    }
    compose.queue_once(uow, Kind.INVITATION, data["email"], context, event_id)


def password_reset(uow: UnitOfWork, event_id: str, data: dict[str, Any]) -> None:
    context = {
        "name": data["name"],
        "link": f"{config.public_url()}/password-reset/{data['token']}",
        "expires_at": compose.when(
            data["expires_at"], reader_zones.reader_zone(uow, data["email"])
        ),
    }
    compose.queue_once(uow, Kind.PASSWORD_RESET, data["email"], context, event_id)


def registration_attempted(uow: UnitOfWork, event_id: str, data: dict[str, Any]) -> None:
    """Someone registered with the owner's address: point the owner to sign-in and reset."""
    context = {
        "name": data["name"],
        "login_link": f"{config.public_url()}/login",
        "reset_link": f"{config.public_url()}/password-reset",
    }
    compose.queue_once(uow, Kind.REGISTRATION_ATTEMPTED, data["email"], context, event_id)
