"""Marketing journey 1 in headless Chromium: marketing sends an email update.

Marketing writes a campaign, previews it, sends themselves a test, picks the audience of a
topic's confirmed subscribers and sends it now; the figures climb on the page until every
subscriber is mailed once. A recipient unsubscribes in one click (RFC 8058: a POST with no
cookie); a GET of the same link changes nothing; the next campaign skips them, and so it does an
address that bounced hard. A student cannot reach the console.
"""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import Page, expect

from shared import config
from tests.e2e.mail import html_of, link, mails_to, one_click_url, text_of, wait_for_mail
from tests.e2e.people import invite_staff, register_student, sign_in

pytestmark = pytest.mark.browser

TOPIC = "step1-tips"
READERS = {
    "ada@example.com": "Ada Lovelace",
    "grace@example.com": "Grace Hopper",
    "alan@example.com": "Alan Turing",
    "katherine@example.com": "Katherine Johnson",
}


def confirmed_subscriber(school, email: str, name: str) -> None:
    """Double opt-in the way a visitor does it: subscribe, then follow the emailed link."""
    r = requests.post(
        f"{school.email.url}/api/subscriptions",
        json={"email": email, "name": name, "topics": [TOPIC]},
    )
    assert r.status_code == 202, r.text
    token = link(wait_for_mail(school.smtp, email, "confirm"), "/confirm/").rsplit("/", 1)[1]
    r = requests.post(f"{school.email.url}/api/subscriptions/confirm", json={"token": token})
    assert r.status_code == 200, r.text


def write_campaign(page: Page, site: str, subject: str, body: str) -> str:
    page.goto(f"{site}/marketing/campaigns/new")
    page.get_by_label("Subject").fill(subject)
    page.get_by_label("Message (Markdown)").fill(body)
    page.get_by_label(re.compile("USMLE Step 1 tips")).check()
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("heading", name=subject)).to_be_visible()
    return page.url.split("?")[0]


def send_now(page: Page) -> None:
    page.get_by_label(re.compile("Yes, send it now")).check()
    page.get_by_role("button", name="Send now").click()


def figure(page: Page, key: str):
    return page.locator(f"[data-figure={key}]")


def test_marketing_writes_tests_and_sends_a_campaign_and_one_click_unsubscribe_holds(
    school, browser
):
    for email, name in READERS.items():
        confirmed_subscriber(school, email, name)
    invite_staff(school, "mira@example.com", "Mira Okafor", "marketing")

    marketer = browser.new_context().new_page()
    sign_in(school, marketer, "mira@example.com")
    campaign_url = write_campaign(
        marketer,
        school.site,
        "Your Step 1 week, {{first_name}}",
        "Hi {{first_name}},\n\n**Rest** one day in seven, and take a self-assessment every "
        "four weeks.\n\n[Read the study guide](https://preceptor.example/guide)",
    )
    preview = marketer.frame_locator("iframe.email-preview")
    expect(preview.get_by_text("Rest", exact=True)).to_be_visible()
    # a real reader of the chosen audience, first by name, not a sample
    expect(marketer.locator("#preview-recipient")).to_contain_text(
        "As Ada Lovelace (ada@example.com), the first of this audience by name"
    )

    marketer.get_by_role("button", name="Send me a test").click()
    test_mail = wait_for_mail(school.smtp, "mira@example.com", "[Test] Your Step 1 week")
    assert "<strong>Rest</strong>" in html_of(test_mail)

    send_now(marketer)
    expect(figure(marketer, "sent")).to_have_text("4", timeout=30_000)
    expect(figure(marketer, "queued")).to_have_text("0")
    expect(marketer.get_by_text(re.compile(r"\bSent\b")).first).to_be_visible()

    for email, name in READERS.items():
        [update] = [m for m in mails_to(school.smtp, email) if "Step 1 week" in str(m["Subject"])]
        assert str(update["Subject"]) == f"Your Step 1 week, {name.split()[0]}"
        assert text_of(update).startswith(f"Hi {name.split()[0]},")
        assert update["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # Ada's mail client unsubscribes in one click: a bare POST, no cookie, no CSRF token.
    [adas] = [
        m for m in mails_to(school.smtp, "ada@example.com") if "Step 1 week" in str(m["Subject"])
    ]
    one_click = one_click_url(adas)
    assert one_click.startswith(f"{school.site}/unsubscribe/")
    # Grace's mail scanner follows the link with a GET: that must not unsubscribe her.
    [graces] = [
        m for m in mails_to(school.smtp, "grace@example.com") if "Step 1 week" in str(m["Subject"])
    ]
    assert requests.get(one_click_url(graces)).status_code == 200
    r = requests.post(
        one_click,
        data="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200, r.text

    # Alan's address bounces hard, reported by the mail provider's webhook.
    r = requests.post(
        f"{school.email.url}/api/bounces",
        headers={"Authorization": f"Bearer {config.bounce_webhook_secret()}"},
        json={"type": "bounce", "bounce_type": "hard", "email": "alan@example.com"},
    )
    assert r.status_code == 202 and r.json()["suppressed"], r.text

    marketer.goto(campaign_url)
    expect(figure(marketer, "unsubscribed")).to_have_text("1")
    marketer.goto(f"{school.site}/marketing/suppressions")
    expect(marketer.get_by_role("row", name=re.compile("ada@example.com"))).to_contain_text(
        re.compile("unsubscribed", re.I)
    )
    expect(marketer.get_by_role("row", name=re.compile("alan@example.com"))).to_contain_text(
        re.compile("bounce", re.I)
    )

    write_campaign(marketer, school.site, "Step 1 office hours", "See you on Thursday.")
    send_now(marketer)
    expect(figure(marketer, "sent")).to_have_text("2", timeout=30_000)
    # Ada left the topic, so she is not in its audience at all; Alan still is, and the
    # suppression list stops him at send time.
    expect(figure(marketer, "suppressed")).to_have_text("1")
    for email in ("grace@example.com", "katherine@example.com"):
        wait_for_mail(school.smtp, email, "Step 1 office hours")
    for email in ("ada@example.com", "alan@example.com"):
        assert not [m for m in mails_to(school.smtp, email) if "office hours" in str(m["Subject"])]
        assert (
            len([m for m in mails_to(school.smtp, email) if "Step 1 week" in str(m["Subject"])])
            == 1
        )


def test_a_student_cannot_open_the_marketing_console(school, browser):
    register_student(school, "sam@example.com", "Sam Student")
    student = browser.new_context().new_page()
    sign_in(school, student, "sam@example.com")
    response = student.goto(f"{school.site}/marketing/campaigns")
    assert response.status == 403
    expect(student.get_by_role("link", name="Marketing")).to_have_count(0)
