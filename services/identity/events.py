"""Identity's events: accounts registered, invited, reset, and their time zones.

Changing a class changes the wire (shared/bus/events.py): add optional fields first, and never
rename a routing key.
"""

from __future__ import annotations

from datetime import datetime

from shared.bus.events import (
    Email,
    Role,
    event,
)


@event(
    "user.registered",
    producer="identity",
    description="""
A person created a student account (or accepted an invitation). The email service welcomes them,
and keeps ``time_zone`` (the IANA zone they read times in, if known) to print times in their mail.
""",
)
class UserRegistered:
    user_id: str
    email: Email
    name: str
    roles: list[Role]
    time_zone: str | None = None


@event(
    "user.time_zone_changed",
    producer="identity",
    description="""
A person chose the time zone they read times in on their account (``null``: not chosen any more,
so UTC in mail). The email service prints times in their mail on that clock.
""",
)
class UserTimeZoneChanged:
    user_id: str
    email: Email
    time_zone: str | None


@event(
    "user.invited",
    producer="identity",
    description="""
An admin created a tutor, marketing or admin account. The invitation email carries a signed,
expiring link (``token``) that lets the person choose a password.
""",
)
class UserInvited:
    user_id: str
    email: Email
    name: str
    role: Role
    token: str
    expires_at: datetime


@event(
    "user.password_reset_requested",
    producer="identity",
    description="""
Someone asked to reset the password of an existing account. The email carries a signed link
(``token``) that works once, until ``expires_at``.
""",
)
class PasswordResetRequested:
    user_id: str
    email: Email
    name: str
    token: str
    expires_at: datetime


@event(
    "user.registration_attempted",
    producer="identity",
    description="""
Someone tried to register with the email of an existing account. Registration answers the same
whether or not the address has an account, so the email service tells the owner instead (sign
in, or reset the password) and a stranger learns nothing. At most ``MAIL_REQUEST_LIMIT`` per
address in ``MAIL_REQUEST_WINDOW``.
""",
)
class RegistrationAttempted:
    user_id: str
    email: Email
    name: str
