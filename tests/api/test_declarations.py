"""Every operation of every service declares who may call it, and the site publishes none.

The declarations come from ``shared.auth``'s decorators. An endpoint added without one (no
``auth.require``, ``auth.public`` or ``auth.shared_secret``) fails here, before the access
matrix could silently skip it.
"""

from __future__ import annotations

import pytest

from shared.runtime import Runtime
from shared.testing.openapi import spec_of
from tests.api.access import API_SERVICES, declaration_problems, operations


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
