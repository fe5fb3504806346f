"""Every request schema of every service, read from the apps themselves (not the OpenAPI text).

flask-smorest keeps, on each view function, the marshmallow schema instances its
``@blp.arguments`` parse: walking them sees the validators a field really runs, which the OpenAPI
document only partly shows (a custom validator such as ``one_line`` leaves no trace there).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from flask import Flask
from marshmallow import Schema, fields

API_SERVICES = ("identity", "email", "enrollment", "payments", "tutoring", "testimonials")


@dataclass(frozen=True)
class RequestField:
    service: str
    method: str
    rule: str
    location: str
    path: str
    """Dotted from the body or query: ``intake.exam_date``, ``changes.blocks.hours``."""
    field: fields.Field
    steps: tuple[str | None, ...]
    """How to reach the field from the body: a key, or None for an item of a list."""

    @property
    def top(self) -> str:
        return self.path.split(".")[0]

    @property
    def url(self) -> str:
        """The rule with every path parameter ``x`` (the body is checked before any lookup)."""
        return re.sub(r"<[^>]+>", "x", self.rule)

    @property
    def spec_path(self) -> str:
        """The rule as the OpenAPI document writes it: ``/api/plans/{plan_id}``."""
        return re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", self.rule)

    def body(self, value: Any) -> Any:
        """A body (or query) that puts ``value`` where this field is."""
        for step in reversed(self.steps):
            value = [value] if step is None else {step: value}
        return value


@cache
def app_of(service: str) -> Flask:
    """The service's app with a throwaway database: enough to read its routes."""
    module = importlib.import_module(f"services.{service}.app")
    return module.create_app(module.make_runtime(database_url="sqlite://"))


def request_schemas(service: str) -> Iterator[tuple[str, str, str, Schema]]:
    """(METHOD, rule, location, schema) for every argument every route of the service parses."""
    app = app_of(service)
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        view_class = getattr(view, "view_class", None)
        for method in methods:
            handler = getattr(view_class, method.lower(), None) if view_class else view
            doc = getattr(handler, "_apidoc", {}).get("arguments", {})
            for parameter in doc.get("parameters", []):
                if isinstance(parameter.get("schema"), Schema):
                    yield method, rule.rule, parameter["in"], parameter["schema"]


Walked = tuple[str, fields.Field, tuple[str | None, ...]]


def _walk(field: fields.Field, path: str, steps: tuple[str | None, ...]) -> Iterator[Walked]:
    yield path, field, steps
    if isinstance(field, fields.Nested):
        for name, child in field.schema.fields.items():
            key = child.data_key or name
            yield from _walk(child, f"{path}.{key}", (*steps, key))
    elif isinstance(field, fields.List):
        yield from _walk(field.inner, path, (*steps, None))


def request_fields(service: str) -> Iterator[RequestField]:
    """Every field (nested ones too) of every request schema of the service."""
    for method, rule, location, schema in request_schemas(service):
        for name, field in schema.fields.items():
            if field.dump_only:
                continue
            key = field.data_key or name
            for path, inner, steps in _walk(field, key, (key,)):
                yield RequestField(service, method, rule, location, path, inner, steps)
