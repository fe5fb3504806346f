"""Every one-line field of every API (names, titles, subjects, codes, zones...) refuses every
character that splits a line, at the real endpoint: a 422 problem naming the field, and
nothing stored. The fields are found from the schemas the endpoints really run (the fields
carrying ``shared.request_text.one_line``), so a new one-line field is tried without a word.
"""

from __future__ import annotations

import pytest

from shared.request_text import OneLine
from shared.tests.test_request_text import SPLITLINES
from tests.api.access import permitted_headers
from tests.api.request_schemas import API_SERVICES, request_fields
from tests.test_bad_input import assert_problem, table_counts

REFUSED = (*SPLITLINES, "\x07", "\x7f", "\x9b")
"""Every ``str.splitlines`` separator, and a C0, DEL and C1 control besides."""


def one_line_fields(service: str):
    return [
        f
        for f in request_fields(service)
        if any(isinstance(v, OneLine) for v in getattr(f.field, "validators", ()))
    ]


def test_the_fields_that_reach_an_email_header_or_a_heading_are_one_line():
    found = {(f.service, f.path) for s in API_SERVICES for f in one_line_fields(s)}
    assert {
        ("identity", "name"),
        ("email", "name"),
        ("email", "subject"),
        ("enrollment", "title"),
        ("enrollment", "code"),
        ("payments", "name"),
        ("testimonials", "display_name"),
        ("tutoring", "time_zone"),
    } <= found


@pytest.mark.parametrize("service", API_SERVICES)
def test_every_one_line_field_refuses_every_line_separator(service, services, people):
    identity, callers = people
    svc = identity if service == "identity" else services(service)
    client = svc.client
    spec = client.get("/openapi.json").get_json()
    fields = one_line_fields(service)
    assert fields, f"{service} has no one-line field"
    before = table_counts(svc)
    for field in fields:
        operation = spec["paths"][field.spec_path][field.method.lower()]
        headers = permitted_headers(operation, callers)
        call = getattr(client, field.method.lower())
        for character in REFUSED:
            value = field.body(f"Ada{character}Bcc: eve@example.com")
            if field.location == "query":
                r = call(field.url, query_string=value, headers=headers)
            else:
                r = call(field.url, json=value, headers=headers)
            problem = assert_problem(r)
            assert problem["status"] == 422, (field.rule, field.path, repr(character), problem)
            named = [k for k in problem["errors"] if k.split(".")[0].split("[")[0] == field.top]
            assert named, (field.rule, field.path, repr(character), problem)
    assert table_counts(svc) == before
