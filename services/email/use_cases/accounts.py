"""Identity's events become emails: the welcome, an invitation, a password reset, and the
note to an address's owner that someone tried to register with it."""

from __future__ import annotations

from services.email import compose, reader_zones
from services.email.domain import Kind
from services.identity.events import (
    PasswordResetRequested,
    RegistrationAttempted,
    UserInvited,
    UserRegistered,
)
from shared import config
from shared.bus.handlers import handles
from shared.db import UnitOfWork

_STAFF_AS = {
    "tutor": "a tutor",
    "marketing": "a member of the marketing team",
    "admin": "an administrator",
}


@handles(UserRegistered)
def welcome(uow: UnitOfWork, event: UserRegistered) -> None:
    """The welcome, and (in its commit) the zone the person reads times in, if identity knows it.

    Staff who accepted an invitation are not students: their welcome says what they joined as
    and where to sign in, not which courses to browse.
    """
    context = {"name": event.name, "staff_as": _staff_as(event.roles or [])}
    compose.queue_once(
        uow,
        Kind.WELCOME,
        event.email,
        context,
        learn=lambda db: reader_zones.remember(db, event),
    )


def _staff_as(roles: list[str]) -> str | None:
    """How a staff welcome names the person's part (None: a student, who gets the student welcome)."""
    if "student" in roles:
        return None
    return next((_STAFF_AS[role] for role in roles if role in _STAFF_AS), None)


@handles(UserInvited)
def invite(uow: UnitOfWork, event: UserInvited) -> None:
    context = {
        "name": event.name,
        "role": event.role,
        "link": f"{config.public_url()}/invitation/{event.token}",
        "expires_at": compose.when(event.expires_at, reader_zones.reader_zone(uow, event.email)),
    }
    compose.queue_once(uow, Kind.INVITATION, event.email, context)


@handles(PasswordResetRequested)
def password_reset(uow: UnitOfWork, event: PasswordResetRequested) -> None:
    context = {
        "name": event.name,
        "link": f"{config.public_url()}/password-reset/{event.token}",
        "expires_at": compose.when(event.expires_at, reader_zones.reader_zone(uow, event.email)),
    }
    compose.queue_once(uow, Kind.PASSWORD_RESET, event.email, context)


@handles(RegistrationAttempted)
def registration_attempted(uow: UnitOfWork, event: RegistrationAttempted) -> None:
    """Someone registered with the owner's address: point the owner to sign-in and reset."""
    context = {
        "name": event.name,
        "login_link": f"{config.public_url()}/login",
        "reset_link": f"{config.public_url()}/password-reset",
    }
    compose.queue_once(uow, Kind.REGISTRATION_ATTEMPTED, event.email, context)
