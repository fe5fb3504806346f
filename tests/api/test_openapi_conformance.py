"""schemathesis against every service's OpenAPI document, through the Flask app (WSGI).

For every operation, valid and invalid requests generated from the document are sent by a
caller without a token and by a caller the operation's declaration lets through (so the
checks reach past 401 and 403); that caller's valid requests name real things in their paths
(a course, a campaign, a testimonial...; see ``things.py``) so they reach past 404. Every answer must not be a 5xx, and must match the document:
a documented status code, a documented content type, a body of the documented schema.

Bounded: a fixed number of examples per operation and mode, derandomized (the same cases on
every run), no shrinking, no example database.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok

from shared.testing.fixtures import pump
from tests.api.access import API_SERVICES, permitted_headers
from tests.api.callers import ANONYMOUS
from tests.api.things import THINGS

EXAMPLES = 12
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
NEEDS_PAYMENTS = ("enrollment", "tutoring", "payments")


def caller_headers(operation: dict, as_caller: str, callers: dict) -> dict[str, str]:
    return {} if as_caller == ANONYMOUS else permitted_headers(operation, callers)


def run_operation(
    operation, headers: dict[str, str], mode: GenerationMode, path_parameters: dict[str, str]
) -> None:
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    def check(case) -> None:
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    check()


@pytest.mark.parametrize("as_caller", [ANONYMOUS, "permitted"])
@pytest.mark.parametrize("service", API_SERVICES)
def test_every_answer_is_documented_and_none_is_a_server_error(
    service, as_caller, services, stripe_env, smtp_server, people
):
    identity, callers = people
    payments = services("payments", serve=True) if service in NEEDS_PAYMENTS else None
    svc = {"identity": identity, "payments": payments}.get(service) or services(service)
    if svc is not identity:
        pump(identity, svc)  # tutors and students known to the service, as in production
    things = THINGS[service](svc, callers) if service in THINGS and as_caller != ANONYMOUS else {}
    schema = schemathesis.openapi.from_wsgi("/openapi.json", svc.app)
    failures: list[str] = []
    tried = 0
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()
        headers = caller_headers(operation.definition.raw, as_caller, callers)
        if as_caller != ANONYMOUS and not headers:
            continue  # public: the anonymous run covers it
        real = {p.name: things[p.name] for p in operation.path_parameters if p.name in things}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                # Valid requests name real things where there are some, to reach past 404.
                run_operation(operation, headers, mode, real if mode.is_positive else {})
                tried += 1
            except Unsatisfiable:
                continue  # nothing to make invalid (no parameter, no body)
            except (Exception, BaseExceptionGroup) as exc:
                failures.append(f"{operation.label} [{mode.value}]: {exc}"[:2500])
    assert tried, f"{service}: no operation was exercised"
    assert not failures, "\n\n".join(failures)
