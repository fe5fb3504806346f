"""Prometheus metrics of every service, defined once per process and labelled by service.

Where each process is scraped (README "Metrics"):

- a service's web process answers ``GET /metrics``: its HTTP requests, and the outbox backlog
  read from the database at scrape time (so the backlog alarm still fires when the worker,
  whose relay should drain it, is dead);
- a worker process serves the same text on ``METRICS_PORT`` (``start_worker_endpoint``): the
  events it relayed, applied, retried and dead-lettered, emails sent, Stripe events reconciled,
  and the outbox backlog again.

Under gunicorn every worker process has its own counters. ``deploy/gunicorn.conf.py`` sets
``PROMETHEUS_MULTIPROC_DIR`` (before anything imports prometheus_client) so each process writes
its values to files there and ``/metrics`` adds them up: a scrape then sees the whole service,
not whichever worker happened to answer. No metric here is a live gauge, which is what keeps
multiprocess mode simple (the outbox gauges are computed per scrape by ``OutboxCollector``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily, Metric

from shared.config import env, env_int, service_port

HTTP_REQUESTS = Counter(
    "preceptor_http_requests_total",
    "HTTP requests answered",
    ["service", "route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "preceptor_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["service", "route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
EVENTS_PUBLISHED = Counter(
    "preceptor_events_published_total", "Events relayed from the outbox", ["service", "type"]
)
EVENTS_CONSUMED = Counter(
    "preceptor_events_consumed_total", "Events applied by a handler", ["service", "type"]
)
EVENTS_DUPLICATE = Counter(
    "preceptor_events_duplicate_total",
    "Events skipped because the inbox had them",
    ["service", "type"],
)
EVENTS_RETRIED = Counter(
    "preceptor_events_retried_total",
    "Handler failures sent back for another try",
    ["service", "type"],
)
EVENTS_DEAD_LETTERED = Counter(
    "preceptor_events_dead_lettered_total",
    "Events moved to the dead-letter queue",
    ["service", "type"],
)
EVENTS_REPLAYED = Counter(
    "preceptor_events_replayed_total",
    "Dead letters sent back to the service's queue by an operator",
    ["service", "type"],
)
EMAILS_SENT = Counter("preceptor_emails_sent_total", "Emails accepted by the SMTP server", ["kind"])
EMAILS_FAILED = Counter(
    "preceptor_emails_failed_total", "Email send attempts that failed", ["kind"]
)
STRIPE_EVENTS = Counter(
    "preceptor_stripe_events_total",
    "Stripe events received, by source (webhook or reconcile) and outcome "
    "(applied, ignored, flagged, duplicate, rejected)",
    ["source", "type", "outcome"],
)

OUTBOX_BACKLOG = "preceptor_outbox_backlog"
OUTBOX_OLDEST_AGE = "preceptor_outbox_oldest_age_seconds"


class OutboxCollector:
    """The outbox backlog and the age of its oldest row, read from the database per scrape.

    A gauge refreshed by a loop would be as stale as the loop and would need a live-gauge
    mode under gunicorn; one indexed count per scrape is cheap and always true.
    """

    def __init__(self, service: str, db: Any) -> None:
        self.service = service
        self.db = db

    def collect(self) -> Iterator[Metric]:
        backlog = GaugeMetricFamily(
            OUTBOX_BACKLOG, "Events waiting in the outbox", labels=["service"]
        )
        age = GaugeMetricFamily(
            OUTBOX_OLDEST_AGE, "Age of the oldest unpublished event", labels=["service"]
        )
        try:
            count, oldest = self.db.outbox_backlog()
        except Exception:  # a scrape must answer even when the database does not
            return
        backlog.add_metric([self.service], count)
        age.add_metric([self.service], oldest or 0.0)
        yield backlog
        yield age


class _Forward:
    """Hands a registry's metrics to another registry (the process's own plus the outbox)."""

    def __init__(self, source: Any) -> None:
        self.source = source

    def collect(self) -> Iterator[Metric]:
        return self.source.collect()


def process_registry() -> Any:
    """This process's metrics, or every gunicorn worker's when multiprocess mode is on."""
    directory = env("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return REGISTRY
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)
    return registry


def scrape_registry(service: str, db: Any | None) -> CollectorRegistry:
    """What ``/metrics`` answers: the process's metrics and, for a service with data, its outbox."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Forward(process_registry()))
    if db is not None:
        registry.register(OutboxCollector(service, db))
    return registry


def exposition(service: str, db: Any | None) -> bytes:
    return generate_latest(scrape_registry(service, db))


def start_worker_endpoint(service: str, db: Any | None, port: int, host: str) -> Any:
    """Serve a worker's metrics on ``host:port`` (any path; port 0 picks a free one).

    A worker has no Flask app, so prometheus_client's own small HTTP server answers in a
    daemon thread; returns the server (``server.server_port``, ``server.shutdown()``).
    """
    server, _thread = start_http_server(port, addr=host, registry=scrape_registry(service, db))
    return server


def worker_endpoint_address(service: str) -> tuple[str, int]:
    """``METRICS_HOST``/``METRICS_PORT`` of a worker; the port defaults to its API's + 1000."""
    port = env_int("METRICS_PORT", service_port(service) + 1000)
    host = env("METRICS_HOST", env("GUNICORN_HOST", "127.0.0.1"))
    return host, port
