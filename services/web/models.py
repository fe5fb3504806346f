"""The site's own table: who is signed in, kept on the server.

The browser holds only a random session id (in the signed cookie, beside its CSRF token and
flashed messages); the row holds the user and their tokens from identity. Ending a session is
deleting its row, so a cookie copied before sign-out or before a password reset opens nothing.

- **The id is stored hashed** (SHA-256 of the cookie's id): someone who can read the table still
  cannot present a row's id as a cookie.
- **Two deadlines**: ``ends_at`` is the absolute end (``SESSION_LIFETIME`` after sign-in);
  ``expires_at`` is when the session dies of idleness, pushed forward as it is used but never
  past ``ends_at``. One indexed column is what both the per-request check and the purge read.
- **``user_id`` is indexed**: a password reset deletes every session of the account at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import make_base

Base = make_base()


class SiteSession(Base):
    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    user: Mapped[dict[str, Any]] = mapped_column(JSON)
    """What the pages show of the person: id, email, name, roles (as identity last said)."""
    access_token: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str] = mapped_column(Text)
    access_expires_at: Mapped[datetime]
    created_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
