"""The site's sessions, kept in its own database: the cookie carries only a random id.

A signed cookie that carried the tokens could not be taken back: a copy saved before sign-out
or before a password reset kept opening the account until the tokens expired. Here a session
is a row, and ending it (sign-out, a password reset, idleness, its lifetime) is deleting it, so
whatever copies of the cookie exist open nothing afterwards.

Per request this costs one primary-key read, and only for a browser whose cookie names a
session (anonymous visitors cost nothing). The idle deadline moves forward by an UPDATE at most
once every few minutes of use, not on every request, and expired rows are purged a bounded
batch at a time whenever someone signs in, so the table holds the live sessions and little else.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session as OrmSession

from services.web.models import SiteSession
from shared.config import SessionSettings
from shared.db import Database, utcnow

PURGE_BATCH = 100
"""Expired rows deleted per sign-in: bounded work for the request, and faster than rows expire
(each sign-in adds one)."""

MAX_TOUCH_INTERVAL = timedelta(minutes=5)
"""How stale the idle deadline may get before a request pushes it forward (one UPDATE)."""


@dataclass(frozen=True)
class Session:
    """A live session as a request sees it (``key`` is the row's id, the hash of the cookie's)."""

    key: str
    user: dict[str, Any]
    access_token: str
    refresh_token: str
    access_expires_at: float
    """POSIX seconds, as the pages compare it with ``time.time()``."""


def _key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def user_fields(user: dict[str, Any]) -> dict[str, Any]:
    """What the pages need of the person, out of identity's user."""
    return {
        "id": user.get("id"),
        "email": user.get("email"),
        "name": user.get("name"),
        "roles": list(user.get("roles") or []),
        "time_zone": user.get("time_zone"),
    }


def _token_fields(tokens: dict[str, Any]) -> dict[str, Any]:
    return {
        "access_token": tokens["access_token"],
        "refresh_token": tokens["refresh_token"],
        "access_expires_at": utcnow() + timedelta(seconds=int(tokens.get("expires_in") or 0)),
    }


def _view(row: SiteSession) -> Session:
    return Session(
        key=row.id,
        user=dict(row.user),
        access_token=row.access_token,
        refresh_token=row.refresh_token,
        access_expires_at=row.access_expires_at.timestamp(),
    )


class SessionStore:
    def __init__(self, db: Database, settings: SessionSettings) -> None:
        self.db = db
        self.idle = settings.idle
        self.lifetime = settings.lifetime
        self.touch_interval = min(MAX_TOUCH_INTERVAL, settings.idle / 2)

    def start(self, tokens: dict[str, Any]) -> tuple[str, Session]:
        """A new session for identity's sign-in answer: the id for the cookie, and the session."""
        session_id = secrets.token_urlsafe(32)
        now = utcnow()
        ends_at = now + self.lifetime
        user = user_fields(tokens["user"])
        row = SiteSession(
            id=_key(session_id),
            user_id=str(user["id"]),
            user=user,
            created_at=now,
            ends_at=ends_at,
            expires_at=min(ends_at, now + self.idle),
            **_token_fields(tokens),
        )
        with self.db.session() as s, s.begin():
            self._purge_expired(s, now)
            s.add(row)
        return session_id, _view(row)

    def load(self, session_id: str) -> Session | None:
        """The live session the cookie names, or None if it ended or never existed."""
        key = _key(session_id)
        now = utcnow()
        with self.db.session() as s:
            row = s.get(SiteSession, key)
            if row is None or row.expires_at <= now:
                return None
            if row.expires_at < min(row.ends_at, now + self.idle - self.touch_interval):
                # In use: push the idle deadline forward, at most every touch_interval. Only a
                # row still there is touched; one deleted meanwhile stays deleted.
                s.execute(
                    update(SiteSession)
                    .where(SiteSession.id == key)
                    .values(expires_at=min(row.ends_at, now + self.idle))
                )
                s.commit()
            return _view(row)

    def renew_tokens(self, current: Session, tokens: dict[str, Any]) -> Session | None:
        """Keep identity's refreshed tokens: the session now, or None if it ended meanwhile."""
        values = _token_fields(tokens)
        if tokens.get("user"):
            values["user"] = user_fields(tokens["user"])
        if not self._update(current.key, values):
            return None
        return replace(
            current,
            user=values.get("user", current.user),
            access_token=values["access_token"],
            refresh_token=values["refresh_token"],
            access_expires_at=values["access_expires_at"].timestamp(),
        )

    def rename(self, current: Session, user: dict[str, Any]) -> Session | None:
        """Keep identity's latest view of the person (a new name): None if the session ended."""
        fields = user_fields(user)
        if fields == current.user:
            return current
        if not self._update(current.key, {"user": fields}):
            return None
        return replace(current, user=fields)

    def end(self, key: str) -> None:
        with self.db.session() as s, s.begin():
            s.execute(delete(SiteSession).where(SiteSession.id == key))

    def end_every_session_of(self, user_id: str) -> int:
        """Sign the account out of the site everywhere (a password reset): how many ended."""
        with self.db.session() as s, s.begin():
            return s.execute(
                delete(SiteSession).where(SiteSession.user_id == str(user_id))
            ).rowcount

    def purge_expired(self) -> int:
        with self.db.session() as s, s.begin():
            return self._purge_expired(s, utcnow())

    def _purge_expired(self, s: OrmSession, now: datetime) -> int:
        # A bounded batch through the expires_at index; on both databases a DELETE with a
        # LIMIT is spelled as a delete of the ids a limited SELECT picks.
        doomed = (
            select(SiteSession.id)
            .where(SiteSession.expires_at <= now)
            .order_by(SiteSession.expires_at)
            .limit(PURGE_BATCH)
        )
        return s.execute(delete(SiteSession).where(SiteSession.id.in_(doomed))).rowcount

    def _update(self, key: str, values: dict[str, Any]) -> bool:
        with self.db.session() as s, s.begin():
            return (
                s.execute(
                    update(SiteSession).where(SiteSession.id == key).values(**values)
                ).rowcount
                == 1
            )
