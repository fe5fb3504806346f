"""Migrating from the environment, as `make migrate` and the containers do."""

from __future__ import annotations

import importlib
import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from shared import config, migrations
from shared.testing.fixtures import _url_for

SERVICES_WITH_DB = [s for s in config.SERVICES if migrations.has_migrations(s)]


def _differences_from_models(service: str, url: str) -> list:
    """What autogenerate would write for ``service`` against the database at ``url``."""
    metadata = importlib.import_module(f"services.{service}.models").Base.metadata
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()


@pytest.mark.parametrize("service", SERVICES_WITH_DB)
def test_a_migrated_postgresql_database_has_exactly_the_schema_of_the_models(
    service, make_database
):
    assert _differences_from_models(service, make_database(service)) == []


@pytest.mark.parametrize("service", SERVICES_WITH_DB)
def test_a_migrated_sqlite_database_has_exactly_the_schema_of_the_models(service, tmp_path):
    url = f"sqlite:///{tmp_path / service}.db"
    migrations.upgrade(service, url)
    assert _differences_from_models(service, url) == []


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
