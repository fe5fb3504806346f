"""pytest fixtures every service's tests reuse (load with ``pytest_plugins``).

Integration tests run against the machine's real PostgreSQL and RabbitMQ. If either is
unreachable the tests fail with a message saying so: a skipped integration test proves nothing.
"""

from __future__ import annotations

import importlib
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from shared import migrations
from shared.bus.broker import Broker
from shared.bus.consumer import EventConsumer
from shared.bus.envelope import Event
from shared.bus.handlers import Handlers
from shared.bus.relay import OutboxRelay
from shared.config import BusSettings
from shared.runtime import Runtime
from shared.worker import Worker

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# How often a test server's loop looks for shutdown(). socketserver's 0.5 s default made
# every test that serves an app wait up to half a second per server while tearing down.
SHUTDOWN_POLL_SECONDS = 0.02


def serve_in_thread(app: Flask) -> BaseWSGIServer:
    """Serve ``app`` over real HTTP on a free port of 127.0.0.1, in a daemon thread; stop it
    with ``server.shutdown()``, which returns within ``SHUTDOWN_POLL_SECONDS``."""
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": SHUTDOWN_POLL_SECONDS}, daemon=True
    ).start()
    return server


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


@pytest.fixture
def smtp_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A real SMTP server (aiosmtpd) on a free port, keeping every message it receives."""
    from shared.devtools.smtp_sink import SmtpSink

    sink = SmtpSink("127.0.0.1", free_port(), tmp_path / "mail")
    sink.start()
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(sink.port))
    yield sink
    sink.stop()


@dataclass
class ServiceUnderTest:
    """One service wired to test infrastructure: its app, its consumer and its outbox relay."""

    name: str
    runtime: Runtime
    app: Flask
    consumer: EventConsumer | None
    relay: OutboxRelay
    server: BaseWSGIServer | None = None
    url: str | None = None
    worker: Worker | None = None
    _threads: list[threading.Thread] = field(default_factory=list)

    @property
    def client(self):
        return self.app.test_client()

    def serve(self) -> str:
        """Serve the app over real HTTP on a free port (for the site and the browser)."""
        if self.server is None:
            self.server = serve_in_thread(self.app)
            self.url = f"http://127.0.0.1:{self.server.server_port}"
        return self.url

    def recorded(self, event_type: str) -> list[dict]:
        """The data of every event of that type this service committed (its outbox), oldest first."""
        import json

        table = self.runtime.db.tables.outbox
        with self.runtime.db.session() as s:
            rows = s.execute(
                sa.select(table.c.payload)
                .where(table.c.type == event_type)
                .order_by(table.c.created_at)
            ).scalars()
            return [json.loads(p)["data"] for p in rows]

    def start_worker(self) -> Worker:
        """Run the service's real worker (consumer, relay, jobs) in background threads."""
        module = importlib.import_module(f"services.{self.name}.worker")
        handlers = Handlers.for_service(self.name)
        self.worker = Worker(self.runtime, handlers, getattr(module, "jobs", []))
        if self.consumer is not None:
            # The harness's own consumer would sit on prefetched messages nobody polls.
            self.consumer.close()
            self.consumer = self.worker.consumer
        for thread in self.worker.threads():
            thread.start()
            self._threads.append(thread)
        return self.worker

    def signal_stop(self) -> None:
        """Ask the worker's threads to stop without waiting for them: a consumer notices only
        when its current poll ends (up to a second), so a test stops every service's worker
        first and then joins them, paying that second once rather than once per service."""
        if self.worker is not None:
            self.worker.stop.set()

    def close(self) -> None:
        self.signal_stop()
        if self.server is not None:
            self.server.shutdown()
        for thread in self._threads:
            thread.join(timeout=10)
        if self.consumer is not None:
            self.consumer.close()
        self.relay.close()
        if self.runtime.db is not None:  # the site (web) keeps no database
            self.runtime.db.dispose()


def build_service(name: str, database_url: str | None, broker: Broker) -> ServiceUnderTest:
    app_module = importlib.import_module(f"services.{name}.app")
    runtime = app_module.make_runtime(database_url=database_url, broker=broker)
    app = app_module.create_app(runtime)
    consumer = None
    handlers = Handlers.for_service(name)
    if handlers.event_types:
        consumer = EventConsumer(name, handlers, runtime.uow, broker, prefetch=20)
    return ServiceUnderTest(name, runtime, app, consumer, OutboxRelay(name, runtime.db, broker))


