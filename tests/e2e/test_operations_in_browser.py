"""An admin finds a dead letter on the operations page and replays it, in headless Chromium.

The whole school runs. While testimonials' handler of ``enrollment.activated`` is broken (an
outage of its own), a real scholarship enrollment's event is retried and dead-lettered. The
admin opens Admin → Operations, sees the letter under testimonials with its error, fixes
nothing but the outage, clicks Replay, and the student becomes a verified author.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect
from prometheus_client import REGISTRY

from services.testimonials.models import VerifiedFact
from shared.bus.handlers import Handlers
from shared.testing.fixtures import wait_for
from tests.e2e.people import admin_credentials, register_student, sign_in
from tests.e2e.test_testimonials_in_browser import enrolled_free, scholarship

pytestmark = pytest.mark.browser


def dead_lettered() -> float:
    labels = {"service": "testimonials", "type": "enrollment.activated"}
    return REGISTRY.get_sample_value("preceptor_events_dead_lettered_total", labels) or 0.0


def activated_event_id(school, enrollment_id: str) -> str:
    outbox = school.enrollment.runtime.db.tables.outbox
    with school.enrollment.runtime.db.session() as s:
        payloads = s.execute(
            sa.select(outbox.c.payload).where(outbox.c.type == "enrollment.activated")
        ).scalars()
        [event] = [
            e for e in map(json.loads, payloads) if e["data"]["enrollment_id"] == enrollment_id
        ]
    return event["id"]


def verified(school, user_id: str) -> bool:
    with school.testimonials.runtime.db.session() as s:
        query = sa.select(VerifiedFact).where(VerifiedFact.user_id == user_id)
        return s.scalar(query) is not None


def test_an_admin_sees_a_dead_letter_and_replays_it(school, browser, monkeypatch):
    def outage(event, uow):
        raise RuntimeError("moderation store unavailable")

    working = Handlers.for_service("testimonials").get("enrollment.activated")
    monkeypatch.setitem(
        Handlers.for_service("testimonials")._by_type, "enrollment.activated", outage
    )
    before = dead_lettered()
    scholarship(school, "OPSRIDE")
    student = register_student(school, "ines@example.com", "Ines Duarte")
    enrollment = enrolled_free(school, student, "OPSRIDE")
    event_id = activated_event_id(school, enrollment["id"])
    wait_for(lambda: dead_lettered() > before, timeout=30, message="the event to be dead-lettered")
    # The outage is over (not monkeypatch.undo(): that would undo the school's settings too).
    monkeypatch.setitem(
        Handlers.for_service("testimonials")._by_type, "enrollment.activated", working
    )

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15000)
    page = context.new_page()
    try:
        sign_in(school, page, *admin_credentials())
        page.goto(f"{school.site}/admin/courses")
        page.get_by_role("navigation", name="Administration").get_by_role(
            "link", name="Operations"
        ).click()
        expect(page.get_by_role("heading", name="Operations", level=1)).to_be_visible()

        section = page.locator("#service-testimonials")
        letter = section.locator(f'tr[data-message-id="{event_id}"]')
        expect(letter).to_contain_text("enrollment.activated")
        expect(letter).to_contain_text("moderation store unavailable")
        expect(section.locator('[data-figure="dead-letters"]')).to_have_text("1")
        for other in ("identity", "email", "enrollment", "payments", "tutoring"):
            expect(page.locator(f"#service-{other}")).to_contain_text("No dead letters.")

        letter.get_by_role("button", name="Replay").click()

        expect(page.get_by_text("Replayed 1 dead letter of testimonials.")).to_be_visible()
        wait_for(lambda: verified(school, enrollment["student_id"]), timeout=30, message="applied")
        page.reload()
        section = page.locator("#service-testimonials")
        expect(section.locator('[data-figure="dead-letters"]')).to_have_text("0")
        expect(section.locator(f'.ops-last-events tr[data-event-id="{event_id}"]')).to_be_visible()
    finally:
        context.close()
