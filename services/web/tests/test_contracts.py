"""The site's stand-ins serve only what the real services have (see contracts/openapi_check.py).

Each answer a stand-in gives is checked as the site's tests run; this checks the routes
themselves, so a stand-in cannot keep an endpoint the service dropped or renamed.
"""

from __future__ import annotations

import pytest

from services.web.tests.contracts import openapi_check
from services.web.tests.contracts.base import ContractServer
from services.web.tests.contracts.email import EmailContract
from services.web.tests.contracts.enrollment import EnrollmentContract
from services.web.tests.contracts.identity import IdentityContract
from services.web.tests.contracts.payments import PaymentsContract
from services.web.tests.contracts.testimonials import TestimonialsContract
from services.web.tests.contracts.tutoring import TutoringContract

STAND_INS = (
    IdentityContract,
    EmailContract,
    EnrollmentContract,
    PaymentsContract,
    TutoringContract,
    TestimonialsContract,
)


@pytest.mark.parametrize("stand_in", STAND_INS, ids=lambda c: c.name)
def test_every_route_a_stand_in_serves_is_in_the_services_openapi(stand_in):
    server: ContractServer = stand_in()
    missing = [
        f"{method} {openapi_check.openapi_path(rule.rule)}"
        for rule in server.app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
        if openapi_check.operation(server.name, method, rule.rule) is None
    ]
    assert not missing, f"{server.name} has no such operations: {missing}"


def test_an_answer_the_service_could_not_give_is_a_drift():
    rule = "/api/sessions/<session_id>"
    assert openapi_check.drift("tutoring", "GET", rule, 200, {"id": "s"}) is not None
    assert "no such operation" in openapi_check.drift("tutoring", "GET", "/api/nowhere", 200, {})
    missing = {"type": "about:blank", "title": "No such session.", "status": 404}
    assert openapi_check.drift("tutoring", "GET", rule, 404, missing | {"detail": "No."}) is None
