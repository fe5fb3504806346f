"""Sign-in limits an attacker cannot turn against everyone: per real client, per account with
delays that end, atomic under parallel guesses on both databases, emails a flood cannot
multiply (issue 11, points 1 and 8)."""

from __future__ import annotations

import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests

from services.identity.tests.helpers import PASSWORD, login, outbox, register
from services.identity.use_cases import sign_in
from shared import client_address, migrations
from shared.bus.broker import Broker
from shared.db import utcnow
from shared.testing.fixtures import build_service

WRONG = "not the password"


@pytest.fixture(params=["postgresql", "sqlite"])
def identity(request, services, bus_settings, tmp_path):
    """Identity served over real HTTP on PostgreSQL, and on the embedded SQLite default."""
    if request.param == "postgresql":
        svc = services("identity")
    else:
        url = f"sqlite:///{tmp_path / 'identity.db'}"
        migrations.upgrade("identity", url)
        svc = build_service("identity", url, Broker(bus_settings))
        request.addfinalizer(svc.close)
    svc.serve()
    return svc


def vouched(address: str) -> dict[str, str]:
    """The header the site sends for a browser at ``address``."""
    return {client_address.HEADER: client_address.vouch(address)}


def test_30_parallel_guesses_get_no_more_than_the_limit_checked(identity, monkeypatch):
    monkeypatch.setenv("LOGIN_RATE_LIMIT", "5")
    monkeypatch.setenv("LOGIN_CLIENT_RATE_LIMIT", "5")
    register(identity)

    def guess(_: int) -> int:
        return requests.post(
            f"{identity.url}/api/auth/login",
            json={"email": "ada@example.com", "password": WRONG},
            timeout=60,
        ).status_code

    with ThreadPoolExecutor(max_workers=30) as pool:
        answers = Counter(pool.map(guess, range(30)))

    assert answers == {401: 5, 429: 25}


def test_a_forged_or_stale_client_header_is_ignored(identity, monkeypatch):
    monkeypatch.setenv("LOGIN_RATE_LIMIT", "3")
    monkeypatch.setenv("LOGIN_CLIENT_RATE_LIMIT", "3")
    register(identity)
    forged = [
        {client_address.HEADER: "10.0.0.1"},
        {client_address.HEADER: "10.0.0.2 1700000000 " + "0" * 64},
        {client_address.HEADER: client_address.vouch("10.0.0.3", now=0)},  # stale
        {client_address.HEADER: client_address.vouch("10.0.0.4").replace("10.0.0.4", "10.0.0.5")},
    ]
    answers = [
        requests.post(
            f"{identity.url}/api/auth/login",
            json={"email": f"nobody{i}@example.com", "password": WRONG},
            headers=headers,
            timeout=30,
        ).status_code
        for i, headers in enumerate(forged)
    ]
    # All four counted against the connection's own address: the fourth is over its limit.
    assert answers == [401, 401, 401, 429]
    # A header the site signed is believed: another browser is not limited.
    other = requests.post(
        f"{identity.url}/api/auth/login",
        json={"email": "ada@example.com", "password": PASSWORD},
        headers=vouched("198.51.100.9"),
        timeout=30,
    )
    assert other.status_code == 200


