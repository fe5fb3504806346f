"""Testimonials' events become emails: the request for a student's story with its signed link,
and the thank-you once the story is on the wall.

Each test publishes the event on the test bus as testimonials' relay would, lets the email
service consume it, runs the delivery loop and reads what arrived at the SMTP server.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from services.email.tests.conftest import PUBLIC_URL, link_in, past_the_inbox
from services.email.tests.test_enrollment_emails import html, text
from services.email.tests.test_transactional import deliveries, publish
from services.email.use_cases import testimonials
from shared.bus.envelope import Event, new_event, typed
from shared.testing.fixtures import pump

STUDENT = "ada@example.com"
TOKEN = "eyJyIjoiMTIzIn0.aW5fYV90ZXN0.c2lnbmF0dXJl"


def requested(**fields: Any) -> Event:
    data = {
        "request_id": str(uuid.uuid4()),
        "user_id": str(uuid.uuid4()),
        "email": STUDENT,
        "name": "Ada Lovelace",
        "program": "course:usmle-step-1-prep",
        "program_label": "USMLE Step 1 Prep",
        "token": TOKEN,
        "expires_at": datetime(2026, 12, 25, 9, 0, tzinfo=UTC),
        **fields,
    }
    return new_event("testimonial.requested", data, "testimonials")


def approved(**fields: Any) -> Event:
    data = {
        "testimonial_id": str(uuid.uuid4()),
        "user_id": str(uuid.uuid4()),
        "email": STUDENT,
        "display_name": "Ada L.",
        "program": "tutoring",
        "program_label": "1:1 tutoring",
        "verified": True,
        **fields,
    }
    return new_event("testimonial.approved", data, "testimonials")


def test_a_request_mails_the_link_to_the_form_once_even_if_delivered_twice(email_service, deliver):
    event = requested()
    publish(email_service, event, times=2)
    pump(email_service)
    [row] = deliveries(email_service)
    assert (row.kind, row.event_id, row.to_address) == ("testimonial_request", event.id, STUDENT)

    [message] = deliver(1)
    assert message["To"] == STUDENT
    assert message["Subject"] == "How was USMLE Step 1 Prep? Tell us in a few lines"
    assert link_in(message, f"{PUBLIC_URL}/testimonials/new/") == (
        f"{PUBLIC_URL}/testimonials/new/{TOKEN}"
    )
    assert f'href="{PUBLIC_URL}/testimonials/new/{TOKEN}"' in html(message)
    body = text(message)
    assert "Hello Ada Lovelace" in body and "finished USMLE Step 1 Prep" in body
    assert "25 December 2026" in body
    assert "consent" in body
    # A transactional email: no one-click unsubscribe headers.
    assert message["List-Unsubscribe"] is None


def test_a_request_about_tutoring_speaks_of_sessions(email_service, deliver):
    publish(email_service, requested(program="tutoring", program_label="1:1 tutoring"))
    pump(email_service)
    [message] = deliver(1)
    assert message["Subject"] == "How was 1:1 tutoring? Tell us in a few lines"
    assert "a few sessions of 1:1 tutoring" in text(message)


def test_an_approval_thanks_the_author_with_a_link_to_the_wall(email_service, deliver):
    event = approved(display_name="<b>Ada</b>")
    publish(email_service, event, times=2)
    pump(email_service)
    [row] = deliveries(email_service)
    assert (row.kind, row.event_id) == ("testimonial_thanks", event.id)
    [message] = deliver(1)
    assert message["To"] == STUDENT
    assert message["Subject"] == "Thank you: your story is on our wall"
    assert f"\n{PUBLIC_URL}/testimonials\n" in text(message)
    assert f'href="{PUBLIC_URL}/testimonials"' in html(message)
    assert "1:1 tutoring" in text(message)
    assert "&lt;b&gt;Ada&lt;/b&gt;" in html(message) and "<b>Ada</b>" not in html(message)


def test_the_same_event_applied_twice_past_the_inbox_still_queues_one_email(email_service):
    for event, use_case in (
        (requested(), testimonials.testimonial_requested),
        (approved(), testimonials.testimonial_approved),
    ):
        for _ in range(2):
            use_case(past_the_inbox(email_service, event), typed(event))
    assert sorted(d.kind for d in deliveries(email_service)) == [
        "testimonial_request",
        "testimonial_thanks",
    ]
