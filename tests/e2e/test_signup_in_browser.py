"""The foundation journey in headless Chromium, as a visitor lives it.

Register on the site, sign up for email updates, open the confirmation email, confirm, and
unsubscribe from the link in the next email — every step through the pages, every message
through RabbitMQ and a real SMTP server.
"""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.mail import link, mails_to, one_click_url, wait_for_mail

pytestmark = pytest.mark.browser


def test_visitor_registers_subscribes_confirms_and_unsubscribes_in_the_browser(suite, page):
    page.goto(suite.site)
    expect(page).to_have_title(re.compile("Preceptor"))

    page.get_by_role("link", name="Create account").first.click()
    page.get_by_label("Full name").fill("Amara Okafor")
    page.get_by_label("Email address").fill("amara@example.com")
    page.get_by_label("Password", exact=True).fill("step one, then step two")
    page.get_by_label("Confirm password").fill("step one, then step two")
    page.get_by_role("button", name="Create account").click()
    # The same page whether or not the address had an account; a new one signs in at once.
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    welcome = wait_for_mail(suite.smtp, "amara@example.com", "welcome")
    assert "Amara" in welcome.get_body(preferencelist=("plain",)).get_content()
    page.get_by_role("link", name="Sign in").last.click()
    page.get_by_label("Email address").fill("amara@example.com")
    page.get_by_label("Password").fill("step one, then step two")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("amara@example.com").first).to_be_visible()

    page.goto(f"{suite.site}/#updates")
    form = page.locator("#updates form")
    form.get_by_label("Email address").fill("amara@example.com")
    topics = form.locator("input[name=topics]")
    for i in range(topics.count()):
        topics.nth(i).uncheck()
    form.get_by_label(re.compile("Step 1 tips")).check()
    form.get_by_role("button").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()

    confirmation = wait_for_mail(suite.smtp, "amara@example.com", "confirm")
    page.goto(link(confirmation, "/confirm/"))
    page.get_by_role("button", name="Confirm my subscription").click()
    expect(page.get_by_role("heading", name="You're subscribed")).to_be_visible()

    subscribed = wait_for_mail(suite.smtp, "amara@example.com", "subscribed")
    assert subscribed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    manage_token = one_click_url(subscribed).rsplit("/", 1)[1]

    def status() -> str:
        return requests.get(f"{suite.email.url}/api/preferences/{manage_token}").json()["status"]

    page.goto(link(subscribed, "/unsubscribe/"))
    expect(page.get_by_role("heading", name=re.compile("Unsubscribe"))).to_be_visible()
    assert status() == "confirmed"  # opening the page changes nothing
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", name=re.compile("unsubscribed", re.I))).to_be_visible()
    assert status() == "unsubscribed"
    assert len(mails_to(suite.smtp, "amara@example.com")) == 3
