"""The site: server-rendered pages for every user, over the other services' HTTP APIs.

``gunicorn services.web.app:app`` serves it; importing this module builds nothing.
"""

from __future__ import annotations

from flask import Flask

from services.web import errors, pages, security
from shared.bus.broker import Broker
from shared.http import create_app as create_service_app
from shared.http import lazy_app
from shared.runtime import Runtime


def make_runtime(database_url: str | None = None, broker: Broker | None = None) -> Runtime:
    """The site keeps no data and publishes nothing, so it needs neither database nor broker."""
    return Runtime(service="web", db=None, broker=None)


def configure(app: Flask) -> None:
    security.install(app)
    pages.register(app)
    errors.install(app)


def create_app(runtime: Runtime | None = None) -> Flask:
    return create_service_app(
        runtime or make_runtime(),
        blueprints=[],
        title="Preceptor site",
        description="Server-rendered pages; all data comes from the other services' APIs.",
        configure=configure,
    )


__getattr__ = lazy_app(create_app)
