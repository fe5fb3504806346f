"""The role-by-endpoint matrix, generated from every service's OpenAPI document.

For every operation, every kind of caller its declaration does not let in (anonymous, each
role, a service; everyone for an endpoint opened by a shared secret) calls it with a minimal
valid-looking request, path ids naming things that exist where the test can make them. Each
call must be refused (401, 403 or 404; 400 for a missing Stripe signature) and the service's
database must be exactly as it was.

Who may call comes from the declaration (``x-access``, ``x-roles``), never from watching the
answers: ``test_declarations.py`` makes sure every operation has one.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa

from shared.testing.fixtures import ServiceUnderTest, pump
from tests.api.access import API_SERVICES, may_call, operations
from tests.api.callers import CALLERS
from tests.api.things import THINGS, fill_path
from tests.test_bad_input import resolve

REFUSED = {401, 403, 404}
REFUSED_UNSIGNED = REFUSED | {400}
"""Stripe's convention: an event without a valid Stripe-Signature is a 400."""
NEEDS_PAYMENTS = ("enrollment", "tutoring", "payments")
PATTERNED = ("matrix-probe", "usd", "USD", "tok_matrix", "09:00", "Matrix probe")
"""Candidates for a string with a pattern: the first the pattern accepts is used."""
STRINGS = {
    "email": "someone@example.com",
    "date": "2030-01-07",
    "date-time": "2030-01-07T09:00:00+00:00",
}


def example(spec: dict, schema: dict) -> Any:
    """A minimal value the schema accepts: required fields only, the first of an enum."""
    schema = resolve(spec, schema)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if kind == "object":
        props = schema.get("properties", {})
        return {name: example(spec, props[name]) for name in schema.get("required", [])}
    if kind == "array":
        return [example(spec, schema.get("items", {}))] * schema.get("minItems", 0)
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "boolean":
        return True
    text = STRINGS.get(schema.get("format", ""), "Matrix probe")
    if "pattern" in schema:
        text = next((t for t in PATTERNED if re.search(schema["pattern"], t)), text)
    return text.ljust(schema.get("minLength", 0), "x")[: schema.get("maxLength", len(text))]


def fingerprint(svc: ServiceUnderTest) -> dict[str, str]:
    """A digest of every row of every table of the service."""
    with svc.runtime.db.engine.connect() as conn:
        return {
            table.name: conn.execute(
                sa.text(
                    "SELECT md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), ''))"
                    f' FROM "{table.name}" r'
                )
            ).scalar_one()
            for table in svc.runtime.db.metadata.sorted_tables
        }


def request_of(spec: dict, operation: dict) -> dict[str, Any]:
    query = {
        p["name"]: example(spec, p.get("schema", {}))
        for p in operation.get("parameters", [])
        if p.get("in") == "query" and p.get("required")
    }
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    return {"query_string": query, **({"json": example(spec, body["schema"])} if body else {})}


@pytest.mark.parametrize("service", API_SERVICES)
def test_every_caller_an_endpoint_does_not_declare_is_refused_and_changes_nothing(
    service, services, stripe_env, people
):
    identity, callers = people
    payments = services("payments", serve=True) if service in NEEDS_PAYMENTS else None
    svc = {"identity": identity, "payments": payments}.get(service) or services(service)
    if svc is not identity:
        pump(identity, svc)  # the tutor's profile, as in production
    things = THINGS[service](svc, callers) if service in THINGS else {}
    spec = svc.client.get("/openapi.json").get_json()
    before = fingerprint(svc)
    let_in: list[str] = []
    refused = 0
    for method, path, operation in operations(spec):
        expected = REFUSED_UNSIGNED if path == "/api/stripe/webhook" else REFUSED
        request = request_of(spec, operation)
        for kind in CALLERS:
            if may_call(operation, kind):
                continue
            response = svc.client.open(
                fill_path(path, things),
                method=method,
                headers=callers[kind].headers,
                **request,
            )
            if response.status_code not in expected:
                let_in.append(f"{kind} → {method} {path}: {response.status_code}")
            refused += 1
    assert not let_in, "\n".join(let_in)
    assert refused, f"{service}: no call to refuse?"
    assert fingerprint(svc) == before
