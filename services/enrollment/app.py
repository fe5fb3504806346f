"""Enrollment's Flask app (``gunicorn services.enrollment.app:app``) and its runtime."""

from __future__ import annotations

from flask import Flask

from services.enrollment.api import admin_blp, blp
from services.enrollment.models import Base
from shared import operations
from shared.bus.broker import Broker
from shared.http import create_app as create_service_app
from shared.http import lazy_app
from shared.runtime import Runtime

DESCRIPTION = """
The course catalogue (courses that restart on a cadence, each cycle with a seat capacity),
enrollments with a seat held while payment is pending, deferral, refunds inside the window,
waitlists for full cycles, and promotion codes.
"""


def make_runtime(database_url: str | None = None, broker: Broker | None = None) -> Runtime:
    return Runtime.build("enrollment", Base.metadata, database_url=database_url, broker=broker)


def create_app(runtime: Runtime | None = None) -> Flask:
    return create_service_app(
        runtime or make_runtime(),
        [blp, admin_blp, operations.blp],
        title="Preceptor enrollment",
        description=DESCRIPTION,
    )


__getattr__ = lazy_app(create_app)
