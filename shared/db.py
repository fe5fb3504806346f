"""A database per service, the outbox and inbox tables, and the unit of work.

The unit of work is the one transaction boundary of a use case: the rows it changes and the
events it records are committed together (the events land in the service's ``outbox``), so an
event is published if and only if the change it announces happened.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    Index,
    Insert,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    exc,
    insert,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransaction, sessionmaker
from sqlalchemy.types import TypeDecorator

from shared.bus.envelope import Event, new_event


def insert_with_conflicts(bind: Session | Connection | str, table: Any) -> Insert:
    """An INSERT that can say ``ON CONFLICT`` (PostgreSQL's or SQLite's, after ``bind``'s
    dialect or a dialect name): the database settles a race on a unique key, not a look-up
    before the insert."""
    name = bind if isinstance(bind, str) else bind.get_bind().dialect.name
    return (postgresql.insert if name == "postgresql" else sqlite.insert)(table)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite forgets zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store times in UTC with a zone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def make_base() -> type[DeclarativeBase]:
    """A declarative base of the service's own, with the outbox and inbox tables on it."""

    class Base(DeclarativeBase):
        metadata = MetaData(
            naming_convention={
                "ix": "ix_%(table_name)s_%(column_0_N_name)s",
                "uq": "uq_%(table_name)s_%(column_0_N_name)s",
                "ck": "ck_%(table_name)s_%(constraint_name)s",
                "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
                "pk": "pk_%(table_name)s",
            }
        )
        type_annotation_map = {datetime: UtcDateTime}

    bus_tables(Base.metadata)
    return Base


@dataclass(frozen=True)
class BusTables:
    outbox: Table
    inbox: Table


def bus_tables(metadata: MetaData) -> BusTables:
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


POSTGRES_CONNECT_ARGS: dict[str, Any] = {
    "connect_timeout": 5,
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
    "tcp_user_timeout": 60_000,
}
"""libpq parameters of every connection to PostgreSQL: TCP keepalives and a user timeout, so that
across a network partition a relay, a consumer or an outbox listener blocked on a dead
connection gives up in about a minute instead of the kernel's default of some fifteen."""

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


