"""One id follows a flow across services: in the JSON log lines and in every event it causes.

An HTTP request's ``X-Correlation-ID`` (or its request id) becomes the correlation id of the
events it records; a consumer handles each event inside that flow, with the event's id as the
causation id, so its log lines and the events it records in turn carry both.
"""

from __future__ import annotations

import json
import uuid
from datetime import date

import sqlalchemy as sa

from shared import context
from shared.bus.envelope import new_event
from shared.testing.fixtures import ServiceUnderTest, pump
from shared.testing.observe import json_log_lines
from tests.test_operations_api import publish


def envelopes(svc: ServiceUnderTest, event_type: str) -> list[dict]:
    """Every event of that type the service committed, whole envelopes, oldest first."""
    outbox = svc.runtime.db.tables.outbox
    with svc.runtime.db.session() as s:
        rows = s.execute(
            sa.select(outbox.c.payload)
            .where(outbox.c.type == event_type)
            .order_by(outbox.c.created_at)
        ).scalars()
        return [json.loads(p) for p in rows]


def applied(lines: list[dict], event_id: str) -> list[dict]:
    return [
        line for line in lines if line["msg"] == "event applied" and line["event_id"] == event_id
    ]


def test_a_registration_request_and_the_email_service_handling_it_share_one_correlation_id(
    services,
):
    identity = services("identity")
    email = services("email")
    correlation = f"support-ticket-{uuid.uuid4().hex[:8]}"

    with json_log_lines("identity") as identity_lines:
        response = identity.client.post(
            "/api/users",
            json={"email": "ada@example.com", "password": "correct horse 42", "name": "Ada"},
            headers={"X-Correlation-ID": correlation},
        )
    assert response.status_code == 202, response.get_json()
    request_id = response.headers["X-Request-ID"]
    assert response.headers["X-Correlation-ID"] == correlation

    [request_line] = [
        line for line in identity_lines if line["msg"] == "request" and line["path"] == "/api/users"
    ]
    assert request_line["service"] == "identity"
    assert request_line["request_id"] == request_id
    assert request_line["correlation_id"] == correlation
    assert request_line["status"] == 202

    [registered] = envelopes(identity, "user.registered")
    assert registered["correlation_id"] == correlation
    assert registered["causation_id"] is None

    with json_log_lines("email") as email_lines:
        pump(identity, email)

    [handled] = applied(email_lines, registered["id"])
    assert handled["service"] == "email"
    assert handled["correlation_id"] == correlation
    assert handled["causation_id"] == registered["id"]
    assert handled["type"] == "user.registered"
    assert "request_id" not in handled  # no HTTP request behind a consumer's line


def test_an_event_a_consumer_records_carries_the_flow_and_names_its_cause(services):
    testimonials = services("testimonials")
    email = services("email")
    correlation = str(uuid.uuid4())
    with context.flow(correlation=correlation):
        completed = new_event(
            "enrollment.completed",
            {
                "enrollment_id": str(uuid.uuid4()),
                "student_id": str(uuid.uuid4()),
                "email": "ada@example.com",
                "name": "Ada Lovelace",
                "course_slug": "usmle-step-1-prep",
                "course_title": "USMLE Step 1 Prep",
                "cycle_start": date(2026, 1, 5),
                "access_ends_on": date(2026, 5, 5),
            },
            "enrollment",
        )

    with json_log_lines("testimonials") as testimonials_lines:
        publish(testimonials, completed)
        pump(testimonials)
    [handled] = applied(testimonials_lines, completed.id)
    assert (handled["correlation_id"], handled["causation_id"]) == (correlation, completed.id)

    [requested] = envelopes(testimonials, "testimonial.requested")
    assert requested["correlation_id"] == correlation
    assert requested["causation_id"] == completed.id

    with json_log_lines("email") as email_lines:
        pump(testimonials, email)
    [mailed] = applied(email_lines, requested["id"])
    assert (mailed["correlation_id"], mailed["causation_id"]) == (correlation, requested["id"])


def test_each_run_of_a_scheduled_job_is_a_flow_of_its_own(services):
    from shared.bus.handlers import Handlers

    handlers = Handlers.for_service("testimonials")
    from shared.worker import Job, Worker

    testimonials = services("testimonials")
    seen: list[str] = []

    def job(runtime) -> None:
        seen.append(context.current_correlation_id())
        if len(seen) == 3:
            worker.stop.set()

    worker = Worker(testimonials.runtime, handlers, [Job("probe", 0.01, job)])
    worker._job_loop(worker.jobs[0])
    assert len(set(seen)) == 3
