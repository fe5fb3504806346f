"""The plan and progress pages in Chromium: operated by keyboard alone, and at a phone's width
without sideways scrolling. (Accessibility rules are checked by tests/e2e with axe.)"""

from __future__ import annotations

import re

import pytest

from services.web.tests.conftest import sign_in

PHONE = {"width": 375, "height": 740}


def signed_in(page, live_site: str, email: str = "student@example.org") -> None:
    page.goto(f"{live_site}/login")
    page.fill("#email", email)
    page.fill("#password", "correct-horse")
    page.locator("#main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"^(?!.*/login)"))


@pytest.mark.browser
def test_a_day_is_checked_with_the_keyboard_alone(page, live_site, tutoring_api):
    signed_in(page, live_site)
    page.goto(f"{live_site}/tutoring/plan?tz=UTC")

    done = page.locator("#day-2026-03-06 button[value=done]")
    for _ in range(200):  # Tab from the top of the page until the button has the focus
        page.keyboard.press("Tab")
        if done.evaluate("button => button === document.activeElement"):
            break
    else:
        pytest.fail("Tab never reached the Done button of Fri 6 Mar")
    page.keyboard.press("Enter")

    page.wait_for_url(f"{live_site}/tutoring/plan?tz=UTC#day-2026-03-06")
    [call] = tutoring_api.calls_to("PUT", "/api/plans/plan-1/days/2026-03-06/check")
    assert call.json == {"status": "done"}
    assert page.locator("#day-2026-03-06 button[aria-pressed=true]").inner_text() == "Done"


@pytest.mark.browser
@pytest.mark.parametrize(
    "path",
    [
        "/tutoring/plan?tz=UTC",
        "/tutoring/progress?tz=UTC",
        "/tutoring/plan/results/new?tz=UTC",
        "/tutoring/consultations/con-booked/reflection?tz=UTC",
    ],
)
def test_student_pages_fit_a_phone_without_sideways_scrolling(
    browser, live_site, tutoring_api, path
):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    try:
        signed_in(page, live_site)
        page.goto(f"{live_site}{path}")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        for chart in page.locator("svg.chart").all():
            assert chart.bounding_box()["width"] <= PHONE["width"]
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.parametrize(
    "path", ["/tutor", "/tutor/plans/plan-1/progress", "/tutor/consultations/con-booked"]
)
def test_tutor_pages_fit_a_phone_without_sideways_scrolling(browser, live_site, tutoring_api, path):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    try:
        signed_in(page, live_site, "tutor@example.org")
        page.goto(f"{live_site}{path}")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        context.close()


@pytest.mark.browser
def test_small_buttons_are_a_finger_sized_target_on_a_phone(browser, live_site, tutoring_api):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    try:
        signed_in(page, live_site, "admin@example.org")
        page.goto(f"{live_site}/admin/assessment-forms")
        buttons = page.locator("button.link-button").all()
        assert buttons  # Deactivate / Activate, one a form
        for button in buttons:
            assert button.bounding_box()["height"] >= 24, button.inner_text()
    finally:
        context.close()


@pytest.mark.parametrize(
    "email, path",
    [
        ("student@example.org", "/tutoring/plan?tz=UTC"),
        ("student@example.org", "/tutoring/progress?tz=UTC"),
        ("tutor@example.org", "/tutor/plans/plan-1/progress"),
        ("admin@example.org", "/admin/assessment-forms"),
    ],
)
def test_ids_are_unique_so_labels_and_descriptions_point_at_one_thing(
    client, tutoring_api, email, path
):
    sign_in(client, email)

    ids = re.findall(r'\sid="([^"]+)"', client.get(path).get_data(as_text=True))

    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