class Clock:
    """Identity's clock, moved by hand so a test can wait out a delay in no time."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self):
        return self.now

    def wait(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def test_failures_on_one_account_bring_growing_capped_delays_never_a_lock(identity, monkeypatch):
    monkeypatch.setenv("LOGIN_RATE_LIMIT", "3")
    monkeypatch.setenv("LOGIN_CLIENT_RATE_LIMIT", "3")
    monkeypatch.setenv("LOGIN_DELAY_MAX", "5")
    clock = Clock()
    monkeypatch.setattr(sign_in, "utcnow", clock)
    register(identity)
    addresses = iter(f"203.0.113.{n}" for n in range(1, 200))

    def attempt(password: str) -> requests.Response:
        # A botnet: every guess from a new address, so only the account's limit applies.
        return requests.post(
            f"{identity.url}/api/auth/login",
            json={"email": "ada@example.com", "password": password},
            headers=vouched(next(addresses)),
            timeout=30,
        )

    for _ in range(3):
        assert attempt(WRONG).status_code == 401
    waits = []
    for _ in range(4):
        refused = attempt(WRONG)
        assert refused.status_code == 429
        waits.append(int(refused.headers["Retry-After"]))
        clock.wait(waits[-1])
        assert attempt(WRONG).status_code == 401
    assert waits == [1, 2, 4, 5]  # doubling, capped at LOGIN_DELAY_MAX
    # The owner is never locked out for longer than the cap: after it, the right password works.
    refused = attempt(PASSWORD)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) == 5
    clock.wait(5)
    assert attempt(PASSWORD).status_code == 200
    # And a success starts the account afresh.
    assert [attempt(WRONG).status_code for _ in range(4)] == [401, 401, 401, 429]


def test_a_password_reset_lifts_the_delays_on_the_account(identity, monkeypatch):
    monkeypatch.setenv("LOGIN_RATE_LIMIT", "3")
    monkeypatch.setenv("LOGIN_CLIENT_RATE_LIMIT", "3")
    monkeypatch.setenv("LOGIN_DELAY_MAX", "900")
    register(identity)
    for n in range(10):
        requests.post(
            f"{identity.url}/api/auth/login",
            json={"email": "ada@example.com", "password": WRONG},
            headers=vouched(f"203.0.113.{n}"),
            timeout=30,
        )
    assert login(identity).status_code == 429

    asked = identity.client.post("/api/password-resets", json={"email": "ada@example.com"})
    assert asked.status_code == 202
    [reset] = outbox(identity, "user.password_reset_requested")
    done = identity.client.post(
        "/api/password-resets/complete", json={"token": reset["token"], "password": "a new one!!"}
    )
    assert done.status_code == 200
    assert login(identity, password="a new one!!").status_code == 200


def test_wrong_passwords_from_one_browser_through_the_site_do_not_lock_out_another(
    services, monkeypatch
):
    monkeypatch.setenv("LOGIN_RATE_LIMIT", "5")
    monkeypatch.setenv("LOGIN_CLIENT_RATE_LIMIT", "5")
    identity = services("identity", serve=True)
    site = services("web")
    register(identity, email="admin@example.com")
    attacker = site.app.test_client()
    victim = site.app.test_client()

    pages = []

    def sign_in(browser, address: str, email: str, password: str) -> int:
        page = browser.get("/login", environ_base={"REMOTE_ADDR": address})
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
        answer = browser.post(
            "/login",
            data={"email": email, "password": password, "csrf_token": token.group(1)},
            environ_base={"REMOTE_ADDR": address},
        )
        pages.append(answer.get_data(as_text=True))
        return answer.status_code

    tries = [sign_in(attacker, "203.0.113.7", "someone@example.com", WRONG) for _ in range(6)]
    assert tries[:5] == [401] * 5 and tries[5] == 429  # the attacker's browser is limited
    # The page says how long to wait (identity's Retry-After), not "a few minutes".
    assert re.search(r"Try again in \d+ (second|minute)s?", pages[5]), pages[5]
    assert sign_in(victim, "198.51.100.9", "admin@example.com", PASSWORD) == 302


def test_behind_a_trusted_proxy_the_site_limits_each_forwarded_browser(services, monkeypatch):
    monkeypatch.setenv("LOGIN_RATE_LIMIT", "2")
    monkeypatch.setenv("LOGIN_CLIENT_RATE_LIMIT", "2")
    monkeypatch.setenv("TRUSTED_PROXIES", "1")
    identity = services("identity", serve=True)
    site = services("web")
    register(identity, email="admin@example.com")

    def sign_in(forwarded_for: str, email: str, password: str) -> int:
        browser = site.app.test_client()
        headers = {"X-Forwarded-For": forwarded_for}
        page = browser.get("/login", headers=headers)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
        return browser.post(
            "/login",
            data={"email": email, "password": password, "csrf_token": token.group(1)},
            headers=headers,
        ).status_code

    # The proxy appends the browser's address; what the browser wrote before it is not believed.
    assert [sign_in(f"10.9.9.{n}, 203.0.113.7", "x@example.com", WRONG) for n in range(3)] == [
        401,
        401,
        429,
    ]
    assert sign_in("203.0.113.8", "admin@example.com", PASSWORD) == 302


def test_a_flood_of_reset_requests_sends_at_most_the_limit_with_one_answer(identity, monkeypatch):
    monkeypatch.setenv("MAIL_REQUEST_LIMIT", "3")
    register(identity)

    def ask(email: str) -> tuple[int, bytes]:
        answer = requests.post(
            f"{identity.url}/api/password-resets", json={"email": email}, timeout=60
        )
        return answer.status_code, answer.content

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = set(pool.map(ask, ["ada@example.com"] * 20))
    unknown = ask("nobody@example.com")

    assert answers == {unknown} and unknown[0] == 202
    assert len(outbox(identity, "user.password_reset_requested")) == 3


def test_one_client_asking_resets_for_many_addresses_is_limited_too(identity, monkeypatch):
    monkeypatch.setenv("MAIL_REQUEST_CLIENT_LIMIT", "4")
    for n in range(6):
        register(identity, email=f"user{n}@example.com")
    answers = {
        identity.client.post("/api/password-resets", json={"email": f"user{n}@example.com"}).data
        for n in range(6)
    }
    assert len(answers) == 1
    assert len(outbox(identity, "user.password_reset_requested")) == 4


def test_by_default_one_persons_typos_do_not_keep_others_at_their_address_out(identity):
    """A school's network reaches us from one address: one account's failures slow that
    account, and leave the address enough tries for everyone else (the defaults)."""
    register(identity)
    register(identity, email="grace@example.com")
    school = vouched("203.0.113.50")
    answers = [
        requests.post(
            f"{identity.url}/api/auth/login",
            json={"email": "ada@example.com", "password": WRONG},
            headers=school,
            timeout=30,
        ).status_code
        for _ in range(6)
    ]
    assert answers == [401] * 5 + [429]  # Ada's account waits now
    colleague = requests.post(
        f"{identity.url}/api/auth/login",
        json={"email": "grace@example.com", "password": PASSWORD},
        headers=school,
        timeout=30,
    )
    assert colleague.status_code == 200, colleague.text
