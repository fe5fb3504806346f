"""Every request schema of every service, read from the apps themselves (not the OpenAPI text).

flask-smorest keeps, on each view function, the marshmallow schema instances its
``@blp.arguments`` parse: walking them sees the validators a field really runs, which the OpenAPI
document only partly shows (a custom validator such as ``one_line`` leaves no trace there).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

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

    @property
    def top(self) -> str:
        return self.path.split(".")[0]


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


def _walk(field: fields.Field, path: str) -> Iterator[tuple[str, fields.Field]]:
    yield path, field
    if isinstance(field, fields.Nested):
        nested = field.schema
        for name, child in nested.fields.items():
            yield from _walk(child, f"{path}.{child.data_key or name}")
    elif isinstance(field, fields.List):
        yield from _walk(field.inner, path)
    elif isinstance(field, fields.Dict) and field.value_field is not None:
        yield from _walk(field.value_field, path)


def request_fields(service: str) -> Iterator[RequestField]:
    """Every field (nested ones too) of every request schema of the service."""
    for method, rule, location, schema in request_schemas(service):
        for name, field in schema.fields.items():
            if field.dump_only:
                continue
            for path, inner in _walk(field, field.data_key or name):
                yield RequestField(service, method, rule, location, path, inner)
