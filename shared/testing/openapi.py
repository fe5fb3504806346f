"""A service's OpenAPI document in a test, without a database or a broker."""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

from shared.runtime import Runtime


@cache
def spec_of(service: str) -> dict[str, Any]:
    """The service's OpenAPI document, from an app that opens no database (specs need none).

    Stand-ins for the database and the broker, never used to write a document, make the app
    mount what a service with data has (the operations API) as in production.
    """
    app_module = importlib.import_module(f"services.{service}.app")
    stand_in = object() if service != "web" else None
    runtime = Runtime(service=service, db=stand_in, broker=stand_in)  # type: ignore[arg-type]
    return app_module.create_app(runtime).test_client().get("/openapi.json").get_json()
