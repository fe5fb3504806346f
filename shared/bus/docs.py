"""Renders ``docs/events.md`` from the catalogue and the handler registries."""

from __future__ import annotations

import importlib

from marshmallow import fields

from shared import config
from shared.bus.catalogue import CATALOGUE


def _consumers() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for service in config.SERVICES:
        try:
            handlers = importlib.import_module(f"services.{service}.handlers").handlers
        except ModuleNotFoundError:
            continue
        for event_type in handlers.event_types:
            found.setdefault(event_type, []).append(service)
    return found


def _field_type(field: fields.Field) -> str:
    if isinstance(field, fields.List):
        return f"list of {_field_type(field.inner)}"
    if isinstance(field, fields.Nested):
        return "object"
    return type(field).__name__.lower().replace("awaredatetime", "datetime (UTC, ISO 8601)")


def render() -> str:
    consumers = _consumers()
    lines = [
        "# Event catalogue",
        "",
        "Generated from `shared/bus/catalogue.py` and each service's `handlers.py` by `make docs`;"
        " do not edit by hand.",
        "",
        "Every event travels in the envelope `id`, `type`, `version`, `occurred_at`, `producer`,"
        " `correlation_id`, `causation_id`, `data` (DESIGN.md §3), on the topic exchange"
        " `preceptor.events` with the type as routing key.",
        "",
        "| type | version | producer | consumers |",
        "|---|---|---|---|",
    ]
    for name, spec in sorted(CATALOGUE.items()):
        who = ", ".join(consumers.get(name, [])) or "—"
        lines.append(
            f"| [`{name}`](#{name.replace('.', '')}) | {spec.version} | {spec.producer} | {who} |"
        )
    for name, spec in sorted(CATALOGUE.items()):
        lines += [
            "",
            f"## {name}",
            "",
            spec.description,
            "",
            "| field | type | required |",
            "|---|---|---|",
        ]
        for fname, field in spec.schema().fields.items():
            lines.append(
                f"| `{fname}` | {_field_type(field)} | {'yes' if field.required else 'no'} |"
            )
    return "\n".join(lines) + "\n"
