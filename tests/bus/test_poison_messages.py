"""Poison on the real RabbitMQ: whatever lands in a service's queue, the queue keeps flowing.

A body that is not JSON, JSON nested too deep to parse, an envelope of the wrong shape, a
garbled try counter, an event whose handler always raises: each is dead-lettered (or, for the
counter, handled) and the healthy events published after them are applied, once each.
"""

from __future__ import annotations

import json
import uuid

from kombu import Producer

from shared.bus import dead_letters
from shared.testing.fixtures import wait_for
from tests.bus import test_bus_guarantees
from tests.bus.test_bus_guarantees import greetings, register

probe = test_bus_guarantees.probe  # the fixture: a one-table service on the real RabbitMQ

POISON = {
    "not json": b"\xff\xfe\x00 this is not JSON",
    "too deep": b"[" * 100_000 + b"]" * 100_000,
    "not an object": b"[1, 2, 3]",
    "no envelope": json.dumps({"user_id": "u1", "email": "a@example.com"}).encode(),
    "bad id": json.dumps(
        {
            "id": "not-a-uuid",
            "type": "user.registered",
            "version": 1,
            "occurred_at": "2026-01-01T00:00:00+00:00",
            "producer": "rogue",
            "correlation_id": "c",
            "data": {},
        }
    ).encode(),
}


def publish_raw(runtime, body: bytes, headers: dict | None = None, **properties) -> None:
    with runtime.broker.connection() as conn:
        runtime.broker.declare_exchange(conn)
        Producer(conn.channel()).publish(
            body,
            exchange=runtime.broker.exchange,
            routing_key="user.registered",
            headers=headers or {},
            delivery_mode=2,
            **{"content_type": "application/octet-stream", "content_encoding": "binary"}
            | properties,
        )


def a_valid_event(user_id: str) -> bytes:
    from shared.bus.envelope import new_event

    return (
        new_event(
            "user.registered",
            {"user_id": user_id, "email": "ada@example.com", "name": "Ada", "roles": ["student"]},
            "probe",
        )
        .to_json()
        .encode()
    )


def test_poison_is_dead_lettered_and_the_events_behind_it_are_applied_once(probe):
    runtime, consumer, relay = probe
    for body in POISON.values():
        publish_raw(runtime, body)
    register(runtime, name="Poison Pill")  # a valid event whose handler always raises
    garbled = str(uuid.uuid4())
    publish_raw(
        runtime,
        a_valid_event(garbled),
        headers={"x-attempt": "many"},
        content_type="application/json",
        content_encoding="utf-8",
    )
    healthy = [register(runtime) for _ in range(3)]
    relay.relay_once()

    expected = len(POISON) + 1
    wait_for(
        lambda: (
            consumer.poll(0.3) == 0
            and len(dead_letters.list_dead_letters(runtime.broker, "probe")) >= expected
        ),
        timeout=30,
        message="every poison message in the dead-letter queue",
    )
    assert sorted(greetings(runtime)) == sorted([*healthy, garbled])
    letters = dead_letters.list_dead_letters(runtime.broker, "probe")
    assert len(letters) == expected
    assert sum("InvalidEvent" in letter.error for letter in letters) == len(POISON)
    [pill] = [letter for letter in letters if "cannot cope" in letter.error]
    assert pill.attempts == 3
    assert consumer.poll(0.5) == 0  # nothing keeps coming back
