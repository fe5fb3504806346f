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
