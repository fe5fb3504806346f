"""Every service's operations API: outbox backlog, dead letters with replay, last events.

The real broker (RabbitMQ) and the real consumer: an event whose handler keeps failing is
retried, dead-lettered, listed by the API, replayed once the handler works, and applied.
"""

from __future__ import annotations

import importlib
import uuid
from datetime import date

import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY

from services.testimonials.events import TestimonialSubmitted
from services.testimonials.models import VerifiedFact
from shared.bus.broker import Broker
from shared.bus.envelope import Event, new_event
from shared.bus.handlers import Handlers
from shared.runtime import Runtime
from shared.testing.fixtures import ServiceUnderTest, publish_events, pump, wait_for
from shared.testing.observe import Issuer

OPERATIONS = "/api/admin/operations"
REPLAY = f"{OPERATIONS}/dead-letters/replay"

handlers = Handlers.for_service("testimonials")


@pytest.fixture
def issuer() -> Issuer:
    return Issuer()


@pytest.fixture
def testimonials(services, issuer) -> ServiceUnderTest:
    svc = services("testimonials")
    issuer.trust(svc.app)
    return svc


def activated(student_id: str | None = None) -> Event:
    return new_event(
        "enrollment.activated",
        {
            "enrollment_id": str(uuid.uuid4()),
            "student_id": student_id or str(uuid.uuid4()),
            "email": "ada@example.com",
            "name": "Ada Lovelace",
            "course_slug": "usmle-step-1-prep",
            "course_title": "USMLE Step 1 Prep",
            "cycle_start": date(2026, 1, 5),
            "cycle_end": date(2026, 3, 30),
            "access_ends_on": date(2026, 5, 5),
            "amount_minor": 149900,
            "currency": "USD",
            "payment_id": "pay_1",
        },
        "enrollment",
    )


def publish(svc: ServiceUnderTest, *events: Event) -> None:
    """Put events on the exchange as enrollment's relay would."""
    publish_events(svc.runtime.broker, *events)


def dead_lettered_count() -> float:
    return (
        REGISTRY.get_sample_value(
            "preceptor_events_dead_lettered_total",
            {"service": "testimonials", "type": "enrollment.activated"},
        )
        or 0.0
    )


def dead_letter(svc: ServiceUnderTest, monkeypatch, *events: Event) -> None:
    """Deliver events while the handler is broken, until each is dead-lettered (3 tries)."""

    def broken(event, uow):
        raise RuntimeError("simulated outage of the moderation store")

    working = handlers.get("enrollment.activated")
    monkeypatch.setitem(handlers._by_type, "enrollment.activated", broken)
    before = dead_lettered_count()
    publish(svc, *events)
    wait_for(
        lambda: (
            svc.consumer.poll(0.1) is not None and dead_lettered_count() >= before + len(events)
        ),
        timeout=20,
        message="the events to be dead-lettered",
    )
    # The outage is over. (Not monkeypatch.undo(): that would also undo the fixtures' settings.)
    monkeypatch.setitem(handlers._by_type, "enrollment.activated", working)


def verified(svc: ServiceUnderTest, user_id: str) -> bool:
    with svc.runtime.db.session() as s:
        return s.scalar(sa.select(VerifiedFact).where(VerifiedFact.user_id == user_id)) is not None


def test_a_dead_lettered_event_is_listed_then_replayed_and_applied(
    testimonials, issuer, monkeypatch
):
    admin = issuer.headers("admin")
    student_id = str(uuid.uuid4())
    event = activated(student_id)
    dead_letter(testimonials, monkeypatch, event)

    first = testimonials.client.get(OPERATIONS, headers=admin)
    assert first.status_code == 200, first.get_json()
    body = first.get_json()
    assert body["service"] == "testimonials"
    assert body["problems"] == []
    [letter] = body["dead_letters"]
    assert letter["message_id"] == event.id
    assert letter["type"] == "enrollment.activated"
    assert letter["attempts"] == 3
    assert "simulated outage" in letter["error"]
    assert letter["correlation_id"] == event.correlation_id
    assert letter["data"]["student_id"] == student_id
    assert not verified(testimonials, student_id)
    # Looking is not taking: the letter is still there the second time.
    again = testimonials.client.get(OPERATIONS, headers=admin).get_json()
    assert [d["message_id"] for d in again["dead_letters"]] == [event.id]

    replayed = testimonials.client.post(REPLAY, json={"ids": [event.id]}, headers=admin)
    assert replayed.status_code == 200, replayed.get_json()
    assert replayed.get_json() == {"service": "testimonials", "replayed": 1}
    pump(testimonials)

    assert verified(testimonials, student_id)
    after = testimonials.client.get(OPERATIONS, headers=admin).get_json()
    assert after["dead_letters"] == []
    assert after["last_events"][0]["id"] == event.id
    assert after["last_events"][0]["type"] == "enrollment.activated"


