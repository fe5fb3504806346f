"""Enrolling and paying in headless Chromium, through the site, Stripe.js and the webhook.

The card form is localstripe's fake Stripe.js; payment confirmation, the webhook, the bus,
the seat and the emails are all the real thing.
"""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import Page, expect

from shared import clock
from tests.e2e.mail import mails_to, wait_for_mail

pytestmark = pytest.mark.browser

PASSWORD = "boards are coming soon"
NEW_YORK = "America/New_York"


@pytest.fixture
def new_york_page(browser, tmp_path):
    """A student whose browser is in New York: every time they read is on that clock."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id=NEW_YORK)
    context.set_default_timeout(15000)
    page = context.new_page()
    yield page
    try:
        page.screenshot(path=str(tmp_path / "last-page.png"), full_page=True)
    finally:
        context.close()


def hold_on_the_new_york_clock(page: Page) -> str:
    """The checkout's "Seat held until" as it must read in New York, from the moment it marks."""
    held = page.locator("dd time[datetime]").first
    return clock.format_moment(held.get_attribute("datetime"), NEW_YORK)


def sign_in_as_new_student(school, page: Page, email: str, name: str) -> None:
    r = requests.post(
        f"{school.identity.url}/api/users",
        json={"email": email, "password": PASSWORD, "name": name},
    )
    assert r.status_code == 202, r.text
    page.goto(f"{school.site}/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(email).first).to_be_visible()


def fill_card(page: Page, number: str) -> None:
    card = page.locator("#card-element")
    expect(card.locator("input")).to_have_count(5)
    for placeholder, value in (
        ("number", number),
        ("exp_month", "12"),
        ("exp_year", "34"),
        ("cvc", "123"),
        ("postal_code", "10001"),
    ):
        card.locator(f"input[placeholder={placeholder}]").fill(value)


def open_first_cycle_checkout(school, page: Page) -> str:
    page.goto(school.site)
    page.get_by_role("navigation").get_by_role("link", name="Courses").click()
    page.get_by_role("link", name="USMLE Step 1 Prep").click()
    expect(page.get_by_role("heading", name="USMLE Step 1 Prep")).to_be_visible()
    seats = page.locator(".cycle-seats").first
    expect(seats).to_contain_text("25 of 25 seats left")
    page.get_by_role("button", name="Enroll").first.click()
    expect(page.get_by_role("button", name=re.compile(r"^Pay \$1,499\.00"))).to_be_visible()
    return page.url.rsplit("/", 1)[1]


def test_student_enrolls_pays_by_card_and_is_enrolled_with_receipt_and_welcome(
    school, new_york_page
):
    page = new_york_page
    sign_in_as_new_student(school, page, "rosa@example.com", "Rosa Diaz")
    open_first_cycle_checkout(school, page)
    held_until = hold_on_the_new_york_clock(page)
    assert "New York time (E" in held_until
    expect(page.locator("dd time[datetime]").first).to_have_text(held_until)

    fill_card(page, "4242424242424242")
    page.get_by_role("button", name=re.compile("^Pay")).click()

    expect(page.get_by_role("heading", name="You're enrolled")).to_be_visible(timeout=30000)
    receipt = wait_for_mail(school.smtp, "rosa@example.com", "receipt")
    receipt_text = receipt.get_body(preferencelist=("plain",)).get_content()
    assert "$1,499.00" in receipt_text
    # The account took the browser's zone at sign-in, so the mail is on her clock too.
    assert re.search(
        r"Paid on: +\w+day \d+ \w+ \d{4}, \d\d:\d\d New York time \(E[SD]T\)", receipt_text
    )
    welcome = wait_for_mail(school.smtp, "rosa@example.com", "welcome to usmle step 1 prep")
    assert "Rosa" in welcome.get_body(preferencelist=("plain",)).get_content()

    page.goto(f"{school.site}/courses/usmle-step-1-prep")
    expect(page.locator(".cycle-seats").first).to_contain_text("24 of 25 seats left")


def test_a_card_that_asks_for_3d_secure_is_authenticated_in_the_browser(school, page):
    sign_in_as_new_student(school, page, "theo@example.com", "Theo Park")
    open_first_cycle_checkout(school, page)

    fill_card(page, "4000002760003184")
    page.get_by_role("button", name=re.compile("^Pay")).click()
    page.get_by_role("button", name="Complete authentication").click()

    expect(page.get_by_role("heading", name="You're enrolled")).to_be_visible(timeout=30000)
    wait_for_mail(school.smtp, "theo@example.com", "receipt")


def test_a_declined_card_is_explained_and_the_seat_stays_held(school, new_york_page):
    page = new_york_page
    sign_in_as_new_student(school, page, "ines@example.com", "Ines Moreau")
    open_first_cycle_checkout(school, page)
    held_until = hold_on_the_new_york_clock(page)

    fill_card(page, "4000000000000002")
    page.get_by_role("button", name=re.compile("^Pay")).click()

    expect(page.locator("#payment-error")).to_contain_text("declined")
    expect(page.get_by_role("button", name=re.compile("^Pay"))).to_be_enabled()
    page.goto(f"{school.site}/my/enrollments")
    expect(page.get_by_text("Pay now").first).to_be_visible()
    expect(page.get_by_text(f"until {held_until}")).to_be_visible()  # on her New York clock
    subjects = [str(m["Subject"]).lower() for m in mails_to(school.smtp, "ines@example.com")]
    assert not any("receipt" in s for s in subjects), subjects
