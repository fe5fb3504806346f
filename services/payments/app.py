"""Payments' Flask app (``gunicorn services.payments.app:app``) and its runtime."""

from __future__ import annotations

from flask import Flask

from services.payments.api import blp
from services.payments.models import Base
from shared import operations
from shared.bus.broker import Broker
from shared.http import create_app as create_service_app
from shared.http import lazy_app
from shared.runtime import Runtime

DESCRIPTION = """
The only holder of Stripe keys: opens a Stripe PaymentIntent per purchase (one customer per
user), applies Stripe's signed webhooks once per event (and reconciles missed ones), refunds at
most once per request and never more than was paid, and keeps the ledger.
"""


def make_runtime(database_url: str | None = None, broker: Broker | None = None) -> Runtime:
    return Runtime.build("payments", Base.metadata, database_url=database_url, broker=broker)


def create_app(runtime: Runtime | None = None) -> Flask:
    return create_service_app(
        runtime or make_runtime(),
        [blp, operations.blp],
        title="Preceptor payments",
        description=DESCRIPTION,
        raw_body_paths=("/api/stripe/",),
    )


__getattr__ = lazy_app(create_app)
