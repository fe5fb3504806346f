"""The email service's WSGI app (``gunicorn services.email.app:app``)."""

from __future__ import annotations

from flask import Flask

from services.email.api import public, staff
from services.email.campaigns.api import bounces, marketing
from services.email.models import Base
from shared import http, operations
from shared.bus.broker import Broker
from shared.runtime import Runtime

SERVICE = "email"


def make_runtime(database_url: str | None = None, broker: Broker | None = None) -> Runtime:
    return Runtime.build(SERVICE, Base.metadata, database_url=database_url, broker=broker)


def create_app(runtime: Runtime | None = None) -> Flask:
    return http.create_app(
        runtime or make_runtime(),
        [public, staff, marketing, bounces, operations.blp],
        title="Preceptor email",
        description="Subscriptions with double opt-in, preferences, one-click unsubscribe "
        "(RFC 8058), campaigns with their suppression list, and the record of every email sent.",
        raw_body_paths=("/api/unsubscribe/",),
    )


__getattr__ = http.lazy_app(create_app)
