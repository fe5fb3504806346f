"""The first admin: created after migrations when no admin exists, so a new install can sign in."""

from __future__ import annotations

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from services.identity.use_cases import accounts
from shared import config


def run(connection: Connection) -> None:
    session = Session(bind=connection)
    try:
        accounts.ensure_first_admin(
            session,
            config.env("ADMIN_EMAIL", "admin@preceptor.localhost"),
            config.admin_password(),
        )
        # The session joins the migration's connection: its commit leaves the outer
        # transaction to the caller, whereas closing uncommitted would roll it back.
        session.commit()
    finally:
        session.close()
