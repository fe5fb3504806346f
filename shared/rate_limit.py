"""Rate limits that hold across processes and on both databases: one counter row per key.

Every decision is a single ``INSERT ... ON CONFLICT DO UPDATE ... WHERE <allowed>``: the row is
created, or changed only if the limit still allows it, in one statement. PostgreSQL re-checks
the ``WHERE`` against the newest row version under the row lock and SQLite runs one writer at a
time, so N parallel requests can never all read "under the limit" and all pass (a SELECT
followed by a write could, and ``SELECT ... FOR UPDATE`` is ignored by SQLite). A statement that
changed no row is a refusal.

Times are stored as seconds since the epoch (floats), so the arithmetic is the same plain SQL
on both dialects.

Two kinds of rule:

* :class:`Window`: at most ``limit`` takes per ``window`` seconds (fixed window). Used per
  client address and per email address: a limit that stays a limit.
* :class:`Backoff`: ``free`` takes, then each further take must wait ``base`` seconds, doubled
  at every take, at most ``cap``; a quiet ``window`` after the last wait ended forgets it all.
  Used per account, so an attacker slows guesses on an account down without ever locking its
  owner out for longer than ``cap``, and a password reset (``forget``) lifts it at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    delete,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from shared import config
from shared.db import insert_with_conflicts

KEY_LENGTH = 300


def rate_limit_table(metadata: MetaData) -> Table:
    """The ``rate_limits`` table on a service's metadata (each service keeps its own counters)."""
    if "rate_limits" in metadata.tables:
        return metadata.tables["rate_limits"]
    return Table(
        "rate_limits",
        metadata,
        Column("key", String(KEY_LENGTH), primary_key=True),
        Column("hits", Integer, nullable=False),
        Column("window_start", Float, nullable=False),
        Column("next_at", Float, nullable=False),
        Column("delay", Float, nullable=False),
    )


class Rule(Protocol):
    def upsert_values(self, table: Table, now: float) -> tuple[dict[str, Any], dict, Any]:
        """Values of a new row, SET of an existing one, and the condition allowing the SET."""

    def retry_after(self, row: Any, now: float) -> float: ...

    @property
    def horizon(self) -> float:
        """Seconds after which an untouched row no longer matters (it can be purged)."""


@dataclass(frozen=True)
class Window:
    """At most ``limit`` takes in a window of ``window`` seconds that starts with the first."""

    limit: int
    window: float

    def upsert_values(self, table: Table, now: float) -> tuple[dict[str, Any], dict, Any]:
        expired = table.c.window_start <= now - self.window
        fresh = {"hits": 1, "window_start": now, "next_at": now, "delay": 0.0}
        changes = {
            "hits": case((expired, 1), else_=table.c.hits + 1),
            "window_start": case((expired, now), else_=table.c.window_start),
            "next_at": now,
        }
        return fresh, changes, or_(expired, table.c.hits < self.limit)

    def retry_after(self, row: Any, now: float) -> float:
        return row.window_start + self.window - now

    @property
    def horizon(self) -> float:
        return self.window


@dataclass(frozen=True)
class Backoff:
    """``free`` takes, then waits of ``base``, twice that, four times… seconds, at most ``cap``.

    Forgotten once nobody took for ``window`` seconds after the last wait ended.
    """

    free: int
    base: float
    cap: float
    window: float

    def _delay_after(self, hits: Any, previous_delay: Any) -> Any:
        doubled = case((previous_delay * 2 > self.cap, self.cap), else_=previous_delay * 2)
        return case(
            (hits < self.free, 0.0),
            (previous_delay <= 0, min(self.base, self.cap)),
            else_=doubled,
        )

    def upsert_values(self, table: Table, now: float) -> tuple[dict[str, Any], dict, Any]:
        quiet = table.c.next_at + self.window <= now
        first_delay = 0.0 if self.free > 1 else min(self.base, self.cap)
        fresh = {"hits": 1, "window_start": now, "next_at": now + first_delay, "delay": first_delay}
        hits = case((quiet, 1), else_=table.c.hits + 1)
        delay = case((quiet, first_delay), else_=self._delay_after(hits, table.c.delay))
        changes = {
            "hits": hits,
            "window_start": case((quiet, now), else_=table.c.window_start),
            "next_at": now + delay,
            "delay": delay,
        }
        return fresh, changes, table.c.next_at <= now

    def retry_after(self, row: Any, now: float) -> float:
        return row.next_at - now

    @property
    def horizon(self) -> float:
        return self.cap + self.window


