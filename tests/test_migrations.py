"""Migrating from the environment, as `make migrate` and the containers do."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from shared import migrations
from shared.testing.fixtures import _url_for


def test_services_sharing_one_postgresql_database_each_migrate_into_their_own_schema(
    postgres, monkeypatch
):
    name = f"t_schemas_{uuid.uuid4().hex[:10]}"
    with postgres.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        monkeypatch.setenv("DATABASE_URL", _url_for(name))
        for service in ("identity", "enrollment"):
            migrations.upgrade(service)
        engine = sa.create_engine(_url_for(name))
        with engine.connect() as conn:
            tables = set(
                conn.execute(
                    sa.text(
                        "SELECT table_schema || '.' || table_name FROM information_schema.tables"
                        " WHERE table_schema IN ('identity', 'enrollment', 'public')"
                    )
                ).scalars()
            )
        engine.dispose()
        assert {"identity.alembic_version", "enrollment.alembic_version"} <= tables
        assert {"identity.outbox", "enrollment.outbox", "enrollment.courses"} <= tables
        assert not {t for t in tables if t.startswith("public.")}
    finally:
        with postgres.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
