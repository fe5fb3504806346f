"""Numbers and dates no request can carry: every field has a range, and an integer too long to
convert is a 400 at every endpoint that takes a body, before any use case runs."""

from __future__ import annotations

import pytest
from marshmallow import fields, validate

from tests.api.access import permitted_headers
from tests.api.request_schemas import API_SERVICES, request_fields
from tests.test_bad_input import assert_problem, json_operations, table_counts

BOUNDED = (fields.Number, fields.Date, fields.DateTime, fields.TimeDelta)
"""Integer, Float, Decimal, Date, DateTime, AwareDateTime...: each needs a range."""


@pytest.mark.parametrize("service", API_SERVICES)
def test_every_number_and_date_of_every_request_has_a_range(service):
    unbounded = [
        f"{f.method} {f.rule} {f.path} ({type(f.field).__name__})"
        for f in request_fields(service)
        if isinstance(f.field, BOUNDED)
        and not any(isinstance(v, validate.Range | validate.OneOf) for v in f.field.validators)
    ]
    assert not unbounded, "add a range (shared.request_bounds): " + ", ".join(unbounded)


@pytest.mark.parametrize("service", API_SERVICES)
def test_an_integer_of_5000_digits_is_a_400_on_every_post_put_and_patch(service, services, people):
    identity, callers = people
    svc = identity if service == "identity" else services(service)
    client = svc.client
    spec = client.get("/openapi.json").get_json()
    huge = "9" * 5000
    before = table_counts(svc)
    tried = 0
    for method, path, schema, operation in json_operations(spec):
        headers = permitted_headers(operation, callers)
        names = list(schema.get("properties", {})) or ["n"]
        body = "{" + ", ".join(f'"{name}": {huge}' for name in names) + "}"
        r = getattr(client, method)(
            path, data=body, content_type="application/json", headers=headers
        )
        problem = assert_problem(r)
        if not path.startswith(("/api/stripe/", "/api/unsubscribe/")):
            assert problem["status"] == 400 and "digits" in problem["detail"], (path, problem)
        tried += 1
    assert tried
    assert table_counts(svc) == before
