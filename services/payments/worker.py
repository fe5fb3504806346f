"""Payments' worker: refund requests from the bus, the outbox relay, and reconciliation."""

from __future__ import annotations

import logging

from services.payments import service
from services.payments.app import make_runtime
from services.payments.stripe_gateway import gateway
from shared import config
from shared.bus.handlers import Handlers
from shared.runtime import Runtime
from shared.worker import Job, main

log = logging.getLogger(__name__)


def reconcile(runtime: Runtime) -> int:
    """Apply Stripe events of the last 3 days that no webhook brought (missed or lost)."""
    applied = service.reconcile(runtime.uow, gateway())
    if applied:
        log.info("reconciled stripe events", extra={"applied": applied})
    return applied


def register_local_webhook(payments_url: str) -> None:
    """Point localstripe's webhook at ``payments_url`` (dev only; real Stripe: dashboard)."""
    gateway().register_local_webhook(payments_url)


def keep_local_webhook(runtime: Runtime) -> None:
    """Under ``make run`` localstripe may start after us: register at start and now and then."""
    if config.stripe_settings().is_local:
        register_local_webhook(config.service_url("payments"))


jobs = [Job("local-webhook", 300, keep_local_webhook), Job("reconcile", 60, reconcile)]

if __name__ == "__main__":
    main(make_runtime, Handlers.for_service("payments"), jobs)