def test_replay_all_sends_every_letter_back_and_unknown_ids_replay_nothing(
    testimonials, issuer, monkeypatch
):
    admin = issuer.headers("admin")
    events = [activated(), activated()]
    dead_letter(testimonials, monkeypatch, *events)

    none = testimonials.client.post(REPLAY, json={"ids": [str(uuid.uuid4())]}, headers=admin)
    assert none.get_json()["replayed"] == 0
    listed = testimonials.client.get(OPERATIONS, headers=admin).get_json()["dead_letters"]
    assert sorted(d["message_id"] for d in listed) == sorted(e.id for e in events)

    every = testimonials.client.post(REPLAY, json={"all": True}, headers=admin)
    assert every.get_json()["replayed"] == 2
    pump(testimonials)
    after = testimonials.client.get(OPERATIONS, headers=admin).get_json()
    assert after["dead_letters"] == []
    assert {e["id"] for e in after["last_events"]} >= {e.id for e in events}


def test_the_outbox_backlog_counts_what_waits_and_how_old_the_oldest_is(testimonials, issuer):
    admin = issuer.headers("admin")
    assert testimonials.client.get(OPERATIONS, headers=admin).get_json()["outbox"] == {
        "backlog": 0,
        "oldest_age_seconds": None,
    }
    with testimonials.runtime.uow() as uow:
        uow.record(_submitted())
        uow.record(_submitted())
        uow.commit()

    waiting = testimonials.client.get(OPERATIONS, headers=admin).get_json()["outbox"]
    assert waiting["backlog"] == 2
    assert waiting["oldest_age_seconds"] >= 0

    testimonials.relay.relay_once()
    assert testimonials.client.get(OPERATIONS, headers=admin).get_json()["outbox"]["backlog"] == 0


def _submitted() -> TestimonialSubmitted:
    return TestimonialSubmitted(
        testimonial_id=str(uuid.uuid4()),
        user_id=str(uuid.uuid4()),
        display_name="Ada L.",
        program="tutoring",
        rating=5,
        consent=True,
        verified=False,
        author_role="student",
    )


@pytest.mark.parametrize(
    ("roles", "status"), [((), 401), (("student",), 403), (("marketing",), 403), (("tutor",), 403)]
)
def test_only_admins_see_or_replay_operations(testimonials, issuer, roles, status):
    headers = issuer.headers(*roles) if roles else {}
    seen = testimonials.client.get(OPERATIONS, headers=headers)
    replay = testimonials.client.post(REPLAY, json={"all": True}, headers=headers)
    assert (seen.status_code, replay.status_code) == (status, status)
    assert seen.mimetype == replay.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    "body",
    [{}, {"ids": []}, {"all": False}, {"ids": ["x"], "all": True}, {"ids": "x"}, {"other": 1}],
)
def test_a_replay_must_name_ids_or_all(testimonials, issuer, body):
    r = testimonials.client.post(REPLAY, json=body, headers=issuer.headers("admin"))
    assert r.status_code == 422, r.get_json()
    assert r.mimetype == "application/problem+json"


def test_every_service_with_data_documents_the_operations_api(bus_settings):
    """Building the apps is enough: the spec needs no database."""
    for name in ("identity", "email", "enrollment", "payments", "tutoring", "testimonials"):
        app_module = importlib.import_module(f"services.{name}.app")
        runtime = Runtime(service=name, db=object(), broker=Broker(bus_settings))
        spec = app_module.create_app(runtime).test_client().get("/openapi.json").get_json()
        assert set(spec["paths"][OPERATIONS]) == {"get"}, name
        assert set(spec["paths"][REPLAY]) == {"post"}, name
    web = importlib.import_module("services.web.app").create_app()
    assert OPERATIONS not in web.test_client().get("/openapi.json").get_json()["paths"]
