"""A service's database as its use cases see it: the declarative base, the engine, the unit of work.

The unit of work is the one transaction boundary of a use case: the rows it changes and the
events it records are committed together (the events land in the service's outbox,
``shared.outbox``), so an event is published if and only if the change it announces happened.
The SQL underneath (timestamps, dialects, connection settings) is ``shared.sql``; its names that
use cases need are re-exported here, so a use case imports its persistence from one place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Engine, MetaData, exc, text
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransaction, sessionmaker

from shared.bus.envelope import Event, is_event, new_event
from shared.outbox import DuplicateEvent, announce_events, bus_tables, outbox_channel
from shared.sql import (
    POSTGRES_CONNECT_ARGS,
    UtcDateTime,
    create_database_engine,
    database_unavailable,
    insert_with_conflicts,
    utcnow,
)

__all__ = [
    "POSTGRES_CONNECT_ARGS",
    "Database",
    "DuplicateEvent",
    "UnitOfWork",
    "UowFactory",
    "UtcDateTime",
    "database_unavailable",
    "insert_with_conflicts",
    "make_base",
    "outbox_channel",
    "utcnow",
]


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


class Database:
    """The engine and session factory of one service's own database."""

    def __init__(self, url: str, *, schema: str | None = None, metadata: MetaData) -> None:
        self.url = url
        self.schema = schema
        self.metadata = metadata
        self.tables = bus_tables(metadata)
        """The outbox and inbox, and the statements on them (``shared.outbox``)."""
        self.engine: Engine = create_database_engine(url, schema)
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

    def outbox_backlog(self) -> tuple[int, float | None]:
        """How many events wait in the outbox, and the age in seconds of the oldest."""
        with self.session() as session:
            return self.tables.backlog(session)

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


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

    def record(self, event: object) -> Event:
        """Note an event this use case causes, an instance of its typed class (one module per
        producer, shared/bus/events.py); it is validated now and written on commit."""
        if not is_event(event):
            raise TypeError(f"record a typed event (shared/bus/events.py), not {event!r}")
        evt = new_event(event, producer=self.producer)
        self._events.append(evt)
        return evt

    def commit(self) -> None:
        session = self._open()
        now = utcnow()
        write_inbox = self.handling is not None and not self.inbox_written
        try:
            if self._events:
                self.db.tables.append(session, self._events, now)
                if self._batch is None and self.db.is_postgresql:
                    self._announce_events(session)
            if write_inbox:
                self.db.tables.remember_handled(session, self.handling.id, self.handling.type, now)
            if self._savepoint is not None:
                self._savepoint.commit()
                self._savepoint = None
            else:
                session.commit()
        except exc.IntegrityError as err:
            self.rollback()
            if write_inbox and self.db.tables.is_inbox_conflict(err):
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
        announce_events(session, self.producer)

    def rollback(self) -> None:
        if self._batch is not None:
            if self._savepoint is not None and self._savepoint.is_active:
                self._savepoint.rollback()
        elif self.session is not None:
            self.session.rollback()
        self._events = []

    def handled_among(self, event_ids: list[str]) -> set[str]:
        """Which of these events the inbox already holds (one query for a batch)."""
        if self._batch is not None:
            return self.db.tables.handled_among(self._batch, event_ids)
        with self.db.session() as s:
            return self.db.tables.handled_among(s, event_ids)

    def already_handled(self, event_id: str) -> bool:
        if self._batch is not None:
            return self.db.tables.already_handled(self._batch, event_id)
        with self.db.session() as s:
            return self.db.tables.already_handled(s, event_id)

    def _open(self) -> Session:
        if self.session is None:
            raise RuntimeError("use the unit of work inside `with uow:`")
        return self.session


UowFactory = Callable[[], UnitOfWork]
