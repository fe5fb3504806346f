"""Identity's Flask app (``gunicorn services.identity.app:app``) and its runtime."""

from __future__ import annotations

from flask import Flask

from services.identity import signing_keys
from services.identity.api import blp, keys_blp
from services.identity.models import Base
from shared import auth, operations
from shared.bus.broker import Broker
from shared.http import create_app as create_service_app
from shared.http import lazy_app
from shared.runtime import Runtime

DESCRIPTION = """
Accounts and roles (student, tutor, marketing, admin), sign-in with short-lived RS256 access
tokens and rotating refresh tokens, invitations, password resets, and the JWKS every other
service verifies tokens against.
"""


def make_runtime(database_url: str | None = None, broker: Broker | None = None) -> Runtime:
    return Runtime.build("identity", Base.metadata, database_url=database_url, broker=broker)


def create_app(runtime: Runtime | None = None) -> Flask:
    runtime = runtime or make_runtime()

    def configure(app: Flask) -> None:
        # Identity checks tokens against its own keys in its database, never over HTTP. The
        # keys are re-read at once when a token names an unknown kid (a rotation by another
        # worker), since the database is as close as the cache.
        source = lambda: signing_keys.jwks(runtime.db)  # noqa: E731
        auth.install(app, auth.TokenVerifier(source, ttl=60, min_refetch=0))

    return create_service_app(
        runtime,
        [blp, keys_blp, operations.blp],
        title="Preceptor identity",
        description=DESCRIPTION,
        configure=configure,
    )


__getattr__ = lazy_app(create_app)
