"""Services under test: each one's app, consumer, outbox relay and worker on the test bus, started
by the ``services`` fixture; ``publish_events`` and ``pump`` drive the bus by hand.

The fixtures here are registered through ``shared.testing.fixtures`` (the suite's plugin).
"""

from __future__ import annotations

import importlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.serving import BaseWSGIServer

from shared import migrations
from shared.bus.broker import Broker
from shared.bus.consumer import EventConsumer
from shared.bus.envelope import Event
from shared.bus.handlers import Handlers
from shared.bus.relay import OutboxRelay
from shared.runtime import Runtime
from shared.testing.servers import serve_in_thread
from shared.worker import Worker


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