@pytest.fixture
def services(
    make_database, bus_settings, var_dir, monkeypatch
) -> Iterator[Callable[..., ServiceUnderTest]]:
    """Start services against PostgreSQL and RabbitMQ: ``identity = services("identity")``.

    ``services("enrollment", sqlite=True)`` gives the service a migrated SQLite file instead,
    as ``make run`` does: a race test runs on both, since SQLite has no row locks.
    """
    broker = Broker(bus_settings)
    started: list[ServiceUnderTest] = []

    def database_for(name: str, sqlite: bool) -> str | None:
        if not migrations.has_migrations(name):
            return None
        if not sqlite:
            return make_database(name)
        url = f"sqlite:///{var_dir / f'{name}-{uuid.uuid4().hex[:8]}.db'}"
        migrations.upgrade(name, url)
        return url

    def start(name: str, *, serve: bool = False, sqlite: bool = False) -> ServiceUnderTest:
        svc = build_service(name, database_for(name, sqlite), broker)
        if svc.consumer is not None:
            svc.consumer.open()  # declares the queue, so no event published later is lost
        if serve:
            monkeypatch.setenv(f"{name.upper()}_URL", svc.serve())
        started.append(svc)
        return svc

    yield start
    for svc in started:
        svc.signal_stop()
    for svc in reversed(started):
        svc.close()


def publish_events(broker: Broker, *events: Event, times: int = 1) -> None:
    """Put events on the exchange the way a producer's relay does (``times`` copies each, to
    play a redelivery)."""
    from kombu import Producer

    with broker.connection() as conn:
        broker.declare_exchange(conn)
        producer = Producer(conn.channel(), exchange=broker.exchange)
        for event in events:
            for _ in range(times):
                producer.publish(
                    event.to_json(),
                    routing_key=event.type,
                    message_id=event.id,
                    type=event.type,
                    content_type="application/json",
                    content_encoding="utf-8",
                    delivery_mode=2,
                )


def pump(*services: ServiceUnderTest, timeout: float = 15.0, quiet: float = 0.3) -> int:
    """Run relays and consumers until every outbox is empty and nothing arrives for ``quiet``."""
    deadline = time.monotonic() + timeout
    handled = 0
    quiet_since: float | None = None
    while time.monotonic() < deadline:
        moved = sum(s.relay.relay_once() for s in services)
        for s in services:
            if s.consumer is not None:
                moved += s.consumer.poll(0.05)
        handled += moved
        if moved:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= quiet:
            return handled
    raise AssertionError(f"the bus did not go idle within {timeout}s")


def wait_for(
    predicate: Callable[[], object],
    timeout: float = 15.0,
    interval: float = 0.05,
    message: str = "condition",
) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright (no browser download needed)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}; `make test` installs it.")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, tmp_path: Path):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15000)
    pg = context.new_page()
    yield pg
    try:
        pg.screenshot(path=str(tmp_path / "last-page.png"), full_page=True)
    finally:
        context.close()


@pytest.fixture(scope="session")
def stripe_server() -> Iterator[str]:
    """A real localstripe process on a free loopback port for the whole session (its URL)."""
    import subprocess
    import sys

    import requests

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "shared.devtools.fake_stripe", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        assert process.poll() is None, process.stderr.read().decode()[-2000:]
        try:
            return requests.get(f"{url}/js.stripe.com/v3/", timeout=1).ok
        except requests.RequestException:
            return False

    wait_for(up, timeout=30, message="localstripe to start")
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def stripe_env(stripe_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the payments service (and the checkout page) at the session's localstripe."""
    monkeypatch.setenv("STRIPE_API_BASE", stripe_server)
    monkeypatch.delenv("STRIPE_JS_URL", raising=False)
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_preceptor_tests")
    monkeypatch.setenv("STRIPE_PUBLISHABLE_KEY", "pk_test_preceptor_tests")
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_preceptor_tests")
    return stripe_server
