"""The tutoring journey's pages, checked with axe-core for each role, at desktop and 375 px.

One school and one test on purpose: starting the whole suite is most of the cost, and one
audit that lists every page's findings at once is more use than a failure per page. Each page
is checked as it looks at that step of the journey (a form with its errors, a plan that
exists, the "Edit days" grid opened), since axe-core only sees what is rendered.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import urlencode

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from services.payments.tests.helpers import pay
from shared.testing.fixtures import wait_for
from tests.e2e.accessibility import (
    PageAudit,
    assert_accessible,
    assert_no_horizontal_scroll,
    has_visible_focus,
    phone_width,
    tab_to,
)
from tests.e2e.people import (
    PASSWORD,
    admin_credentials,
    api_login,
    invite_staff,
    register_student,
    sign_in,
)
from tests.e2e.time_travel import start_meeting

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}


def ready_tutor(school) -> str:
    """A tutor invited by the admin, with a profile and weekly hours: students can book them."""
    tutor = invite_staff(school, "rao@example.com", "Dr Anita Rao", "tutor")
    wait_for(
        lambda: (
            requests.put(
                f"{school.tutoring.url}/api/tutors/me",
                headers=tutor,
                json={
                    "bio": "Internal medicine; fifteen years of Step 1 and Step 2 CK teaching.",
                    "exams": ["step1", "step2ck"],
                    "time_zone": "America/New_York",
                    "session_rate_minor": 12000,
                    "currency": "USD",
                },
            ).status_code
            == 200
        ),
        message="tutoring to learn of the new tutor from user.registered",
    )
    # One hour a day: enough times to book, few enough that axe-core checks the page quickly.
    weekly = [{"weekday": d, "start": "09:00", "end": "10:00"} for d in range(7)]
    r = requests.put(
        f"{school.tutoring.url}/api/tutors/me/availability",
        headers=tutor,
        json={"weekly": weekly, "overrides": []},
    )
    assert r.status_code == 200, r.text
    return requests.get(f"{school.identity.url}/api/users/me", headers=tutor).json()["id"]


def person(browser: Browser, zone: str) -> Page:
    context = browser.new_context(viewport=DESKTOP, timezone_id=zone)
    context.set_default_timeout(15000)
    return context.new_page()


def settled(page: Page) -> Page:
    """The page after timezone.js has reloaded it with the reader's zone (pages with times)."""
    page.wait_for_load_state("load")
    if "tz=" not in page.url and page.locator("[data-detect-zone]").count():
        page.wait_for_url(re.compile(r"[?&]tz="))
        page.wait_for_load_state("load")
    return page


