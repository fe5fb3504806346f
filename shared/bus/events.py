"""Typed events: each event (or command) on the bus is a frozen dataclass, its schema derived.

A producer declares its events in ``services/<producer>/events.py``::

    @event("user.registered", producer="identity", description="A person created ...")
    class UserRegistered:
        user_id: str
        email: Email
        roles: list[Role]
        time_zone: str | None = None

and records instances (``uow.record(UserRegistered(user_id=..., ...))``). A consumer marks the
use case that handles it, right where it lives (``shared.bus.handlers.handles``)::

    @handles(UserRegistered)
    def welcome(uow: UnitOfWork, event: UserRegistered) -> None: ...

The routing key is the event's ``type`` and the JSON is what the derived marshmallow schema
dumps, so a typed event is byte-for-byte the dict-and-string event it replaced: producers and
consumers of either shape can run side by side during a rolling upgrade.

How a class becomes a schema (``_field_for``): ``str``, ``int``, ``float``, ``bool``, ``date``,
``datetime`` (timezone-aware, ISO 8601), ``list[T]``, ``dict[str, T]``, a ``Literal`` (one of
its values), another ``@record`` class (nested), and ``T | None`` (null allowed). A field
without a default is required; ``= None`` makes it optional. ``Annotated[T, validator, ...]``
adds marshmallow validators (``Annotated[int, Range(min=0)]``), and ``As(fields.Email)`` picks
the marshmallow field class — the aliases below name the usual ones.

A *command* (``@command``) is a request to one service to do something (``refund.requested``):
named as an imperative (``RequestRefund``), it travels the same way and is listed apart in
docs/events.md.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal, TypeVar, get_args, get_origin

from marshmallow import RAISE, Schema, fields, post_load, validate

T = TypeVar("T")


@dataclass(frozen=True)
class As:
    """``Annotated`` marker: use this marshmallow field class for the value."""

    field: type[fields.Field]


Email = Annotated[str, As(fields.Email)]
Currency = Annotated[str, validate.Length(equal=3)]
"""An ISO 4217 code, e.g. ``usd``."""
NonNegative = Annotated[int, validate.Range(min=0)]
Positive = Annotated[int, validate.Range(min=1)]
Role = Literal["student", "tutor", "marketing", "admin"]
ROLES: tuple[str, ...] = get_args(Role)


@dataclass(frozen=True)
class EventType:
    """One entry of the catalogue: what travels under routing key ``name``."""

    name: str
    version: int
    schema: type[Schema]
    description: str
    producer: str
    cls: type
    kind: str = "event"
    """``event`` (a fact others may react to) or ``command`` (a request to one service)."""


CATALOGUE: dict[str, EventType] = {}
"""Every event type declared so far (``shared.bus.catalogue.load`` imports all producers)."""


class IntegrationEvent:
    """What ``@event``/``@command`` add to a class (for type checkers and readers)."""

    type: ClassVar[str]
    version: ClassVar[int]
    producer: ClassVar[str]
    Schema: ClassVar[type[Schema]]


def record(cls: type[T]) -> type[T]:
    """Make ``cls`` a frozen, keyword-only dataclass with a derived schema, for nesting in an
    event (a list of scores, a student's week) and as the base of an event's common facts."""
    data_cls = dataclass(frozen=True, kw_only=True)(cls)
    data_cls.Schema = _derive_schema(data_cls)  # type: ignore[attr-defined]
    return data_cls


def event(
    name: str, *, producer: str, description: str, version: int = 1
) -> Callable[[type[T]], type[T]]:
    """Declare ``cls`` as the data of event type ``name`` (its routing key)."""
    return _declare(name, producer, description, version, "event")


def command(
    name: str, *, producer: str, description: str, version: int = 1
) -> Callable[[type[T]], type[T]]:
    """Declare ``cls`` as a command sent on the bus under routing key ``name``."""
    return _declare(name, producer, description, version, "command")


def _declare(
    name: str, producer: str, description: str, version: int, kind: str
) -> Callable[[type[T]], type[T]]:
    def register(cls: type[T]) -> type[T]:
        if name in CATALOGUE and CATALOGUE[name].cls.__qualname__ != cls.__qualname__:
            raise ValueError(f"event type {name} is declared twice")
        data_cls = record(cls)
        data_cls.type = name  # type: ignore[attr-defined]
        data_cls.version = version  # type: ignore[attr-defined]
        data_cls.producer = producer  # type: ignore[attr-defined]
        CATALOGUE[name] = EventType(
            name,
            version,
            data_cls.Schema,  # type: ignore[attr-defined]
            description.strip(),
            producer,
            data_cls,
            kind,
        )
        return data_cls

    return register


def is_event(value: object) -> bool:
    """True for an instance of a declared event or command class."""
    return isinstance(getattr(type(value), "type", None), str) and dataclasses.is_dataclass(value)


def as_dict(value: object) -> dict[str, Any]:
    """The event's data as plain Python values (nested records as dicts), a copy."""
    return dataclasses.asdict(value)  # type: ignore[call-overload]


# --- deriving the schema -------------------------------------------------------------------


def _derive_schema(cls: type) -> type[Schema]:
    hints = typing.get_type_hints(cls, include_extras=True)
    declared: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        optional = f.default is None
        declared[f.name] = _field_for(hints[f.name], required=not optional, optional=optional)

    class Meta:
        unknown = RAISE

    def make(self: Schema, data: dict[str, Any], **_: Any) -> Any:
        return cls(**data)

    declared["Meta"] = Meta
    declared["_make"] = post_load(make)
    return type(f"{cls.__name__}Schema", (Schema,), declared)


def _field_for(hint: Any, *, required: bool, optional: bool = False) -> fields.Field:
    """The marshmallow field for one annotation (see the module docstring for the rules)."""
    validators: list[Any] = []
    field_class: type[fields.Field] | None = None
    if get_origin(hint) is Annotated:
        hint, *extras = get_args(hint)
        for extra in extras:
            if isinstance(extra, As):
                field_class = extra.field
            else:
                validators.append(extra)
    allow_none = optional
    args = get_args(hint)
    if get_origin(hint) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        if len(rest) != 1:
            raise TypeError(f"unsupported union {hint!r}")
        allow_none = True
        inner = _field_for(rest[0], required=required)
        inner.allow_none = True
        if optional:
            inner.load_default = None
        inner.validators = [*inner.validators, *validators]
        return inner
    options: dict[str, Any] = {"required": required, "allow_none": allow_none}
    if optional:
        options["load_default"] = None
    if validators:
        options["validate"] = validators
    if field_class is not None:
        return field_class(**options)
    origin = get_origin(hint)
    if origin is Literal:
        options["validate"] = [validate.OneOf(args), *validators]
        return fields.String(**options)
    if origin is list:
        return fields.List(_field_for(args[0], required=False), **options)
    if origin is dict:
        return fields.Dict(
            keys=_field_for(args[0], required=False),
            values=_field_for(args[1], required=False),
            **options,
        )
    if isinstance(hint, type) and hasattr(hint, "Schema") and dataclasses.is_dataclass(hint):
        return fields.Nested(hint.Schema, **options)
    simple: dict[Any, type[fields.Field]] = {
        str: fields.String,
        int: fields.Integer,
        float: fields.Float,
        bool: fields.Boolean,
        datetime: fields.AwareDateTime,
        date: fields.Date,
    }
    if hint in simple:
        return simple[hint](**options)
    raise TypeError(f"no marshmallow field for {hint!r}")
