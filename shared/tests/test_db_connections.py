"""Connections to PostgreSQL notice a dead peer in about a minute, not the kernel's fifteen."""

from __future__ import annotations

import sqlalchemy as sa

from shared.db import Database


def test_postgresql_connections_use_tcp_keepalives_and_a_user_timeout(postgres):
    url = postgres.url.render_as_string(hide_password=False)
    db = Database(url, metadata=sa.MetaData())
    try:
        with db.engine.connect() as conn:
            dsn = dict(
                part.split("=", 1) for part in conn.connection.dbapi_connection.info.dsn.split()
            )
    finally:
        db.dispose()
    assert dsn["keepalives"] == "1"
    assert int(dsn["tcp_user_timeout"]) <= 60_000
    assert int(dsn["keepalives_idle"]) + 3 * int(dsn["keepalives_interval"]) <= 60


def backend_pid(db: Database) -> int:
    with db.engine.connect() as conn:
        return conn.scalar(sa.text("SELECT pg_backend_pid()"))


def test_a_pooled_connection_killed_while_it_rested_is_replaced_before_anyone_uses_it(
    postgres, monkeypatch
):
    monkeypatch.setattr("shared.sql.PING_AFTER_IDLE", 0.0)  # every checkout counts as a rest
    db = Database(postgres.url.render_as_string(hide_password=False), metadata=sa.MetaData())
    try:
        first = backend_pid(db)
        with postgres.connect() as admin:  # as a PostgreSQL restart would, for this connection
            admin.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        second = backend_pid(db)  # no error: the ping found it dead and the pool reconnected
    finally:
        db.dispose()
    assert second != first


def test_a_connection_in_steady_use_is_not_pinged(postgres, monkeypatch):
    db = Database(postgres.url.render_as_string(hide_password=False), metadata=sa.MetaData())
    pings = []
    original = db.engine.dialect.do_ping
    monkeypatch.setattr(db.engine.dialect, "do_ping", lambda c: pings.append(c) or original(c))
    try:
        for _ in range(20):
            db.ping()
        monkeypatch.setattr("shared.sql.PING_AFTER_IDLE", 0.0)
        db.ping()
    finally:
        db.dispose()
    assert len(pings) == 1  # only the checkout after a "rest"
