"""Prometheus metrics of every service, defined once per process and labelled by service."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

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
OUTBOX_BACKLOG = Gauge("preceptor_outbox_backlog", "Events waiting in the outbox", ["service"])
OUTBOX_OLDEST_AGE = Gauge(
    "preceptor_outbox_oldest_age_seconds", "Age of the oldest unpublished event", ["service"]
)
EMAILS_SENT = Counter("preceptor_emails_sent_total", "Emails accepted by the SMTP server", ["kind"])
EMAILS_FAILED = Counter(
    "preceptor_emails_failed_total", "Email send attempts that failed", ["kind"]
)
