"""Alembic, once per service: each service keeps its migrations in ``services/<name>/migrations``.

Alembic is driven from code (no alembic.ini) so one command migrates any service against any
URL: the embedded SQLite files, a PostgreSQL database, or a test database. The outbox and inbox
steps that every service's revisions call are ``shared.bus_migrations``.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, text

from shared import config
from shared.sql import UtcDateTime

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(service: str, url: str, schema: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "services" / service / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["schema"] = schema
    cfg.attributes["service"] = service
    return cfg


def upgrade(service: str, url: str | None = None, schema: str | None = None) -> None:
    if url is None:  # from the environment: maybe one schema per service in a shared database
        url = config.database_url(service)
        schema = schema or config.database_schema(service)
    command.upgrade(alembic_config(service, url, schema), "head")


def has_migrations(service: str) -> bool:
    return (ROOT / "services" / service / "migrations" / "env.py").exists()


def _render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    """Write our UTC timestamp type into migrations as a plain timezone-aware DateTime."""
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_env(metadata: MetaData) -> None:
    """The body of every service's ``migrations/env.py``."""
    from alembic import context
    from sqlalchemy import engine_from_config, pool

    cfg = context.config
    schema = cfg.attributes.get("schema")
    url = cfg.get_main_option("sqlalchemy.url")
    connect_args = {"options": f"-csearch_path={schema}"} if schema else {}
    engine = engine_from_config(
        {"sqlalchemy.url": url},
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
        connect_args=connect_args,
    )
    with engine.connect() as connection:
        if schema:
            connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            connection.commit()
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_item=_render_item,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        # Reference data a service cannot run without (topics, the first admin) is written by
        # an idempotent ``services/<name>/seed.py:run(connection)``, in its own transaction:
        # on SQLite alembic commits per revision, and a seed inside that block was never
        # committed.
        name = f"services.{cfg.attributes['service']}.seed"
        if not cfg.attributes.get("skip_seed") and importlib.util.find_spec(name):
            importlib.import_module(name).run(connection)
            connection.commit()
    engine.dispose()
