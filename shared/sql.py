"""SQL as every service speaks it, below the unit of work and the outbox.

UTC timestamps that stay timezone-aware, ``INSERT ... ON CONFLICT`` in either dialect, the
connection settings of PostgreSQL and SQLite (keepalives, a ping after a rest, a meaning for
``FOR UPDATE`` on SQLite), and telling an outage from a bad statement. Nothing here knows the
bus: ``shared.outbox`` and ``shared.db`` build on it, which is what keeps them out of a cycle.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, DateTime, Engine, Insert, create_engine, event, exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator


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


def create_database_engine(url: str, schema: str | None = None) -> Engine:
    """The engine of one service's database, with the connection behaviour described below.

    ``schema`` (PostgreSQL) is the service's own schema in a database several services share.
    """
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        # A file cannot go away under an open connection: nothing to ping.
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
    else:
        kwargs.update(pool_size=5, max_overflow=10, pool_recycle=1800)
        kwargs["connect_args"] = dict(POSTGRES_CONNECT_ARGS)
        if schema:
            kwargs["connect_args"]["options"] = f"-csearch_path={schema}"
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "before_cursor_execute", _sqlite_lock_for_update)
    else:
        _ping_connections_back_from_a_rest(engine)
    return engine


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
