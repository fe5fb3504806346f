"""A service's worker process: the event consumer, the outbox relay and scheduled jobs.

Each loop runs in its own thread with its own broker connection (kombu connections are not
thread-safe). SIGTERM and SIGINT stop the loops after the message at hand, so a deploy never
cuts a handler in half; a ``kill -9`` is covered by acknowledge-after-commit and the inbox.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from shared import context, logs, metrics
from shared.backoff import retry_wait
from shared.bus.consumer import EventConsumer
from shared.bus.handlers import Handlers
from shared.bus.outbox_listener import OutboxListener
from shared.bus.relay import OutboxRelay
from shared.db import database_unavailable
from shared.runtime import Runtime

log = logging.getLogger(__name__)

RELAY_POLL = 0.05
"""Seconds between the relay's looks at an idle outbox when nothing can wake it (SQLite): events
the web process records wait at most this long."""

RELAY_FALLBACK_POLL = 1.0
"""Seconds between the relay's looks at an idle outbox on PostgreSQL, where the outbox listener
wakes it as each event is committed. The poll only covers a wakeup that never came (a
notification lost while the listener reconnected, a pooler that does not pass LISTEN): rare
enough to wait a second for, and an idle worker no longer queries its database 20 times a
second."""


@dataclass(frozen=True)
class Job:
    """A periodic task: ``run(runtime)`` every ``every`` seconds (it must be safe to repeat)."""

    name: str
    every: float
    run: Callable[[Runtime], object]


@dataclass(frozen=True)
class Loop:
    """A loop of its own in a thread of the worker (the email service's delivery senders):
    ``run(runtime, stop, wakeup)`` keeps going until ``stop`` is set, handles its own errors,
    and is woken by ``wakeup`` as soon as the consumer has applied events (what a handler
    queued is committed then)."""

    name: str
    run: Callable[[Runtime, threading.Event, threading.Event], None]


class Worker:
    def __init__(
        self, runtime: Runtime, handlers: Handlers, jobs: list[Job | Loop] | None = None
    ) -> None:
        self.runtime = runtime
        self.handlers = handlers
        self.jobs = jobs or []
        self.stop = threading.Event()
        self.consumer = EventConsumer(runtime.service, handlers, runtime.uow, runtime.broker)
        self.relay = OutboxRelay(runtime.service, runtime.db, runtime.broker)
        self._wakeups: list[threading.Event] = []
        """Set after the consumer applied events: the relay (a handler's events wait in the
        outbox) and the ``Loop`` threads (a handler's emails wait in the database) go at once,
        without polling the database any faster."""
        self.consumer.after_batch = self._events_applied
        self._relay_wakeup = self._wakeup()
        self.outbox_listener: OutboxListener | None = None
        """On PostgreSQL, also wakes the relay when another process (the web process) or a
        scheduled job commits events."""
        if runtime.db.is_postgresql:
            self.outbox_listener = OutboxListener(
                runtime.service, runtime.db, self._relay_wakeup, self.stop
            )

    def declare_queues(self) -> None:
        """Declare this service's queues and bindings now (the consumer does it again when it
        connects). A broker that cannot be reached is not fatal: the consumer keeps trying."""
        if not self.handlers.event_types or self.runtime.broker is None:
            return
        try:
            with self.runtime.broker.connection() as conn:
                conn.ensure_connection(max_retries=1)
                self.runtime.broker.declare(conn, self.runtime.service, self.handlers.event_types)
        except Exception as exc:  # the consumer's own connect reports and retries
            log.warning(
                "queues not declared before start",
                extra={"service": self.runtime.service, "error": str(exc)[:200]},
            )

    def _events_applied(self, recorded: bool) -> None:
        """The consumer committed a batch: wake the loops, and the relay if the batch's
        handlers wrote events (an empty look at the outbox is a transaction for nothing)."""
        for wakeup in self._wakeups:
            if recorded or wakeup is not self._relay_wakeup:
                wakeup.set()

    def _wakeup(self) -> threading.Event:
        wakeup = threading.Event()
        self._wakeups.append(wakeup)
        return wakeup

    def _job_loop(self, job: Job) -> None:
        outage_runs = 0
        while not self.stop.is_set():
            wait = job.every
            # Each run is a flow of its own: the events it records share one fresh correlation
            # id, instead of every run of the thread's life sharing the first one it made.
            with context.flow(correlation=None):
                try:
                    job.run(self.runtime)
                    outage_runs = 0
                except Exception as exc:
                    if database_unavailable(exc):
                        # An outage is about the moment, not the job: one line, not a
                        # traceback every half second, and back off while it lasts.
                        outage_runs += 1
                        wait = retry_wait(outage_runs, at_least=job.every)
                        log.warning(
                            "scheduled job waits for the database",
                            extra={"job": job.name, "error": str(exc)[:200], "wait": wait},
                        )
                    else:
                        log.exception("scheduled job failed", extra={"job": job.name})
            self.stop.wait(wait)

    def _relay_loop(self) -> None:
        idle_wait = RELAY_POLL if self.outbox_listener is None else RELAY_FALLBACK_POLL
        self.relay.run(self.stop, idle_wait=idle_wait, wakeup=self._relay_wakeup)

    def start_metrics_endpoint(self) -> Any | None:
        """Serve this worker's /metrics on METRICS_HOST:METRICS_PORT (port 0 turns it off)."""
        host, port = metrics.worker_endpoint_address(self.runtime.service)
        if port == 0:
            return None
        try:
            server = metrics.start_worker_endpoint(
                self.runtime.service, self.runtime.db, port, host
            )
        except OSError as exc:
            # Events matter more than their figures: keep working, and say so loudly.
            log.error(
                "metrics endpoint could not listen",
                extra={"host": host, "port": port, "error": str(exc)},
            )
            return None
        log.info("metrics endpoint listening", extra={"host": host, "port": server.server_port})
        return server

    def threads(self) -> list[threading.Thread]:
        targets: list[tuple[str, Callable[[], None]]] = [("relay", self._relay_loop)]
        if self.outbox_listener is not None:
            targets.append(("outbox-listener", self.outbox_listener.run))
        if self.handlers.event_types:
            targets.append(("consumer", lambda: self.consumer.run(self.stop)))
        for job in self.jobs:
            if isinstance(job, Loop):
                run = partial(job.run, self.runtime, self.stop, self._wakeup())
            else:
                run = partial(self._job_loop, job)
            targets.append((f"job:{job.name}", run))
        return [
            threading.Thread(target=partial(self._as_service, t), name=n, daemon=True)
            for n, t in targets
        ]

    def _as_service(self, target: Callable[[], None]) -> None:
        """Run a thread's loop with its log lines naming this service, also where one process
        runs several services' workers (`make run`, shared/devtools/embedded.py)."""
        token = context.service.set(self.runtime.service)
        try:
            target()
        finally:
            # A loop a test runs on its own thread must not leave its service behind there.
            context.service.reset(token)

    def run_forever(self) -> None:
        run_together([self])


def run_together(workers: list[Worker]) -> None:
    """Run ``workers`` until SIGTERM or SIGINT, then stop each after the message at hand.

    A service's worker process runs one; `make run` runs every service's in one process
    (shared/devtools/embedded.py), where they share the imported code a laptop would otherwise
    hold six times.
    """
    logs.configure(workers[0].runtime.service if len(workers) == 1 else "workers")

    def stop(*_: object) -> None:
        for worker in workers:
            worker.stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stop)
    running = start(workers)
    while not workers[0].stop.is_set():
        workers[0].stop.wait(1)
    for _, threads in running:
        for t in threads:
            t.join(timeout=10)
    for endpoint, _ in running:
        if endpoint is not None:
            endpoint.shutdown()


