"""Every operation of every service declares who may call it, and the site publishes none.

The declarations come from ``shared.auth``'s decorators. An endpoint added without one (no
``auth.require``, ``auth.public`` or ``auth.shared_secret``) fails here, before the access
matrix could silently skip it.
"""

from __future__ import annotations

import pytest

from shared.runtime import Runtime
from tests.api.access import API_SERVICES, declaration_problems, operations


def spec_of(service: str) -> dict:
    """The service's OpenAPI document, from an app that opens no database (specs need none).

    Stand-ins for the database and the broker, never used to write a document, make the app
    mount what a service with data has (the operations API) as in production.
    """
    import importlib

    app_module = importlib.import_module(f"services.{service}.app")
    stand_in = object() if service != "web" else None
    runtime = Runtime(service=service, db=stand_in, broker=stand_in)  # type: ignore[arg-type]
    return app_module.create_app(runtime).test_client().get("/openapi.json").get_json()


@pytest.mark.parametrize("service", API_SERVICES)
def test_every_operation_declares_who_may_call_it(service):
    found = list(operations(spec_of(service)))
    assert found, f"{service} documents no operation"
    assert ("GET", "/api/admin/operations") in {(m, p) for m, p, _ in found}
    undeclared = {
        f"{method} {path}": problems
        for method, path, operation in found
        if (problems := declaration_problems(operation))
    }
    assert not undeclared, undeclared


def test_a_route_without_a_declaration_is_caught():
    from flask_smorest import Blueprint

    from shared import auth

    blp = Blueprint("probe", __name__, url_prefix="/api/probe")

    @blp.route("/forgot", methods=["GET"])
    @blp.response(200)
    def forgot():
        return None

    @blp.route("/admins", methods=["GET"])
    @blp.response(200)
    @auth.require("admin")
    def admins():
        return None

    from shared.http import create_app

    app = create_app(Runtime(service="probe", db=None, broker=None), [blp], title="probe")
    spec = app.test_client().get("/openapi.json").get_json()
    problems = {path: declaration_problems(op) for _, path, op in operations(spec)}
    assert problems["/api/probe/forgot"] and not problems["/api/probe/admins"]


def test_the_site_publishes_no_api_operation():
    """The site is HTML pages for people; its OpenAPI document is empty on purpose."""
    assert spec_of("web")["paths"] == {}
