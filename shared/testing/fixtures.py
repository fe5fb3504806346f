"""pytest fixtures every service's tests reuse (load with ``pytest_plugins``).

Integration tests run against the machine's real PostgreSQL and RabbitMQ. If either is
unreachable the tests fail with a message saying so: a skipped integration test proves nothing.

This module holds the suite's secrets and its databases and bus; the services under test are in
``harness.py`` and the servers beside them (SMTP, localstripe, Chromium) in ``servers.py``. Both
are imported here, so one plugin registers every fixture and ``from shared.testing.fixtures
import ...`` keeps working for all of them.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from shared import migrations
from shared.bus.broker import Broker
from shared.config import BusSettings
from shared.testing.harness import ServiceUnderTest, build_service, publish_events, pump, services
from shared.testing.servers import (
    browser,
    free_port,
    page,
    serve_in_thread,
    smtp_server,
    stripe_env,
    stripe_server,
    wait_for,
)

__all__ = [
    "AMQP_URL",
    "PG_URL",
    "SecretKeyRotation",
    "ServiceUnderTest",
    "browser",
    "build_service",
    "bus_settings",
    "database_templates",
    "free_port",
    "make_database",
    "page",
    "postgres",
    "publish_events",
    "pump",
    "rabbitmq",
    "secret_key_rotation",
    "serve_in_thread",
    "services",
    "smtp_server",
    "stripe_env",
    "stripe_server",
    "suite_secrets",
    "var_dir",
    "wait_for",
]

PG_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
AMQP_URL = os.environ.get("TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")


@pytest.fixture(scope="session", autouse=True)
def suite_secrets() -> None:
    """One set of secrets for the whole test session.

    Template databases are migrated (and seeded) once per session, so the secrets that seed
    them — the first admin's password, the key that encrypts signing keys — must not change
    from test to test.
    """
    import secrets

    for name in ("SECRET_KEY", "SERVICE_SECRET", "ADMIN_PASSWORD"):
        os.environ.setdefault(name, secrets.token_urlsafe(24))


@dataclass
class SecretKeyRotation:
    """A SECRET_KEY rotation as an operator does it, step by step, in this process's env.

    Settings are read at call time, so a use case run after a step sees the new keys; a Flask
    app reads them when it is created, as a restarted process would.
    """

    old: str
    new: str
    monkeypatch: pytest.MonkeyPatch

    def rotate(self) -> None:
        """The new key signs; the old one stays in SECRET_KEY_FALLBACKS to verify."""
        self.monkeypatch.setenv("SECRET_KEY", self.new)
        self.monkeypatch.setenv("SECRET_KEY_FALLBACKS", self.old)

    def drop_fallback(self) -> None:
        """The end of the rotation: only the new key is left."""
        self.monkeypatch.setenv("SECRET_KEY", self.new)
        self.monkeypatch.delenv("SECRET_KEY_FALLBACKS", raising=False)


@pytest.fixture
def secret_key_rotation(monkeypatch: pytest.MonkeyPatch) -> SecretKeyRotation:
    """Rotate the session's SECRET_KEY inside one test; the env is restored after it."""
    import secrets

    monkeypatch.delenv("SECRET_KEY_FALLBACKS", raising=False)
    return SecretKeyRotation(os.environ["SECRET_KEY"], secrets.token_urlsafe(24), monkeypatch)


@pytest.fixture(scope="session")
def postgres() -> Iterator[sa.Engine]:
    engine = sa.create_engine(
        PG_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5}
    )
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:
        pytest.fail(f"PostgreSQL is not reachable at {PG_URL} ({exc}); `make test` starts it.")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def rabbitmq() -> str:
    from kombu import Connection

    try:
        with Connection(AMQP_URL, connect_timeout=5) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:
        pytest.fail(f"RabbitMQ is not reachable at {AMQP_URL} ({exc}); `make test` starts it.")
    return AMQP_URL


def _url_for(database: str) -> str:
    return str(
        sa.engine.make_url(PG_URL).set(database=database).render_as_string(hide_password=False)
    )


@pytest.fixture(scope="session")
def database_templates(postgres: sa.Engine) -> Iterator[Callable[[str], str]]:
    """One migrated template database per service per test session."""
    made: dict[str, str] = {}
    run = uuid.uuid4().hex[:8]
    lock = threading.Lock()

    def template(service: str) -> str:
        with lock:
            if service not in made:
                name = f"tmpl_{service}_{run}"
                with postgres.connect() as conn:
                    conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
                migrations.upgrade(service, _url_for(name))
                made[service] = name
            return made[service]

    yield template
    with postgres.connect() as conn:
        for name in made.values():
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def make_database(
    postgres: sa.Engine, database_templates: Callable[[str], str]
) -> Iterator[Callable[[str], str]]:
    """A fresh, migrated PostgreSQL database for a service, dropped after the test."""
    created: list[str] = []

    def make(service: str) -> str:
        template = database_templates(service)
        name = f"t_{service}_{uuid.uuid4().hex[:10]}"
        with postgres.connect() as conn:
            conn.execute(
                sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
            )
        created.append(name)
        return _url_for(name)

    yield make
    with postgres.connect() as conn:
        for name in created:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def bus_settings(rabbitmq: str) -> Iterator[BusSettings]:
    """Uniquely named exchange and queues on the real RabbitMQ, deleted after the test."""
    tag = uuid.uuid4().hex[:10]
    settings = BusSettings(
        url=rabbitmq,
        exchange=f"test.{tag}",
        queue_prefix=f"test.{tag}.",
        max_attempts=3,
        retry_delay_ms=100,
    )
    yield settings
    from kombu import Connection

    with Connection(rabbitmq) as conn:
        channel = conn.channel()
        for name in [q for q in Broker.declared_queues if q.startswith(settings.queue_prefix)]:
            channel.queue_delete(name)
            Broker.declared_queues.discard(name)
        channel.exchange_delete(settings.exchange)


@pytest.fixture
def var_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "var"
    path.mkdir()
    monkeypatch.setenv("VAR_DIR", str(path))
    return path
