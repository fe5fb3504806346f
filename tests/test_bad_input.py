"""Bad input, everywhere: every JSON endpoint of every service, driven by its OpenAPI spec.

For each operation that takes a JSON body we send malformed JSON, a body of the wrong shape,
each required field missing, every field with a wrong type, and an oversized body. Each must
be answered with a problem+json 4xx (naming the field where there is one) and leave every
table of the service as it was.
"""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from shared import config
from tests.api.access import permitted_headers

API_SERVICES = ("identity", "email", "enrollment", "payments", "tutoring", "testimonials")
# Bodies that are not JSON by design: RFC 8058 one-click forms and Stripe-signed webhooks.
RAW_BODY_PATHS = ("/api/unsubscribe/", "/api/stripe/")
WRONG = {
    "string": 12345,
    "integer": "twelve",
    "number": "twelve",
    "boolean": "maybe",
    "array": "not-a-list",
    "object": ["not", "an", "object"],
}


def table_counts(svc) -> dict[str, int]:
    with svc.runtime.db.engine.connect() as conn:
        return {
            t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in svc.runtime.db.metadata.sorted_tables
        }


def resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def json_operations(spec: dict):
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in ("post", "put", "patch"):
                continue
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                path_x = re.sub(r"\{[^}]+\}", "x", path)
                yield method, path_x, resolve(spec, body["schema"]), op


def assert_problem(response, *, status_range=(400, 499)) -> dict:
    assert status_range[0] <= response.status_code <= status_range[1], (
        response.status_code,
        response.get_data(as_text=True)[:300],
    )
    assert response.mimetype == "application/problem+json", response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert body["status"] == response.status_code and body["title"]
    return body


@pytest.mark.parametrize("service", API_SERVICES)
def test_every_json_endpoint_refuses_bad_bodies_and_changes_nothing(service, services, people):
    """Each call comes from a caller the endpoint lets in, so its body is what is refused."""
    identity, callers = people
    svc = identity if service == "identity" else services(service)
    client = svc.client
    spec = client.get("/openapi.json").get_json()
    operations = list(json_operations(spec))
    assert operations, f"{service} documents no JSON endpoint"
    before = table_counts(svc)
    for method, path, schema, operation in operations:
        headers = permitted_headers(operation, callers)
        call = getattr(client, method)
        body = assert_problem(
            call(path, data="{not json", content_type="application/json", headers=headers)
        )
        assert body["status"] in (400, 404, 422)
        assert_problem(
            call(path, data="[1, 2, 3]", content_type="application/json", headers=headers)
        )
        if not path.startswith(RAW_BODY_PATHS):
            form = call(
                path,
                data="email=a@b.c",
                headers=headers,
                content_type="application/x-www-form-urlencoded",
            )
            assert assert_problem(form)["status"] == 415
        props = schema.get("properties", {})
        for name in schema.get("required", []):
            valid_looking = {k: "x" for k in props if k != name}
            r = call(path, json=valid_looking, headers=headers)
            problem = assert_problem(r)
            if r.status_code == 422:
                assert name in problem.get("errors", {}), (path, name, problem)
        for name, prop in props.items():
            prop = resolve(spec, prop)
            wrong = WRONG.get(prop.get("type", "string"), 12345)
            r = call(path, json={name: wrong}, headers=headers)
            problem = assert_problem(r)
            if r.status_code == 422:
                assert name in problem.get("errors", {}), (path, name, problem)
        huge = json.dumps({"padding": "x" * (config.max_body_bytes() + 10)})
        r = call(path, data=huge, content_type="application/json", headers=headers)
        assert_problem(r)
        assert r.status_code == 413
    assert table_counts(svc) == before


@pytest.mark.parametrize("service", API_SERVICES)
def test_unknown_routes_and_methods_answer_problem_json(service, services):
    client = services(service).client
    assert assert_problem(client.get("/api/no-such-thing"))["status"] == 404
    assert assert_problem(client.delete("/openapi.json"))["status"] == 405
