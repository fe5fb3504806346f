"""The site's sessions live on its server (issue 11, point 3): a cookie is only a key to a row.

Signing out or resetting the password deletes rows, so a copy of the cookie saved before (by
malware, a shared computer, a proxy log) opens nothing afterwards; the cookie itself holds no
token; sessions end when unused and after their lifetime; expired rows are purged, a bounded
batch at a time; and a signed-in page costs one primary-key read.
"""

from __future__ import annotations

import base64
import json
import time
import zlib
from datetime import timedelta

import sqlalchemy as sa

from services.web.models import SiteSession
from services.web.sessions import PURGE_BATCH
from services.web.tests.conftest import csrf_from, sign_in
from shared.db import utcnow
from shared.http import runtime_of

COOKIE = "preceptor_session"


def browser_with(site, cookie: str):
    """Another browser (or an attacker) presenting a copy of ``cookie``."""
    browser = site.test_client()
    browser.set_cookie(COOKIE, cookie)
    return browser


def signed_in(browser) -> bool:
    response = browser.get("/account")
    assert response.status_code in (200, 302), response.status_code
    return response.status_code == 200


def rows(site) -> list[SiteSession]:
    with runtime_of(site).db.session() as s:
        return list(s.scalars(sa.select(SiteSession)))


def cookie_payload(cookie: str) -> bytes:
    """The cookie's payload as anyone holding it can read it: no key is needed to decode it."""
    data = cookie.split(".")[1] if cookie.startswith(".") else cookie.split(".")[0]
    raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    return zlib.decompress(raw) if cookie.startswith(".") else raw


def test_a_cookie_saved_before_sign_out_no_longer_opens_the_account(site, client, identity_api):
    sign_in(client, "student@example.org")
    saved = client.get_cookie(COOKIE).value
    assert signed_in(browser_with(site, saved))

    client.post("/logout", data={"csrf_token": csrf_from(client, "/account")})

    assert not signed_in(browser_with(site, saved))
    assert rows(site) == []
    [revoked] = identity_api.calls_to("POST", "/api/auth/logout")
    assert revoked.json == {"refresh_token": "refresh.student@example.org"}


def test_a_password_reset_on_another_device_ends_every_session_of_the_account(site, identity_api):
    laptop, phone, other = site.test_client(), site.test_client(), site.test_client()
    sign_in(laptop, "student@example.org")
    sign_in(phone, "student@example.org")
    sign_in(other, "someone@example.org")
    saved = laptop.get_cookie(COOKIE).value

    # A third device, signed out, completes the emailed reset link.
    kiosk = site.test_client()
    done = kiosk.post(
        "/password-reset/reset.student@example.org",
        data={
            "password": "new-password-1",
            "confirm": "new-password-1",
            "csrf_token": csrf_from(kiosk, "/password-reset/reset.student@example.org"),
        },
    )

    assert done.headers["Location"] == "/login"
    assert not signed_in(browser_with(site, saved))
    assert not signed_in(laptop)
    assert not signed_in(phone)
    assert signed_in(other)  # another account's session is not touched
    assert [r.user["email"] for r in rows(site)] == ["someone@example.org"]


def test_a_password_reset_in_a_signed_in_browser_signs_that_browser_out_too(site, identity_api):
    browser = site.test_client()
    sign_in(browser, "student@example.org")

    browser.post(
        "/password-reset/reset.student@example.org",
        data={
            "password": "new-password-1",
            "confirm": "new-password-1",
            "csrf_token": csrf_from(browser, "/password-reset/reset.student@example.org"),
        },
    )

    assert not signed_in(browser)
    assert rows(site) == []


def test_the_cookie_holds_no_token_only_a_session_id_and_the_csrf_token(site, client, identity_api):
    identity_api.access_ttl = 30  # the next page refreshes the tokens, which must stay out too
    sign_in(client, "student@example.org")
    client.get("/account")
    cookie = client.get_cookie(COOKIE).value

    payload = cookie_payload(cookie)
    session = json.loads(payload)
    assert set(session) <= {"sid", "csrf", "_flashes"}
    for secret in ("access-", "refresh.", "student@example.org", "Bearer"):
        assert secret.encode() not in payload
    [row] = rows(site)
    assert row.access_token == "access-2.student@example.org"
    assert row.refresh_token == "refresh.student@example.org"
    assert row.id != session["sid"]  # the table keeps a hash: reading it gives no cookie


