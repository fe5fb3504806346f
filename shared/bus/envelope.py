"""The envelope every event travels in (docs/architecture.md), and its validation against the catalogue."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields

from shared import context
from shared.bus import catalogue
from shared.bus.events import as_dict, is_event


class InvalidEvent(ValueError):
    """An event whose type is not in the catalogue or whose data does not match its schema."""


class EnvelopeSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    id = fields.UUID(required=True)
    type = fields.String(required=True)
    version = fields.Integer(required=True)
    occurred_at = fields.AwareDateTime(required=True)
    producer = fields.String(required=True)
    correlation_id = fields.String(required=True)
    causation_id = fields.String(allow_none=True, load_default=None)
    data = fields.Dict(required=True)


_envelope = EnvelopeSchema()


@cache
def _data_schema(type_: str, unknown: str | None = None) -> Schema:
    """One schema instance per event type (and unknown-field rule), shared by every call:
    building a marshmallow schema deep-copies its fields, which cost more than loading the
    data (docs/benchmarks.md). Loading and dumping keep no state on the instance."""
    schema = catalogue.load()[type_].schema
    return schema() if unknown is None else schema(unknown=unknown)


@dataclass(frozen=True)
class Event:
    type: str
    data: dict[str, Any]
    producer: str
    id: str = field(default_factory=context.new_id)
    version: int = 1
    occurred_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    correlation_id: str = field(default_factory=context.current_correlation_id)
    causation_id: str | None = field(default_factory=context.causation_id.get)
    loaded: Any = field(default=None, compare=False, repr=False)
    """The data as its typed event (shared/bus/events.py), kept from the validation
    ``parse_event`` did anyway, so handlers do not load it a second time."""

    def to_json(self) -> str:
        return json.dumps(
            {
                "id": self.id,
                "type": self.type,
                "version": self.version,
                "occurred_at": self.occurred_at.isoformat(),
                "producer": self.producer,
                "correlation_id": self.correlation_id,
                "causation_id": self.causation_id,
                "data": self.data,
            },
            separators=(",", ":"),
        )


def new_event(event: Any, data: dict[str, Any] | None = None, producer: str = "") -> Event:
    """Build the envelope of a typed event (or of a type name and its data, the older form),
    refusing it unless the catalogue knows the type and the data fits.

    Data is dumped through the type's schema (so datetimes become ISO strings) and then
    validated strictly: an unknown field is a producer bug, not a forward-compatible extra.
    """
    if is_event(event):
        type_, payload = type(event).type, event
    else:
        type_, payload = event, data or {}
    spec = catalogue.spec(type_)
    if spec is None:
        raise InvalidEvent(f"unknown event type {type_!r}: declare it in its producer's events.py")
    schema = _data_schema(type_)
    if not is_event(payload):
        extra = set(payload) - set(schema.fields)
        if extra:
            raise InvalidEvent(f"{type_}: fields not in the catalogue: {sorted(extra)}")
    try:
        dumped = schema.dump(payload)
        loaded = schema.load(dumped)
    except (ValidationError, ValueError, TypeError, AttributeError) as exc:
        raise InvalidEvent(f"{type_}: {_messages(exc)}") from exc
    return Event(type=type_, data=dumped, producer=producer, version=spec.version, loaded=loaded)


def parse_event(body: bytes | str) -> Event:
    """Read an event off the wire, refusing anything the catalogue does not accept.

    Consumers ignore unknown data fields, so a producer may add optional ones first.
    """
    try:
        raw = json.loads(body)
        env = _envelope.load(raw)
    except (ValueError, ValidationError, RecursionError) as exc:
        raise InvalidEvent(f"malformed envelope: {_messages(exc)}") from exc
    spec = catalogue.spec(env["type"])
    if spec is None:
        raise InvalidEvent(f"unknown event type {env['type']!r}")
    try:
        loaded = _data_schema(env["type"], EXCLUDE).load(env["data"])
    except ValidationError as exc:
        raise InvalidEvent(f"{env['type']}: {exc.messages}") from exc
    return Event(
        id=str(env["id"]),
        type=env["type"],
        version=env["version"],
        occurred_at=env["occurred_at"],
        producer=env["producer"],
        correlation_id=env["correlation_id"],
        causation_id=env["causation_id"],
        data=env["data"],
        loaded=loaded,
    )


def typed(event: Event) -> Any:
    """The event's data as its typed class (frozen: handlers share it safely)."""
    if event.loaded is not None:
        return event.loaded
    return _data_schema(event.type, EXCLUDE).load(event.data)


def load_data(event: Event) -> dict[str, Any]:
    """The event's data as plain Python values (datetimes, not strings): a copy of its own."""
    return as_dict(typed(event))


def _messages(exc: Exception) -> Any:
    return exc.messages if isinstance(exc, ValidationError) else str(exc)
