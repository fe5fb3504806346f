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
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from shared.testing.fixtures import ServiceUnderTest, pump
from tests.api.access import API_SERVICES, may_call, operations
from tests.api.callers import CALLERS, Caller
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


# --- real things to name in paths, made the way people make them --------------------------------


def _ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.get_json()
    return response.get_json()


def things_of_email(svc: ServiceUnderTest, people: dict[str, Caller]) -> dict[str, str]:
    admin = people["admin"].headers
    audience = _ok(svc.client.get("/api/admin/audiences", headers=admin))[0]
    campaign = svc.client.post(
        "/api/admin/campaigns",
        json={"subject": "Hello", "body_markdown": "Hello.", "audience": audience["key"]},
        headers=admin,
    )
    return {"campaign_id": _ok(campaign, 201)["id"]}


def things_of_enrollment(svc: ServiceUnderTest, people: dict[str, Caller]) -> dict[str, str]:
    course = svc.client.post(
        "/api/admin/courses",
        json={
            "slug": "matrix-course",
            "title": "Matrix Course",
            "price_minor": 0,
            "currency": "USD",
            "cycle_length_days": 28,
            "cadence_days": 28,
            "anchor_date": "2030-01-07",
            "seats_per_cycle": 10,
            "access_days": 60,
            "refund_window_days": 14,
            "published": True,
        },
        headers=people["admin"].headers,
    )
    course = _ok(course, 201)
    start = course["cycles"][0]["start"]
    enrollment = svc.client.post(
        "/api/enrollments",
        json={"course_slug": course["slug"], "cycle_start": start},
        headers=people["student"].headers,
    )
    return {"slug": course["slug"], "start": start, "enrollment_id": _ok(enrollment, 201)["id"]}


def things_of_payments(svc: ServiceUnderTest, people: dict[str, Caller]) -> dict[str, str]:
    purchase_ref = f"matrix-{uuid.uuid4()}"
    opened = svc.client.post(
        "/api/payment-intents",
        json={
            "purchase_ref": purchase_ref,
            "purchase_kind": "enrollment",
            "user_id": str(uuid.uuid4()),
            "email": "sam@example.com",
            "name": "Sam Student",
            "amount_minor": 1000,
            "currency": "USD",
        },
        headers=people["service"].headers,
    )
    return {"payment_id": _ok(opened, 201)["payment_id"], "purchase_ref": purchase_ref}


def things_of_tutoring(svc: ServiceUnderTest, people: dict[str, Caller]) -> dict[str, str]:
    tutor = people["tutor"].headers
    time_off = svc.client.post(
        "/api/tutors/me/time-off",
        json={"starts_at": "2030-01-07T09:00:00+00:00", "ends_at": "2030-01-08T09:00:00+00:00"},
        headers=tutor,
    )
    return {
        "tutor_id": _ok(svc.client.get("/api/tutors/me", headers=tutor))["id"],
        "time_off_id": _ok(time_off, 201)["id"],
    }


def things_of_testimonials(svc: ServiceUnderTest, people: dict[str, Caller]) -> dict[str, str]:
    program = _ok(svc.client.get("/api/programs"))[0]
    submitted = svc.client.post(
        "/api/testimonials",
        json={
            "display_name": "Sam S.",
            "program": program["program"],
            "story": "The weekly self-assessments showed me where my renal physiology was weak.",
            "rating": 5,
            "consent": True,
        },
        headers=people["student"].headers,
    )
    return {"testimonial_id": _ok(submitted, 201)["id"]}


THINGS: dict[str, Callable[[ServiceUnderTest, dict[str, Caller]], dict[str, str]]] = {
    "email": things_of_email,
    "enrollment": things_of_enrollment,
    "payments": things_of_payments,
    "tutoring": things_of_tutoring,
    "testimonials": things_of_testimonials,
}


def fill_path(path: str, things: dict[str, str]) -> str:
    """The path with each parameter naming a real thing where there is one, else a new id."""
    return re.sub(r"\{([^}]+)\}", lambda m: things.get(m.group(1), str(uuid.uuid4())), path)


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
