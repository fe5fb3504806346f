"""The foundation journey over HTTP, through the site's one-click endpoint and the real bus.

A visitor registers, gets a welcome email, signs up for updates, confirms through the emailed
link, and unsubscribes with the RFC 8058 one-click POST a mail provider would send.
"""

from __future__ import annotations

import requests

from tests.e2e.mail import mails_to, one_click_url, wait_for_mail


def test_register_subscribe_confirm_and_unsubscribe_in_one_click(suite):
    identity = requests.Session()
    registered = identity.post(
        f"{suite.identity.url}/api/users",
        json={
            "email": "Maya.Patel@example.com",
            "password": "correct horse battery",
            "name": "Maya Patel",
        },
    )
    assert registered.status_code == 202, registered.text
    welcome = wait_for_mail(suite.smtp, "maya.patel@example.com", "welcome")
    assert "Maya" in welcome.get_body(preferencelist=("plain",)).get_content()

    answer = requests.post(
        f"{suite.email.url}/api/subscriptions",
        json={
            "email": "maya.patel@example.com",
            "topics": ["step1-tips"],
            "name": "Maya",
        },
    )
    assert answer.status_code == 202, answer.text
    confirmation = wait_for_mail(suite.smtp, "maya.patel@example.com", "confirm")
    text = confirmation.get_body(preferencelist=("plain",)).get_content()
    assert f"{suite.site}/confirm/" in text
    token = text.split(f"{suite.site}/confirm/")[1].split()[0]

    confirmed = requests.post(f"{suite.email.url}/api/subscriptions/confirm", json={"token": token})
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    subscribed = wait_for_mail(suite.smtp, "maya.patel@example.com", "subscribed")
    assert subscribed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = one_click_url(subscribed)
    assert url.startswith(f"{suite.site}/unsubscribe/")

    # A GET (a link scanner, a preview) never unsubscribes.
    assert requests.get(url).status_code == 200
    manage_token = url.rsplit("/", 1)[1]
    prefs = requests.get(f"{suite.email.url}/api/preferences/{manage_token}").json()
    assert prefs["status"] == "confirmed"

    # The mail provider's one-click POST: no cookie, no CSRF token, just the RFC 8058 body.
    one_click = requests.post(
        url,
        data="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert one_click.status_code == 200
    prefs = requests.get(f"{suite.email.url}/api/preferences/{manage_token}").json()
    assert prefs["status"] == "unsubscribed"
    assert len(mails_to(suite.smtp, "maya.patel@example.com")) == 3  # welcome, confirm, subscribed
