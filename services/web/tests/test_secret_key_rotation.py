"""The site's session cookie across a SECRET_KEY rotation: nobody is signed out while the old
key is in SECRET_KEY_FALLBACKS, and a session signed again after it needs only the new key."""

from __future__ import annotations

from services.web.app import create_app
from services.web.tests.conftest import csrf_from, sign_in

COOKIE = "preceptor_session"


def browser_with(cookie: str):
    """A browser holding ``cookie``, talking to the site restarted with the current settings."""
    browser = create_app().test_client()
    browser.set_cookie(COOKIE, cookie)
    return browser


def test_a_session_signed_before_the_rotation_stays_signed_in_with_its_csrf_token(
    client, identity_api, email_api, secret_key_rotation
):
    sign_in(client)
    cookie = client.get_cookie(COOKIE).value
    token_before = csrf_from(client, "/account")

    secret_key_rotation.rotate()
    browser = browser_with(cookie)

    assert browser.get("/account").status_code == 200
    assert csrf_from(browser, "/account") == token_before
    subscribed = browser.post(
        "/subscribe",
        data={"email": "reader@example.org", "topics": ["step1"], "csrf_token": token_before},
    )
    assert subscribed.status_code == 302
    assert len(email_api.calls_to("POST", "/api/subscriptions")) == 1


def test_a_session_signed_before_the_rotation_ends_once_the_fallback_is_dropped(
    client, identity_api, secret_key_rotation
):
    sign_in(client)
    cookie = client.get_cookie(COOKIE).value

    secret_key_rotation.rotate()
    secret_key_rotation.drop_fallback()

    response = browser_with(cookie).get("/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_a_session_started_after_the_rotation_is_signed_with_the_new_key(
    site_database, identity_api, secret_key_rotation
):
    secret_key_rotation.rotate()
    during = create_app().test_client()
    sign_in(during)
    cookie = during.get_cookie(COOKIE).value

    secret_key_rotation.drop_fallback()

    assert browser_with(cookie).get("/account").status_code == 200


def test_a_session_used_during_the_rotation_stays_signed_in_after_the_fallback_is_dropped(
    client, identity_api, secret_key_rotation
):
    """The cookie changes rarely (the tokens live on the server), so the site signs it again
    under the new key the first time a fallback key opens it."""
    sign_in(client)
    cookie = client.get_cookie(COOKIE).value

    secret_key_rotation.rotate()
    during = browser_with(cookie)
    assert during.get("/account").status_code == 200
    resigned = during.get_cookie(COOKIE).value
    assert resigned != cookie

    secret_key_rotation.drop_fallback()

    assert browser_with(resigned).get("/account").status_code == 200
