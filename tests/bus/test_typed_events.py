"""Typed events: the classes producers declare, the schemas derived from them, and the routing.

Wire compatibility is what lets a rolling upgrade mix old and new workers: an event recorded
as a typed instance must be the same JSON as the same event recorded as a type and a dict.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

import pytest
from marshmallow import fields, validate

from services.enrollment.events import RequestRefund
from services.identity.events import UserRegistered
from shared.bus import catalogue
from shared.bus.envelope import InvalidEvent, load_data, new_event, parse_event, typed
from shared.bus.events import As, _derive_schema, as_dict, record
from shared.bus.handlers import Handlers, handles

WHEN = datetime(2026, 12, 3, 19, 0, tzinfo=UTC)


@record
class Inner:
    score: float


@record
class Probe:
    text: str
    count: Annotated[int, validate.Range(min=0)]
    mail: Annotated[str, As(fields.Email)]
    kind: Literal["a", "b"]
    when: datetime
    day: date
    tags: list[str]
    hours: dict[str, float]
    inner: Inner
    maybe: str | None
    optional: int | None = None


def _sample(field: fields.Field) -> Any:
    """A valid value for a derived field, so every catalogue entry can be built and sent."""
    for rule in field.validators:
        if isinstance(rule, validate.OneOf):
            return next(iter(rule.choices))
        if isinstance(rule, validate.Regexp):
            return "tutoring"
        if isinstance(rule, validate.Length) and rule.equal:
            return "usd"
    if isinstance(field, fields.Email):
        return "ada@example.com"
    if isinstance(field, fields.AwareDateTime):
        return WHEN
    if isinstance(field, fields.Date):
        return date(2026, 12, 3)
    if isinstance(field, fields.Boolean):
        return True
    if isinstance(field, fields.Integer):
        return 2
    if isinstance(field, fields.Float):
        return 1.5
    if isinstance(field, fields.List):
        return [_sample(field.inner)]
    if isinstance(field, fields.Dict):
        return {"renal": 1.5}
    if isinstance(field, fields.Nested):
        return _instance(field.nested)
    return "text"


def _instance(schema_cls: Any) -> Any:
    values = {name: _sample(f) for name, f in schema_cls().fields.items()}
    return schema_cls().load(schema_cls().dump(values))


@pytest.mark.parametrize("type_", sorted(catalogue.load()))
def test_a_typed_event_is_the_same_json_as_the_type_and_dict_it_replaces(type_):
    spec = catalogue.load()[type_]
    instance = _instance(spec.schema)
    assert isinstance(instance, spec.cls)
    assert dataclasses.is_dataclass(instance)

    as_typed = new_event(instance, producer=spec.producer)
    as_dict_form = new_event(type_, as_dict(instance), spec.producer)

    assert as_typed.type == type_ == type(instance).type
    assert as_typed.data == as_dict_form.data
    assert json.loads(as_typed.to_json())["data"] == json.loads(as_dict_form.to_json())["data"]
    read = parse_event(as_typed.to_json())
    assert typed(read) == instance
    assert load_data(read) == as_dict(instance)


def test_typed_events_are_frozen_and_keyword_only():
    event = UserRegistered(user_id="u1", email="a@example.com", name="Ada", roles=["student"])
    assert event.time_zone is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.name = "Eve"  # type: ignore[misc]
    with pytest.raises(TypeError):
        UserRegistered("u1", "a@example.com", "Ada", ["student"])  # type: ignore[misc]


def test_a_typed_event_is_still_validated_before_it_is_recorded():
    bad_role = UserRegistered(user_id="u1", email="a@example.com", name="Ada", roles=["king"])
    with pytest.raises(InvalidEvent, match="roles"):
        new_event(bad_role, producer="identity")
    bad_email = UserRegistered(user_id="u1", email="not an address", name="Ada", roles=[])
    with pytest.raises(InvalidEvent, match="email"):
        new_event(bad_email, producer="identity")


def test_a_command_is_declared_as_one_and_named_as_one():
    spec = catalogue.load()["refund.requested"]
    assert spec.kind == "command"
    assert spec.cls is RequestRefund
    assert {s.kind for s in catalogue.load().values()} == {"event", "command"}


def test_each_producer_declares_its_own_events_in_its_events_module():
    for name, spec in catalogue.load().items():
        assert spec.cls.__module__.startswith(f"services.{spec.producer}.events"), name


def test_the_schema_rules_for_each_kind_of_annotation():
    schema = Probe.Schema()
    f = schema.fields
    assert isinstance(f["text"], fields.String) and f["text"].required
    assert isinstance(f["count"], fields.Integer)
    assert any(isinstance(v, validate.Range) for v in f["count"].validators)
    assert isinstance(f["mail"], fields.Email)
    assert isinstance(f["kind"].validators[0], validate.OneOf)
    assert isinstance(f["when"], fields.AwareDateTime)
    assert isinstance(f["day"], fields.Date)
    assert isinstance(f["tags"], fields.List)
    assert isinstance(f["hours"], fields.Dict)
    assert isinstance(f["inner"], fields.Nested)
    assert f["maybe"].required and f["maybe"].allow_none
    assert not f["optional"].required and f["optional"].load_default is None

    loaded = schema.load(
        {
            "text": "t",
            "count": 1,
            "mail": "a@example.com",
            "kind": "a",
            "when": WHEN.isoformat(),
            "day": "2026-12-03",
            "tags": ["x"],
            "hours": {"renal": 1.0},
            "inner": {"score": 2.5},
            "maybe": None,
        }
    )
    assert loaded == Probe(
        text="t",
        count=1,
        mail="a@example.com",
        kind="a",
        when=WHEN,
        day=date(2026, 12, 3),
        tags=["x"],
        hours={"renal": 1.0},
        inner=Inner(score=2.5),
        maybe=None,
    )


def test_an_annotation_without_a_field_is_refused_when_the_class_is_declared():
    class Strange:
        value: complex

    with pytest.raises(TypeError, match="complex"):
        _derive_schema(dataclasses.dataclass(Strange))


def test_handles_refuses_a_class_that_is_not_a_declared_event():
    class NotAnEvent:
        pass

    with pytest.raises(ValueError, match="not a declared event"):
        handles(NotAnEvent)


def test_the_routing_table_is_found_beside_the_use_cases():
    payments = Handlers.for_service("payments")
    assert payments.event_types == ["refund.requested"]
    assert payments.use_case("refund.requested") == "services.payments.service:refund"
    assert payments.has_outside_effects("refund.requested")
    assert Handlers.for_service("identity").event_types == []


def test_a_use_case_receives_the_typed_event():
    seen = []
    registry = Handlers("probe")
    registry.add_use_case(UserRegistered, lambda uow, event: seen.append((uow, event)), False)
    event = new_event(
        UserRegistered(user_id="u1", email="a@example.com", name="Ada", roles=["student"]),
        producer="identity",
    )
    registry.get("user.registered")(parse_event(event.to_json()), "the uow")
    assert seen == [("the uow", typed(event))]
    assert isinstance(seen[0][1], UserRegistered)
