"""The site: server-rendered pages for every user, over the other services' HTTP APIs.

``gunicorn services.web.app:app`` serves it; importing this module builds nothing.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from services.web import errors, pages, security
from services.web.models import Base
from shared import config
from shared.bus.broker import Broker
from shared.db import Database
from shared.http import create_app as create_service_app
from shared.http import lazy_app
from shared.runtime import Runtime


def make_runtime(database_url: str | None = None, broker: Broker | None = None) -> Runtime:
    """The site's database holds only who is signed in (its sessions); it publishes and
    consumes no events, so it has no broker even when one is offered."""
    schema = None if database_url else config.database_schema("web")
    url = database_url or config.database_url("web")
    return Runtime(
        service="web", db=Database(url, schema=schema, metadata=Base.metadata), broker=None
    )


def configure(app: Flask) -> None:
    trust_proxies(app)
    security.install(app)
    pages.register(app)
    errors.install(app)


def trust_proxies(app: Flask) -> None:
    """Take the browser's address from ``TRUSTED_PROXIES`` hops of ``X-Forwarded-For``.

    The site vouches for that address to the services (shared/client_address.py), whose
    per-client limits depend on it. With the default of 0 the header is ignored, since a browser
    talking to the site directly could write anything in it; behind N proxies, only the
    entries those proxies appended are believed. Only the address is taken, nothing else.
    """
    hops = config.env_int("TRUSTED_PROXIES", 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=0, x_host=0, x_port=0)


def create_app(runtime: Runtime | None = None) -> Flask:
    return create_service_app(
        runtime or make_runtime(),
        blueprints=[],
        title="Preceptor site",
        description="Server-rendered pages; all data but the sessions comes from the other "
        "services' APIs.",
        configure=configure,
    )


__getattr__ = lazy_app(create_app)
