"""The NUL character, which PostgreSQL text cannot hold, is refused at the door, naming the
field, in every string field of every JSON body, in a query and in a path: never a 500."""

from __future__ import annotations

import pytest

from tests.api.access import permitted_headers
from tests.test_bad_input import (
    API_SERVICES,
    RAW_BODY_PATHS,
    assert_problem,
    json_operations,
    resolve,
    table_counts,
)


@pytest.mark.parametrize("service", API_SERVICES)
def test_a_nul_character_in_any_string_field_is_refused_naming_it(service, services, people):
    identity, callers = people
    svc = identity if service == "identity" else services(service)
    client = svc.client
    spec = client.get("/openapi.json").get_json()
    before = table_counts(svc)
    tried = 0
    for method, path, schema, operation in json_operations(spec):
        if path.startswith(RAW_BODY_PATHS):
            continue
        headers = permitted_headers(operation, callers)
        for name, prop in schema.get("properties", {}).items():
            if resolve(spec, prop).get("type", "string") != "string":
                continue
            r = getattr(client, method)(path, json={name: "Ada\x00Lovelace"}, headers=headers)
            problem = assert_problem(r)
            if r.status_code == 422:
                assert name in problem.get("errors", {}), (path, name, problem)
            tried += 1
    assert tried, f"{service} has no string field in a JSON body"
    assert table_counts(svc) == before


def test_a_nul_character_in_a_path_or_a_query_is_refused(services):
    enrollment = services("enrollment")
    assert assert_problem(enrollment.client.get("/api/courses/step%001"))["status"] == 404
    testimonials = services("testimonials")
    problem = assert_problem(testimonials.client.get("/api/testimonials?program=a%00b"))
    assert problem["status"] == 422 and "program" in problem["errors"]