def test_tutoring_pages_pass_axe_for_every_role_at_desktop_and_phone_width(school, browser):
    audit = PageAudit()
    tutor_id = ready_tutor(school)
    register_student(school, "priya@example.com", "Priya Nair")
    invite_staff(school, "mia@example.com", "Mia Chen", "marketing")

    # The student: home, tutors, a tutor, the intake form (empty, then with its errors), booked.
    student = person(browser, "Asia/Kolkata")
    sign_in(school, student, "priya@example.com")
    student.goto(f"{school.site}/")
    student.keyboard.press("Tab")
    skip = student.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    assert has_visible_focus(student), "the skip link has no visible focus indicator"
    audit.check(student, "home (student)")
    student.goto(f"{school.site}/tutoring")
    audit.check(student, "tutors list (student)")
    student.get_by_role("link", name="Dr Anita Rao").first.click()
    audit.check(settled(student), "tutor page, consultation times (student)")
    # The week picker's next week: no time in it passes its notice while we check.
    student.locator("#slots").get_by_role("button", name="Next week").click()
    audit.check(settled(student), "tutor page, consultation times next week (student)")
    student.locator("a.slot").first.click()
    audit.check(settled(student), "book a consultation (student)")
    student.get_by_role("button", name="Book consultation").click()
    expect(student.locator("[aria-invalid=true]").first).to_be_visible()
    audit.check(student, "book a consultation with errors (student)")
    student.get_by_label("Exam", exact=True).select_option("step1")
    student.get_by_label("Exam date").fill((date.today() + timedelta(days=35)).isoformat())
    student.get_by_label("Attempts so far").fill("0")
    student.get_by_label("Study hours a week").fill("25")
    student.get_by_label("Renal").check()
    book = student.get_by_role("button", name="Book consultation")
    tab_to(student, book, max_presses=40)
    student.keyboard.press("Enter")  # the form is sent from the keyboard alone
    expect(student.get_by_role("heading", name="Consultation booked")).to_be_visible()
    audit.check(student, "consultation booked (student)")
    student.goto(f"{school.site}/my/tutoring")
    student.get_by_role("link", name="Cancel consultation…").click()
    audit.check(student, "cancel a consultation, asked first (student)")
    student.get_by_role("link", name="No, keep it").click()

    # The tutor: the dashboard, the consultation with its intake, then with the plan grid.
    tutor = person(browser, "America/New_York")
    sign_in(school, tutor, "rao@example.com")
    tutor.goto(f"{school.site}/tutor")
    audit.check(tutor, "tutor dashboard (tutor)")
    tutor.get_by_role("row", name=re.compile("Priya Nair")).get_by_role("link").click()
    audit.check(tutor, "consultation, booked (tutor)")
    tutor.get_by_role("link", name="Cancel…").click()
    audit.check(tutor, "cancel a consultation, asked first (tutor)")
    tutor.get_by_role("link", name="No, keep it").click()
    start_meeting(school.tutoring, tutor.url.rstrip("/").rsplit("/", 1)[-1])  # it has begun
    tutor.reload()
    audit.check(tutor, "consultation, begun (tutor)")
    tutor.get_by_role("button", name="Mark completed").click()
    tutor.get_by_label("Strengths").fill("Strong physiology")
    tutor.get_by_label("Weaknesses").fill("Renal acid-base")
    tutor.get_by_label("Goals").fill("Pass Step 1 with margin")
    tutor.get_by_role("button", name="Save assessment").click()
    tutor.get_by_role("button", name="Generate study plan").click()
    expect(tutor.get_by_role("heading", name="Study plan")).to_be_visible()
    tab_to(tutor, tutor.get_by_text("Edit days"), max_presses=60)
    tutor.keyboard.press("Enter")  # a <summary> opens from the keyboard
    expect(tutor.locator("select[id^=kind-]").first).to_be_visible()
    audit.check(tutor, "consultation with the plan grid and its editor (tutor)")
    tutor.goto(f"{school.site}/tutor")
    audit.check(tutor, "tutor dashboard with a past consultation (tutor)")
    tutor.get_by_role("navigation", name="Tutor").get_by_role("link", name="Profile").click()
    audit.check(tutor, "tutor profile (tutor)")
    tutor.get_by_role("navigation", name="Tutor").get_by_role("link", name="Availability").click()
    audit.check(tutor, "tutor availability (tutor)")
    tutor.goto(f"{school.site}/tutoring/{tutor_id}")
    audit.check(settled(tutor), "tutor page (tutor)")

    # The student again: the tutor's page with sessions, booking one without and with hours
    # (bought at the checkout, paid through localstripe's API), then My tutoring with it all.
    student.goto(f"{school.site}/tutoring/{tutor_id}")
    expect(student.locator("#sessions")).to_be_visible()
    audit.check(settled(student), "tutor page, buy hours and session times (student)")
    starts_at = requests.get(
        f"{school.tutoring.url}/api/tutors/{tutor_id}/slots",
        params={"kind": "session", "tz": "Asia/Kolkata"},
    ).json()[1]["starts_at"]  # not the first: it may pass its notice while we check
    book_session = f"{school.site}/tutoring/{tutor_id}/sessions/book?" + urlencode(
        {"starts_at": starts_at, "tz": "Asia/Kolkata"}
    )
    student.goto(book_session)
    expect(student.get_by_role("heading", name="Book a session", level=1)).to_be_visible()
    audit.check(student, "book a session without hours (student)")
    student.goto(f"{school.site}/tutoring/{tutor_id}")
    student.get_by_role("radio", name=re.compile(r"5 hours")).check()
    student.get_by_role("button", name="Continue to payment").click()
    expect(student.locator("#card-element input")).to_have_count(5)
    audit.check(student, "hours checkout (student)")
    package_id = re.search(r"/packages/([^/]+)/checkout", student.url)[1]
    me = api_login(school, "priya@example.com")
    package = requests.get(f"{school.tutoring.url}/api/packages/{package_id}", headers=me).json()
    assert pay(package["checkout"]["client_secret"]) == "succeeded"
    wait_for(
        lambda: requests.get(f"{school.tutoring.url}/api/credits", headers=me).json(),
        timeout=30,
        message="the payment's webhook to add the hours",
    )
    student.goto(book_session)
    audit.check(student, "book a session (student)")
    student.get_by_role("button", name="Book this session").click()
    expect(student.get_by_role("heading", name="Session booked")).to_be_visible()
    audit.check(student, "session booked (student)")
    student.goto(f"{school.site}/my/tutoring")
    grid = student.get_by_role("table", name="Study plan by week")
    expect(grid).to_be_visible()
    audit.check(settled(student), "My tutoring with a plan and a session (student)")
    with phone_width(student):  # the grid scrolls sideways there: the keyboard must reach it
        tab_to(student, grid, max_presses=80)
        assert has_visible_focus(student), "the plan grid has no visible focus indicator"

    # Marketing and the admin see the public tutoring pages signed in; the admin, tutors too.
    for email, password, role in (
        ("mia@example.com", PASSWORD, "marketing"),
        (*admin_credentials(), "admin"),
    ):
        staff = person(browser, "Europe/London")
        sign_in(school, staff, email, password)
        staff.goto(f"{school.site}/")
        audit.check(staff, f"home ({role})")
        staff.goto(f"{school.site}/tutoring")
        audit.check(staff, f"tutors list ({role})")
        staff.goto(f"{school.site}/tutoring/{tutor_id}")
        audit.check(settled(staff), f"tutor page ({role})")
        if role == "admin":
            staff.goto(f"{school.site}/admin/tutors")
            audit.check(staff, "tutors (admin)")

    audit.assert_clean()


def test_the_checks_name_what_fails(page):
    """The helpers themselves: a contrast failure and a page too wide for a phone are reported
    with the rule, the element and the reason; a wide table scrolling in its own box is not."""
    page.set_content(
        "<html lang='en'><head><title>Checks</title></head><body><main>"
        "<h1>Checks</h1><p style='color:#aaa;background:#fff'>Too light to read</p>"
        "<div style='overflow-x:auto'><table><tr><td style='min-width:900px'>wide</td></tr>"
        "</table></div></main></body></html>"
    )
    with pytest.raises(AssertionError) as failed:
        assert_accessible(page, "sample page")
    report = str(failed.value)
    assert "sample page" in report
    assert "color-contrast [serious]" in report
    assert "Too light to read" in report and "Expected contrast ratio of 4.5:1" in report
    assert_no_horizontal_scroll(page, "sample page")  # the table scrolls inside its own box

    page.set_content("<html lang='en'><body><main><div style='width:600px'>wide</div></main>")
    with pytest.raises(AssertionError, match=r"scrolls sideways at 375 px(.|\n)*div"):
        assert_no_horizontal_scroll(page, "wide page")