def test_signing_in_again_in_the_same_browser_ends_the_previous_session(site, client, identity_api):
    sign_in(client, "student@example.org")
    before = client.get_cookie(COOKIE).value

    sign_in(client, "tutor@example.org")

    assert not signed_in(browser_with(site, before))
    assert [r.user["email"] for r in rows(site)] == ["tutor@example.org"]


def test_a_cookie_naming_no_session_is_anonymous_and_forgets_the_id(site, identity_api):
    browser = site.test_client()
    sign_in(browser, "student@example.org")
    with runtime_of(site).db.session() as s, s.begin():
        s.execute(sa.delete(SiteSession))

    response = browser.get("/")

    assert response.status_code == 200
    assert "sid" not in json.loads(cookie_payload(browser.get_cookie(COOKIE).value))


def test_a_session_unused_for_the_idle_timeout_ends_and_one_in_use_goes_on(
    var_dir, identity_api, monkeypatch, site_database
):
    from services.web.app import create_app

    monkeypatch.setenv("SESSION_IDLE_TIMEOUT", "2")
    site = create_app()
    busy, idle = site.test_client(), site.test_client()
    sign_in(busy)
    sign_in(idle)

    time.sleep(1.2)
    assert signed_in(busy)  # used after half the idle timeout: the deadline moves on
    time.sleep(1.2)

    assert signed_in(busy)
    assert not signed_in(idle)


def test_a_session_ends_after_its_lifetime_however_much_it_is_used(
    var_dir, identity_api, monkeypatch, site_database
):
    from services.web.app import create_app

    monkeypatch.setenv("SESSION_LIFETIME", "2")
    monkeypatch.setenv("SESSION_IDLE_TIMEOUT", "3600")
    site = create_app()
    browser = site.test_client()
    sign_in(browser)

    deadline = time.monotonic() + 2.5
    while time.monotonic() < deadline:
        assert signed_in(browser) or time.monotonic() > deadline - 0.6
        time.sleep(0.3)

    assert not signed_in(browser)


def test_expired_sessions_are_purged_a_bounded_batch_at_each_sign_in(site, identity_api):
    past = utcnow() - timedelta(minutes=1)
    with runtime_of(site).db.session() as s, s.begin():
        s.add_all(
            SiteSession(
                id=f"expired-{n}",
                user_id="user-old",
                user={"id": "user-old"},
                access_token="a",
                refresh_token="r",
                access_expires_at=past,
                created_at=past,
                ends_at=past,
                expires_at=past,
            )
            for n in range(PURGE_BATCH + 20)
        )

    sign_in(site.test_client())

    left = rows(site)
    assert len([r for r in left if r.user_id == "user-old"]) == 20
    assert len(left) == 21


class Statements:
    """The SQL the site sends to its database while in the block."""

    def __init__(self, site) -> None:
        self.engine = runtime_of(site).db.engine
        self.sent: list[str] = []

    def _note(self, _conn, _cursor, statement, *_args) -> None:
        self.sent.append(statement)

    def __enter__(self) -> list[str]:
        sa.event.listen(self.engine, "before_cursor_execute", self._note)
        return self.sent

    def __exit__(self, *exc_info) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._note)


def test_a_signed_in_page_reads_its_session_with_one_primary_key_query(site, client, identity_api):
    sign_in(client)

    with Statements(site) as sent:
        assert client.get("/account").status_code == 200
        assert client.get("/courses").status_code == 200

    assert len(sent) == 2, sent
    assert all(
        s.startswith("SELECT") and "WHERE sessions.id = " in " ".join(s.split()) for s in sent
    )


def test_anonymous_pages_never_touch_the_database(site, client):
    with Statements(site) as sent:
        client.get("/")
        client.get("/courses")
        client.get("/login")

    assert sent == []


def test_a_signed_in_page_answers_a_503_page_when_the_sessions_database_is_down(
    site, client, identity_api, nothing_listening, monkeypatch
):
    from services.web.app import create_app

    sign_in(client)
    port = nothing_listening.rsplit(":", 1)[1]
    monkeypatch.setenv("WEB_DATABASE_URL", f"postgresql+psycopg://postgres@127.0.0.1:{port}/web")
    down = browser_with(create_app(), client.get_cookie(COOKIE).value)

    response = down.get("/account")

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert "temporarily unavailable" in response.get_data(as_text=True)
    assert site.test_client().get("/").status_code == 200  # anonymous pages need no database