def take(session: Session, table: Table, key: str, rule: Rule, now: datetime) -> int | None:
    """Count one try against ``key``: None if the rule allows it, else whole seconds to wait.

    One statement decides (see the module's docstring). A refusal changes nothing. The caller
    commits: until then, on PostgreSQL, the row stays locked, so commit soon.
    """
    at = now.timestamp()
    fresh, changes, allowed = rule.upsert_values(table, at)
    statement = (
        insert_with_conflicts(session, table)
        .values(key=key[:KEY_LENGTH], **fresh)
        .on_conflict_do_update(index_elements=["key"], set_=changes, where=allowed)
        .returning(table.c.key)
    )
    # A row comes back only if one was written (RETURNING, not rowcount: psycopg's rowcount of
    # an upsert is not reliable through SQLAlchemy).
    if session.execute(statement).first() is not None:
        return None
    row = session.execute(select(table).where(table.c.key == key[:KEY_LENGTH])).one()
    return max(1, math.ceil(rule.retry_after(row, at)))


def take_all(
    session: Session, table: Table, tries: list[tuple[str, Rule]], now: datetime
) -> int | None:
    """Count one try against every key; None if each allows it, else the longest wait.

    On a refusal the caller rolls back, so the keys that did allow it are not charged either.
    Callers list keys in one fixed order, so two transactions never wait on each other's rows
    crosswise.
    """
    waits = [w for key, rule in tries if (w := take(session, table, key, rule, now)) is not None]
    return max(waits) if waits else None


def give_back(session: Session, table: Table, key: str) -> None:
    """Undo one take of a window (a try that turned out not to count, e.g. a good password)."""
    key = key[:KEY_LENGTH]
    session.execute(
        update(table)
        .where(and_(table.c.key == key, table.c.hits > 0))
        .values(hits=table.c.hits - 1)
    )


def forget(session: Session, table: Table, key: str) -> None:
    """Start ``key`` afresh (a successful sign-in or password reset ends its back-off)."""
    session.execute(delete(table).where(table.c.key == key[:KEY_LENGTH]))


def purge(session: Session, table: Table, older_than: float, now: datetime) -> int:
    """Delete rows no rule looks at any more: untouched for ``older_than`` seconds."""
    cutoff = now.timestamp() - older_than
    return session.execute(
        delete(table).where(table.c.window_start < cutoff, table.c.next_at < cutoff)
    ).rowcount


@dataclass(frozen=True)
class MailRules:
    """How often strangers may make us email an address (resets, notices, confirmations)."""

    per_address: Window
    per_client: Window

    def tries(self, address: str, client: str, action: str) -> list[tuple[str, Rule]]:
        """The keys a request counts against; the address key is shared by every action so
        a flood split between kinds of email still stops at the address's limit."""
        return [
            (f"mail:address:{address}", self.per_address),
            (f"mail:client:{action}:{client}", self.per_client),
        ]


def mail_rules() -> MailRules:
    window = float(config.env_int("MAIL_REQUEST_WINDOW", 3600))
    return MailRules(
        per_address=Window(config.env_int("MAIL_REQUEST_LIMIT", 3), window),
        per_client=Window(config.env_int("MAIL_REQUEST_CLIENT_LIMIT", 20), window),
    )
