"""HTML that people type is shown as text everywhere, never run, in headless Chromium.

A student named like an ``<img onerror>`` tells a story full of ``<script>``; marketing writes
a campaign whose subject is a ``<script>``. Every place that shows those words (the public
wall, the widget page and a third-party page embedding widget.js, the marketing moderation
and campaign pages, and the HTML part of the emails) must show them literally: no script
runs (``window.__pwned`` stays undefined) and no dialog ever opens.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from flask import Flask
from playwright.sync_api import Page, expect

from shared.testing.fixtures import serve_in_thread
from tests.e2e.conftest import Suite
from tests.e2e.mail import html_of, wait_for_mail
from tests.e2e.people import api_login, invite_staff, register_student, sign_in

pytestmark = pytest.mark.browser

ATTACK = "window.__pwned=1;alert(1)"
NAME = f'Eve <img src=x onerror="{ATTACK}">'
STORY = (
    f"<script>{ATTACK}</script> The weekly assessments showed me where I was weak. "
    f'<img src=x onerror="{ATTACK}"><svg onload="{ATTACK}"></svg> '
    '<a href="javascript:window.__pwned=1">my score</a> & I passed.'
)
SUBJECT = f"<script>{ATTACK}</script>Spring news"


@pytest.fixture
def school(services, smtp_server, monkeypatch) -> Suite:
    """What these pages need: identity, email, testimonials and the site, workers running."""
    identity = services("identity", serve=True)
    email = services("email", serve=True)
    testimonials = services("testimonials", serve=True)
    web = services("web", serve=True)
    monkeypatch.setenv("PUBLIC_URL", web.url)
    for svc in (identity, email, testimonials):
        svc.start_worker()
    return Suite(identity, email, web, smtp_server, testimonials=testimonials)


@pytest.fixture
def other_site(school: Suite) -> Iterator[str]:
    """A page of another origin (localhost, not 127.0.0.1) embedding the widget as documented."""
    partner = Flask("partner-site")

    @partner.get("/")
    def index() -> str:
        return (
            f'<!doctype html><script src="{school.site}/testimonials/widget.js" defer></script>'
            '<div data-preceptor-testimonials data-limit="3"></div>'
        )

    server = serve_in_thread(partner)
    yield f"http://localhost:{server.server_port}/"
    server.shutdown()


def watch(page: Page) -> list[str]:
    """Every dialog the page opens (dismissed at once, so a test never hangs on one)."""
    opened: list[str] = []

    def on_dialog(dialog) -> None:
        opened.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return opened


def assert_inert(page: Page, dialogs: list[str]) -> None:
    page.wait_for_load_state("load")
    for frame in page.frames:
        assert frame.evaluate("window.__pwned") is None, frame.url
    assert dialogs == []


def test_html_in_names_stories_and_subjects_shows_as_text_and_never_runs(
    school, browser, other_site
):
    invite_staff(school, "mira@example.com", "Mira Okafor", "marketing")
    marketing = api_login(school, "mira@example.com")
    eve = register_student(school, "eve@example.com", NAME)
    r = requests.post(
        f"{school.testimonials.url}/api/testimonials",
        headers=eve,
        json={
            "display_name": NAME,
            "program": "tutoring",
            "story": STORY,
            "rating": 5,
            "consent": True,
        },
    )
    assert r.status_code == 201, r.text
    story_id = r.json()["id"]
    admin = f"{school.testimonials.url}/api/admin/testimonials/{story_id}"
    assert requests.post(f"{admin}/approve", headers=marketing).status_code == 200
    assert requests.post(f"{admin}/feature", headers=marketing).status_code == 200
    r = requests.post(
        f"{school.email.url}/api/admin/campaigns",
        headers=marketing,
        json={"subject": SUBJECT, "body_markdown": STORY, "audience": "topic:step1-tips"},
    )
    assert r.status_code == 201, r.text
    campaign_id = r.json()["id"]

    visitor = browser.new_context().new_page()
    dialogs = watch(visitor)
    visitor.goto(f"{school.site}/testimonials")
    story = visitor.locator("ul.testimonial-wall > li").first
    expect(story).to_contain_text(NAME)
    expect(story).to_contain_text("<script>")
    expect(story).to_contain_text('<img src=x onerror="')
    expect(story.locator("script, img, svg, a[href^=javascript]")).to_have_count(0)
    assert_inert(visitor, dialogs)

    visitor.goto(f"{school.site}/testimonials/widget")
    expect(visitor.locator("li.pw-item").first).to_contain_text(STORY)
    expect(visitor.locator("li.pw-item").first).to_contain_text(NAME)
    assert_inert(visitor, dialogs)

    # Another site embedding the widget with the documented snippet.
    visitor.goto(other_site)
    widget = visitor.frame_locator("div[data-preceptor-testimonials] iframe")
    expect(widget.locator("li.pw-item").first).to_contain_text(STORY)
    assert_inert(visitor, dialogs)

    staff = browser.new_context().new_page()
    staff_dialogs = watch(staff)
    sign_in(school, staff, "mira@example.com")
    staff.goto(f"{school.site}/marketing/testimonials?status=approved")
    card = staff.locator("li.testimonial-card").first
    expect(card).to_contain_text(NAME)
    expect(card).to_contain_text("<script>")
    assert_inert(staff, staff_dialogs)
    staff.goto(f"{school.site}/marketing/testimonials/{story_id}")
    expect(staff.get_by_text("<script>", exact=False).first).to_be_visible()
    assert_inert(staff, staff_dialogs)
    staff.goto(f"{school.site}/marketing/campaigns")
    expect(staff.get_by_text(SUBJECT)).to_be_visible()
    assert_inert(staff, staff_dialogs)
    staff.goto(f"{school.site}/marketing/campaigns/{campaign_id}")
    expect(staff.get_by_text(SUBJECT).first).to_be_visible()
    assert_inert(staff, staff_dialogs)

    # The emails: the welcome greets Eve by name, the thanks names her story.
    for subject in ("welcome", "your story is on our wall"):
        mail = wait_for_mail(school.smtp, "eve@example.com", subject)
        reader = browser.new_context(java_script_enabled=True).new_page()
        reader_dialogs = watch(reader)
        reader.set_content(html_of(mail))
        expect(reader.locator("body")).to_contain_text(NAME)
        assert_inert(reader, reader_dialogs)


@pytest.fixture
def tutoring_school(services, smtp_server, monkeypatch) -> Suite:
    """Identity, email, tutoring and the site, workers running (tutors learn of accounts)."""
    identity = services("identity", serve=True)
    email = services("email", serve=True)
    tutoring = services("tutoring", serve=True)
    web = services("web", serve=True)
    monkeypatch.setenv("PUBLIC_URL", web.url)
    for svc in (identity, email, tutoring):
        svc.start_worker()
    return Suite(identity, email, web, smtp_server, tutoring=tutoring)


def test_html_in_a_tutor_bio_an_assessment_and_a_student_name_shows_as_text(
    tutoring_school, browser
):
    from tests.e2e.test_tutoring_in_browser import completed_consultation, invited_tutor

    school = tutoring_school
    tutor = invited_tutor(school)
    bio = f"Internal medicine. {STORY}"
    r = requests.put(
        f"{school.tutoring.url}/api/tutors/me",
        headers={"Authorization": tutor["Authorization"]},
        json={"bio": bio},
    )
    assert r.status_code == 200, r.text
    completed_consultation(school, tutor, "eve@example.com", NAME)
    [consultation] = requests.get(
        f"{school.tutoring.url}/api/consultations",
        headers={"Authorization": tutor["Authorization"]},
    ).json()
    breakout = f"</textarea><script>{ATTACK}</script>"
    assessment = {"strengths": breakout, "weaknesses": STORY, "goals": NAME}
    r = requests.put(
        f"{school.tutoring.url}/api/consultations/{consultation['id']}/assessment",
        headers={"Authorization": tutor["Authorization"]},
        json=assessment,
    )
    assert r.status_code == 200, r.text

    visitor = browser.new_context().new_page()
    dialogs = watch(visitor)
    visitor.goto(f"{school.site}/tutoring")
    expect(visitor.get_by_text("<script>", exact=False).first).to_be_visible()
    assert_inert(visitor, dialogs)
    visitor.goto(f"{school.site}/tutoring/{tutor['id']}")
    expect(visitor.locator("p.lead")).to_have_text(bio)
    assert_inert(visitor, dialogs)

    desk = browser.new_context().new_page()
    desk_dialogs = watch(desk)
    sign_in(school, desk, "rao@example.com")
    desk.goto(f"{school.site}/tutor/consultations/{consultation['id']}")
    expect(desk.get_by_text(NAME).first).to_be_visible()
    for field, value in assessment.items():
        expect(desk.locator(f"textarea[name={field}]")).to_have_value(value)
    assert_inert(desk, desk_dialogs)

    booked = wait_for_mail(school.smtp, "rao@example.com", "new consultation")
    assert NAME in str(booked["Subject"])
    reader = browser.new_context().new_page()
    reader_dialogs = watch(reader)
    reader.set_content(html_of(booked))
    expect(reader.locator("body")).to_contain_text(NAME)
    assert_inert(reader, reader_dialogs)
