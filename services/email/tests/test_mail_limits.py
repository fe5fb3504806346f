"""Strangers cannot make us flood an inbox: subscription confirmations are limited per address
and per client, atomically, with one answer whether limited or not (issue 11, point 8); and the
owner of an address someone tried to register with is told how to sign in or reset."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa

from services.email.models import Delivery
from services.email.tests.conftest import PUBLIC_URL
from services.email.tests.test_transactional import publish
from shared import client_address, migrations
from shared.bus.broker import Broker
from shared.bus.envelope import new_event
from shared.testing.fixtures import build_service, pump


@pytest.fixture(params=["postgresql", "sqlite"])
def email_http(request, services, bus_settings, tmp_path, monkeypatch):
    """The email service over real HTTP on PostgreSQL, and on the embedded SQLite default."""
    monkeypatch.setenv("PUBLIC_URL", PUBLIC_URL)
    if request.param == "postgresql":
        svc = services("email")
    else:
        url = f"sqlite:///{tmp_path / 'email.db'}"
        migrations.upgrade("email", url)
        svc = build_service("email", url, Broker(bus_settings))
        request.addfinalizer(svc.close)
    svc.serve()
    return svc


def confirmations(svc) -> Counter:
    with svc.runtime.db.session() as s:
        return Counter(
            s.scalars(sa.select(Delivery.to_address).where(Delivery.kind == "confirm_subscription"))
        )


def test_twenty_parallel_subscriptions_of_one_address_send_at_most_the_limit(
    email_http, monkeypatch
):
    monkeypatch.setenv("MAIL_REQUEST_LIMIT", "3")

    def subscribe(email: str) -> tuple[int, bytes]:
        answer = requests.post(
            f"{email_http.url}/api/subscriptions",
            json={"email": email, "topics": ["step1-tips"]},
            timeout=60,
        )
        return answer.status_code, answer.content.replace(email.encode(), b"<email>")

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = set(pool.map(subscribe, ["ada@example.com"] * 20))

    assert answers == {subscribe("bo@example.com")}
    assert next(iter(answers))[0] == 202
    assert confirmations(email_http) == {"ada@example.com": 3, "bo@example.com": 1}


def test_one_client_subscribing_many_addresses_is_limited_but_another_client_is_not(
    email_service, monkeypatch
):
    monkeypatch.setenv("MAIL_REQUEST_CLIENT_LIMIT", "4")
    client = email_service.client
    answers = {
        client.post(
            "/api/subscriptions", json={"email": f"p{n}@example.com", "topics": ["step2ck"]}
        ).status_code
        for n in range(6)
    }
    assert answers == {202}
    assert sum(confirmations(email_service).values()) == 4
    # The site vouches for another browser's address: that person is not limited.
    other = client.post(
        "/api/subscriptions",
        json={"email": "q@example.com", "topics": ["step2ck"]},
        headers={client_address.HEADER: client_address.vouch("198.51.100.9")},
    )
    assert other.status_code == 202
    assert confirmations(email_service)["q@example.com"] == 1


def test_a_registration_with_a_taken_address_mails_its_owner_the_ways_back_in(
    email_service, deliver
):
    event = new_event(
        "user.registration_attempted",
        {"user_id": "u-1", "email": "ada@example.com", "name": "Ada"},
        "identity",
    )
    publish(email_service, event, times=2)
    pump(email_service)
    [mail] = deliver(1)
    assert mail["To"] == "ada@example.com"
    assert mail["Subject"] == "You already have a Preceptor account"
    text = mail.get_body(("plain",)).get_content()
    assert "Hello Ada" in text and "Someone tried to create" in text
    assert f"{PUBLIC_URL}/login\n" in text
    assert f"{PUBLIC_URL}/password-reset" in text
    assert f"{PUBLIC_URL}/password-reset" in mail.get_body(("html",)).get_content()


def test_the_worker_forgets_confirmation_counters_past_their_window(email_service, monkeypatch):
    from services.email.models import rate_limits
    from services.email.use_cases import subscriptions

    monkeypatch.setenv("MAIL_REQUEST_WINDOW", "60")
    email_service.client.post(
        "/api/subscriptions", json={"email": "ada@example.com", "topics": ["step2ck"]}
    )
    with email_service.runtime.db.session() as s, s.begin():
        s.execute(sa.update(rate_limits).values(window_start=0.0, next_at=0.0))
    assert (
        subscriptions.purge_rate_limits(email_service.runtime) == 2
    )  # the address's and the client's
    with email_service.runtime.db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(rate_limits)) == 0
