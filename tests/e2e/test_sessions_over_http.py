"""The site's sessions end on the server, across real services (issue 11, point 3).

Browsers are ``requests`` sessions talking to the site over HTTP; the site talks to the real
identity and email services on PostgreSQL and RabbitMQ, and the reset link arrives by SMTP. A
copy of a cookie taken before sign-out, or before a password reset done on another device,
opens nothing afterwards, and no cookie the site sets can be read for a token.
"""

from __future__ import annotations

import base64
import json
import re
import zlib

import requests

from tests.e2e.mail import link, wait_for_mail
from tests.e2e.people import PASSWORD, register_student

COOKIE = "preceptor_session"
NEW_PASSWORD = "another long enough password"


def csrf(browser: requests.Session, url: str) -> str:
    page = browser.get(url)
    assert page.status_code == 200, page.status_code
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def sign_in(site: str, email: str, password: str = PASSWORD) -> requests.Session:
    browser = requests.Session()
    answer = browser.post(
        f"{site}/login",
        data={"email": email, "password": password, "csrf_token": csrf(browser, f"{site}/login")},
        allow_redirects=False,
    )
    assert answer.status_code == 302 and answer.headers["Location"] == "/account", answer.text
    return browser


def opens_the_account(site: str, cookie: str) -> bool:
    """Whether a fresh browser holding only ``cookie`` (a stolen copy) is signed in."""
    thief = requests.Session()
    thief.cookies.set(COOKIE, cookie)
    answer = thief.get(f"{site}/account", allow_redirects=False)
    assert answer.status_code in (200, 302), answer.status_code
    return answer.status_code == 200


def readable(cookie: str) -> dict:
    """What anyone holding the cookie reads in it (Flask signs it, it does not encrypt it)."""
    data = cookie.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    return json.loads(zlib.decompress(raw) if cookie.startswith(".") else raw)


def test_copies_of_the_cookie_die_at_sign_out_and_at_a_password_reset_elsewhere(suite):
    site = suite.site
    email = "nadia.rahman@example.com"
    register_student(suite, email, "Nadia Rahman")

    laptop = sign_in(site, email)
    phone = sign_in(site, email)
    laptop_copy = laptop.cookies[COOKIE]
    phone_copy = phone.cookies[COOKIE]
    assert opens_the_account(site, laptop_copy) and opens_the_account(site, phone_copy)
    assert set(readable(laptop_copy)) <= {"sid", "csrf", "_flashes"}
    assert "eyJ" not in json.dumps(readable(laptop_copy))  # no JWT, no refresh token

    # Sign-out on the phone: its copy is dead, the laptop's session goes on.
    phone.post(f"{site}/logout", data={"csrf_token": csrf(phone, f"{site}/account")})
    assert not opens_the_account(site, phone_copy)
    assert opens_the_account(site, laptop_copy)

    # A password reset from a third device, signed out, through the emailed link.
    kiosk = requests.Session()
    kiosk.post(
        f"{site}/password-reset",
        data={"email": email, "csrf_token": csrf(kiosk, f"{site}/password-reset")},
    )
    reset_url = link(wait_for_mail(suite.smtp, email, "reset"), "/password-reset/")
    done = kiosk.post(
        reset_url,
        data={
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "csrf_token": csrf(kiosk, reset_url),
        },
        allow_redirects=False,
    )
    assert done.status_code == 302 and done.headers["Location"] == "/login", done.text

    assert not opens_the_account(site, laptop_copy)
    assert laptop.get(f"{site}/account", allow_redirects=False).status_code == 302
    assert opens_the_account(site, sign_in(site, email, NEW_PASSWORD).cookies[COOKIE])
