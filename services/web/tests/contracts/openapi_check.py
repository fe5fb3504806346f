"""Each stand-in held to the real service's OpenAPI document, so a stand-in cannot drift.

A stand-in that serves a path the service does not have, answers a status the service does not
document, or returns a body the service would not (a missing required field, a field of the
wrong type, a field the service never sends) is caught: ``test_contracts.py`` checks the routes,
and every answer a stand-in gives during the site's tests is checked as it is sent (see
``ContractServer`` in base.py and the ``contracts_hold`` fixture in conftest.py).

Schemas are OpenAPI 3.0 (``nullable``), turned into JSON Schema here; objects are closed
(``additionalProperties: false`` unless the service says otherwise), because a field only a
stand-in sends is exactly how a page comes to rely on something the service never returns.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import jsonschema

from shared.testing.openapi import spec_of

JSON_TYPES = ("application/json", "application/problem+json")


def openapi_path(rule: str) -> str:
    """A Flask rule as OpenAPI writes it: ``/api/tutors/<tutor_id>`` → ``/api/tutors/{tutor_id}``."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def _same_shape(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def operation(service: str, method: str, rule: str) -> dict[str, Any] | None:
    """The service's operation for a stand-in's route or a concrete path (``answer()``'s).

    Parameter names may differ; a fixed path (``/api/tutors/me``) wins over a pattern.
    """
    wanted = _same_shape(openapi_path(rule))
    paths = [(p, i) for p, i in spec_of(service)["paths"].items() if method.lower() in i]
    for path, item in paths:
        if _same_shape(path) == wanted:
            return item[method.lower()]
    for path, item in paths:
        if re.fullmatch(_pattern(path), wanted):
            return item[method.lower()]
    for path, item in paths:  # a stand-in's ``<action>`` standing for several fixed words
        if re.fullmatch(_pattern(wanted.replace("{}", "{x}")), path):
            return item[method.lower()]
    return None


def _pattern(path: str) -> str:
    """``/api/tutors/{tutor_id}`` as a regular expression matching any one segment for ``{…}``."""
    return re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path))


def _json_schema(schema: Any) -> Any:
    """OpenAPI 3.0 to JSON Schema: ``nullable`` becomes a null alternative, objects close."""
    if isinstance(schema, list):
        return [_json_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {k: _json_schema(v) for k, v in schema.items() if k != "nullable"}
    if "properties" in converted and "additionalProperties" not in converted:
        converted["additionalProperties"] = False
    if schema.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


@cache
def _components(service: str) -> dict[str, Any]:
    return _json_schema(spec_of(service).get("components", {}))


def _resolved(service: str, response: dict[str, Any]) -> dict[str, Any]:
    ref = response.get("$ref", "")
    if ref.startswith("#/components/responses/"):
        return spec_of(service)["components"]["responses"][ref.rsplit("/", 1)[1]]
    return response


def drift(service: str, method: str, rule: str, status: int, body: Any) -> str | None:
    """Why this answer is not one the real service could give, or None when it could."""
    where = f"{service} {method} {openapi_path(rule)} → {status}"
    found = operation(service, method, rule)
    if found is None:
        return f"{where}: the service has no such operation"
    responses = found["responses"]
    response = responses.get(str(status)) or responses.get("default")
    if response is None:
        return f"{where}: the service documents no such answer ({', '.join(sorted(responses))})"
    content = _resolved(service, response).get("content") or {}
    schema = next((content[t]["schema"] for t in JSON_TYPES if t in content), None)
    if schema is None or body is None:
        return None
    document = {**_json_schema(schema), "components": _components(service)}
    errors = sorted(
        jsonschema.Draft4Validator(document).iter_errors(body), key=lambda e: list(e.path)
    )
    if not errors:
        return None
    return f"{where}: " + "; ".join(
        f"at {'/'.join(str(p) for p in e.absolute_path) or '(body)'}: {e.message}" for e in errors
    )
