"""The outbox and the inbox of a service's database: their tables and every statement on them.

The outbox holds the events a unit of work committed until the relay has published them; the
inbox remembers which events a service's handlers applied, so a redelivered one is skipped.
The unit of work (``shared.db``), the relay (``shared.bus.relay``), the metrics and the admin
Operations page all go through this module and none of them names a column: a change to these
tables is made here, and in the migration helper ``shared.bus_migrations``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import (
    Column,
    Connection,
    Index,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    Text,
    Update,
    bindparam,
    delete,
    exc,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from shared.sql import UtcDateTime, utcnow

Executor = Session | Connection

_CHANNEL_BYTES = 63
"""PostgreSQL's longest identifier (NAMEDATALEN - 1): ``LISTEN`` cuts a longer channel name
to it, and ``pg_notify`` refuses one."""


def outbox_channel(service: str) -> str:
    """The PostgreSQL notification channel on which ``service``'s outbox announces new events.

    It names the service because several services may share one database (a schema each) and
    notifications are per database, not per schema. A name too long for PostgreSQL is cut the
    way ``LISTEN`` would cut it; two services cut to the same name only wake each other's relay
    for nothing.
    """
    return f"preceptor_outbox_{service}".encode()[:_CHANNEL_BYTES].decode(errors="ignore")


def announce_events(session: Executor, service: str) -> None:
    """Notify ``service``'s outbox channel, delivered by PostgreSQL when the transaction commits."""
    session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": outbox_channel(service)})


class DuplicateEvent(Exception):
    """The event being handled was already applied (another consumer committed it first)."""


class OutgoingEvent(Protocol):
    """What the outbox stores of an event: any envelope with these (``shared.bus.envelope``)."""

    id: str
    type: str

    def to_json(self) -> str: ...


@dataclass(frozen=True)
class RelayStatements:
    """The relay's three statements, built once per relay (building them cost more than
    running them; docs/benchmarks.md): the next batch, locked; marking it published; marking
    it failed."""

    next_batch: Select
    mark_published: Update
    mark_failed: Update


@dataclass(frozen=True)
class BusTables:
    """The outbox and inbox tables of one database's metadata, and the statements on them."""

    outbox: Table
    inbox: Table

    # --- the unit of work's commit -------------------------------------------------------

    def append(self, session: Executor, events: Iterable[OutgoingEvent], now: datetime) -> None:
        """Add committed-to-be events to the outbox, in the caller's transaction."""
        session.execute(
            insert(self.outbox),
            [
                {"id": e.id, "type": e.type, "payload": e.to_json(), "created_at": now}
                for e in events
            ],
        )

    def remember_handled(self, session: Executor, event_id: str, type_: str, now: datetime) -> None:
        """Write the inbox row of an event being applied: a second one violates the key."""
        session.execute(
            insert(self.inbox), {"event_id": event_id, "type": type_, "handled_at": now}
        )

    @staticmethod
    def is_inbox_conflict(err: exc.IntegrityError) -> bool:
        """Whether an integrity error is the inbox saying the event was applied already."""
        return "inbox" in str(err.orig).lower()

    def handled_among(self, session: Executor, event_ids: list[str]) -> set[str]:
        """Which of these events the inbox already holds (one query for a batch)."""
        query = select(self.inbox.c.event_id).where(self.inbox.c.event_id.in_(event_ids))
        return set(session.scalars(query))

    def already_handled(self, session: Executor, event_id: str) -> bool:
        query = select(self.inbox.c.event_id).where(self.inbox.c.event_id == event_id)
        return session.execute(query).first() is not None

    # --- what an operator reads (metrics, the Operations page) ------------------------------

    def backlog(self, session: Executor) -> tuple[int, float | None]:
        """How many events wait in the outbox, and the age in seconds of the oldest."""
        count, oldest = session.execute(
            select(func.count(), func.min(self.outbox.c.created_at)).where(
                self.outbox.c.published_at.is_(None)
            )
        ).one()
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)
        return count, (utcnow() - oldest).total_seconds() if oldest else None

    def last_handled(self, session: Executor, limit: int) -> list[dict[str, Any]]:
        """The newest rows of the inbox: what this service's handlers applied, newest first."""
        inbox = self.inbox
        rows = session.execute(
            select(inbox.c.event_id, inbox.c.type, inbox.c.handled_at)
            .order_by(inbox.c.handled_at.desc(), inbox.c.event_id)
            .limit(limit)
        ).all()
        return [{"id": r.event_id, "type": r.type, "handled_at": r.handled_at} for r in rows]

    # --- the relay --------------------------------------------------------------------------

    def relay_statements(self, batch_size: int) -> RelayStatements:
        outbox = self.outbox
        next_batch = (
            select(outbox.c.id, outbox.c.type, outbox.c.payload)
            .where(outbox.c.published_at.is_(None))
            .order_by(outbox.c.created_at, outbox.c.id)
            .limit(batch_size)
            .with_for_update(skip_locked=True)
        )
        batch_ids = outbox.c.id.in_(bindparam("ids", expanding=True))
        mark_published = update(outbox).where(batch_ids).values(published_at=bindparam("published"))
        mark_failed = (
            update(outbox)
            .where(batch_ids)
            .values(attempts=outbox.c.attempts + 1, last_error=bindparam("error"))
        )
        return RelayStatements(next_batch, mark_published, mark_failed)

    def purge_published(self, session: Executor, retention: timedelta) -> int:
        """Delete events published longer than ``retention`` ago; return how many."""
        result = session.execute(
            delete(self.outbox).where(self.outbox.c.published_at < utcnow() - retention)
        )
        return result.rowcount or 0


def bus_tables(metadata: MetaData) -> BusTables:
    """The outbox and inbox of ``metadata``, defined on it the first time."""
    if "outbox" in metadata.tables:
        return BusTables(metadata.tables["outbox"], metadata.tables["inbox"])
    outbox = Table(
        "outbox",
        metadata,
        Column("id", String(36), primary_key=True),
        Column("type", String(100), nullable=False),
        Column("payload", Text, nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
        Column("published_at", UtcDateTime, nullable=True),
        Column("attempts", Integer, nullable=False, server_default="0"),
        Column("last_error", Text, nullable=True),
    )
    Index(
        "ix_outbox_unpublished",
        outbox.c.created_at,
        postgresql_where=outbox.c.published_at.is_(None),
        sqlite_where=outbox.c.published_at.is_(None),
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("event_id", String(36), primary_key=True),
        Column("type", String(100), nullable=False),
        Column("handled_at", UtcDateTime, nullable=False),
    )
    # The admin Operations page lists the newest handled events (ORDER BY handled_at DESC
    # LIMIT n); without it that is a scan and sort of a table that only grows.
    Index("ix_inbox_handled_at", inbox.c.handled_at)
    return BusTables(outbox, inbox)