class Database:
    """The engine and session factory of one service's own database."""

    def __init__(self, url: str, *, schema: str | None = None, metadata: MetaData) -> None:
        self.url = url
        self.schema = schema
        self.metadata = metadata
        self.tables = bus_tables(metadata)
        kwargs: dict[str, Any] = {}
        if url.startswith("sqlite"):
            # A file cannot go away under an open connection: nothing to ping.
            kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        else:
            kwargs.update(pool_size=5, max_overflow=10, pool_recycle=1800)
            kwargs["connect_args"] = dict(POSTGRES_CONNECT_ARGS)
            if schema:
                kwargs["connect_args"]["options"] = f"-csearch_path={schema}"
        self.engine: Engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "before_cursor_execute", _sqlite_lock_for_update)
        else:
            _ping_connections_back_from_a_rest(self.engine)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def is_postgresql(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.sessions() as session:
            yield session

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


PING_AFTER_IDLE = 1.0
"""Seconds a pooled connection may rest before it is pinged on its way out of the pool."""


def _ping_connections_back_from_a_rest(engine: Engine) -> None:
    """Ping a pooled connection before use only if it sat unused for ``PING_AFTER_IDLE``.

    SQLAlchemy's ``pool_pre_ping`` pings at every checkout: a round trip before every
    transaction, a fifth of all the statements the suite sent under load (docs/benchmarks.md).
    A connection in steady use cannot have missed a PostgreSQL restart unnoticed for long; one
    that rested may have, and is pinged; a dead one is replaced before anyone uses it (raising
    ``DisconnectionError`` makes the pool connect anew). A restart in the second after a use is
    still caught: the statement fails, the pool discards every connection made before it, and
    the caller sees the outage as it would during the restart itself.
    """

    @event.listens_for(engine, "checkin")
    def _rested_from(_dbapi_conn: Any, record: Any) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_rested(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        rested_since = record.info.get("checked_in_at")
        if rested_since is None or time.monotonic() - rested_since < PING_AFTER_IDLE:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as error:
            raise exc.DisconnectionError(f"a pooled connection did not answer: {error}") from error


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets the web process read while the worker writes; busy_timeout waits for the lock
    # instead of failing, which is what several processes on one SQLite file need.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _sqlite_lock_for_update(
    _conn: Connection,
    cursor: Any,
    _statement: str,
    _parameters: Any,
    context: Any,
    _executemany: bool,
) -> None:
    """Give ``SELECT ... FOR UPDATE`` a meaning on SQLite: take the database's write lock.

    SQLite has no row locks and SQLAlchemy drops ``FOR UPDATE`` there, so a use case that reads
    a row "under a lock", decides, and writes (an enrollment's state, a package's hours) let a
    parallel request read the same row and decide the same: a promotion code was redeemed past
    its limit, a refund requested five times. SQLite's nearest lock is the one writer lock of
    the whole file: ``BEGIN IMMEDIATE`` before the first locking read takes it (waiting up to
    ``busy_timeout``), so such transactions take turns exactly as they do per row on
    PostgreSQL; readers outside them carry on (WAL). Limits are still written as atomic
    statements (a conditional UPDATE, a unique key) where they can be; this covers the rest.

    Only when no transaction is open: the driver (pysqlite's default) starts one at its first
    write, so an open transaction holds the write lock already (consumers take no batches on
    SQLite). A writer that still waits past ``busy_timeout`` fails as "database is locked", an
    ``OperationalError`` that ``database_unavailable`` counts as an outage: a request gets
    503 with ``Retry-After``, never 500; a consumer retries later. ``SKIP LOCKED``
    claims are left alone: a worker's poll (the outbox relay every 50 ms) would otherwise lock
    out every writer while it publishes, and under ``make run`` each queue has one claimer.
    """
    statement = getattr(getattr(context, "compiled", None), "statement", None)
    for_update = getattr(statement, "_for_update_arg", None)
    if for_update is None or for_update.skip_locked:
        return
    if not cursor.connection.in_transaction:
        cursor.execute("BEGIN IMMEDIATE")


def database_unavailable(error: BaseException) -> bool:
    """Whether ``error`` says the database could not be reached, rather than what was asked.

    Connection failures (refused, reset, server shutting down: SQLSTATE classes 08 and 57P, or
    no SQLSTATE at all) are about the moment, not the request, so a retry later will succeed.
    An error the server raised about the statement itself (a constraint, a timeout, a typo)
    would fail the same way again.
    """
    if not isinstance(error, exc.DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    if not isinstance(error, exc.OperationalError | exc.InterfaceError):
        return False
    sqlstate = getattr(error.orig, "sqlstate", None)
    return sqlstate is None or sqlstate.startswith(("08", "57P"))


class DuplicateEvent(Exception):
    """The event being handled was already applied (another consumer committed it first)."""


class UnitOfWork:
    """One transaction of one use case: ``with uow: ...; uow.commit()``.

    Leaving the block without ``commit()`` rolls everything back, events included. While an
    event is being handled (``handling``), the commit also records that event in the inbox, so
    applying the event and remembering that it was applied are one atomic step.
    """

    def __init__(self, db: Database, producer: str) -> None:
        self.db = db
        self.producer = producer
        self.session: Session | None = None
        self.handling: Event | None = None
        self.inbox_written = False
        self.events_written = 0
        """Events this unit of work has committed to the outbox (so far)."""
        self._events: list[Event] = []
        self._batch: Session | None = None
        self._savepoint: SessionTransaction | None = None

    def join(self, batch: Session) -> UnitOfWork:
        """Work inside ``batch``'s open transaction (the consumer's batch of events).

        Each ``with uow:`` block is then a savepoint and ``commit()`` releases it: the use case
        is applied, or rolled back alone, exactly as on its own, but it becomes durable with
        the batch's single commit. One commit (one fsync) for many events is what lets a
        consumer keep up with the broker; the consumer acknowledges the events only after it.
        """
        self._batch = batch
        return self

    def __enter__(self) -> UnitOfWork:
        if self.session is not None:
            raise RuntimeError("unit of work is already open")
        self._events = []
        if self._batch is not None:
            self.session = self._batch
            self._savepoint = self._batch.begin_nested()
            return self
        self.session = self.db.sessions()
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self.rollback()
        finally:
            if self._batch is None:
                self.session.close()
            else:
                # The next event of the batch starts from the database, not from this one's
                # objects; and ORM changes made after commit() are dropped, as they would be.
                self.session.expunge_all()
            self.session = None
            self._savepoint = None

    def record(self, event: Any, data: dict[str, Any] | None = None) -> Event:
        """Note an event this use case causes (a typed event, shared/bus/events.py); it is
        validated now and written on commit. ``record("type", {...})`` is the older form, kept
        while services move to typed events."""
        evt = new_event(event, data, self.producer)
        self._events.append(evt)
        return evt

    def commit(self) -> None:
        session = self._open()
        outbox, inbox = self.db.tables.outbox, self.db.tables.inbox
        now = utcnow()
        write_inbox = self.handling is not None and not self.inbox_written
        try:
            if self._events:
                session.execute(
                    insert(outbox),
                    [
                        {"id": e.id, "type": e.type, "payload": e.to_json(), "created_at": now}
                        for e in self._events
                    ],
                )
                if self._batch is None and self.db.is_postgresql:
                    self._announce_events(session)
            if write_inbox:
                session.execute(
                    insert(inbox),
                    {"event_id": self.handling.id, "type": self.handling.type, "handled_at": now},
                )
            if self._savepoint is not None:
                self._savepoint.commit()
                self._savepoint = None
            else:
                session.commit()
        except exc.IntegrityError as err:
            self.rollback()
            if write_inbox and self._is_inbox_conflict(err):
                raise DuplicateEvent(self.handling.id) from err
            raise
        self.events_written += len(self._events)
        self._events = []
        if write_inbox:
            self.inbox_written = True

    def _announce_events(self, session: Session) -> None:
        """Tell the service's outbox relay that events wait (it may be in another process).

        PostgreSQL delivers the notification when this transaction commits, the moment the
        rows become visible, and drops it if the transaction rolls back; so the relay neither
        looks too early nor misses them (shared/bus/outbox_listener.py listens). A consumer's
        batch does not notify: its worker wakes its own relay after the batch's commit.

        A transaction that notifies holds a lock shared by the whole PostgreSQL cluster while
        it commits, so notifying commits are serialized. At the rate use cases record events
        (requests, webhooks) that should not matter; it has not been measured under a bulk load.
        """
        session.execute(
            text("SELECT pg_notify(:channel, '')"), {"channel": outbox_channel(self.producer)}
        )

    def rollback(self) -> None:
        if self._batch is not None:
            if self._savepoint is not None and self._savepoint.is_active:
                self._savepoint.rollback()
        elif self.session is not None:
            self.session.rollback()
        self._events = []

    def handled_among(self, event_ids: list[str]) -> set[str]:
        """Which of these events the inbox already holds (one query for a batch)."""
        inbox = self.db.tables.inbox
        query = select(inbox.c.event_id).where(inbox.c.event_id.in_(event_ids))
        if self._batch is not None:
            return set(self._batch.scalars(query))
        with self.db.session() as s:
            return set(s.scalars(query))

    def already_handled(self, event_id: str) -> bool:
        inbox = self.db.tables.inbox
        query = select(inbox.c.event_id).where(inbox.c.event_id == event_id)
        if self._batch is not None:
            return self._batch.execute(query).first() is not None
        with self.db.session() as s:
            return s.execute(query).first() is not None

    def _open(self) -> Session:
        if self.session is None:
            raise RuntimeError("use the unit of work inside `with uow:`")
        return self.session

    @staticmethod
    def _is_inbox_conflict(err: exc.IntegrityError) -> bool:
        message = str(err.orig).lower()
        return "inbox" in message


UowFactory = Callable[[], UnitOfWork]