def start(workers: list[Worker]) -> list[tuple[Any | None, list[threading.Thread]]]:
    """Start every worker's threads, after every consumer's queues exist.

    A relay publishes as soon as its thread starts; an event routed before its consumer's queue
    is bound goes nowhere (kombu cannot publish ``mandatory``). Production declares every queue
    before anything runs (deploy/rabbitmq/definitions.json); where one process runs several
    workers (`make run`) they declare their queues here first, so events recorded while the
    workers were down reach a consumer that starts after the producer's relay.
    """
    for worker in workers:
        worker.declare_queues()
    running = []
    for worker in workers:
        token = context.service.set(worker.runtime.service)
        endpoint = worker.start_metrics_endpoint()
        threads = worker.threads()
        for t in threads:
            t.start()
        log.info(
            "worker started",
            extra={
                "bindings": worker.handlers.event_types,
                "jobs": [j.name for j in worker.jobs],
            },
        )
        context.service.reset(token)
        running.append((endpoint, threads))
    return running


def main(
    runtime_factory: Callable[[], Runtime],
    handlers: Handlers,
    jobs: list[Job | Loop] | None = None,
) -> None:
    """Entry point of ``python -m services.<name>.worker``."""
    Worker(runtime_factory(), handlers, jobs).run_forever()
