"""PostgreSQL gone for a moment: requests fail cleanly and everything recovers without a restart.

The services reach the shared PostgreSQL through a proxy the test cuts (new connections are
refused, open ones reset) and restores; the server itself is never touched. Identity and email
run as they do in production: HTTP served over a socket, workers (consumer, relay, delivery
loop) in threads.
"""

from __future__ import annotations

import logging
import time

import pytest
import requests
import sqlalchemy as sa

from shared.bus import dead_letters
from shared.bus.broker import Broker
from shared.testing.faults import PostgresProxy
from shared.testing.fixtures import build_service, wait_for
from tests.e2e.mail import mails_to

OUTAGE_SECONDS = 1.5
"""How long the database stays away: longer than every retry delay of the test bus together
(100 ms + 400 ms), so an outage that counted as handler failures would dead-letter the event."""


@pytest.fixture
def behind_proxy(make_database, bus_settings, var_dir, monkeypatch):
    """Start a service whose database connections all go through its own ``PostgresProxy``."""
    broker = Broker(bus_settings)
    started = []

    def start(name: str):
        proxy = PostgresProxy()
        proxy.start()
        svc = build_service(name, proxy.url_for(make_database(name)), broker)
        if svc.consumer is not None:
            svc.consumer.open()
        svc.serve()
        started.append((svc, proxy))
        return svc, proxy

    yield start
    for svc, proxy in reversed(started):
        proxy.restore()
        svc.close()
        proxy.stop()


@pytest.fixture
def worker_log():
    """The records the worker's loops log (whatever handlers the JSON log setup installed)."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = records.append
    logger = logging.getLogger("shared.worker")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def register(identity, email: str) -> requests.Response:
    return requests.post(
        f"{identity.url}/api/users",
        json={"email": email, "password": "a long enough password", "name": "Ada Lovelace"},
        timeout=30,
    )


def inbox_ids(svc) -> list[str]:
    inbox = svc.runtime.db.tables.inbox
    with svc.runtime.db.engine.connect() as conn:
        return list(conn.scalars(sa.select(inbox.c.event_id)))


def test_requests_get_a_503_problem_while_the_database_is_away_and_succeed_after(behind_proxy):
    identity, proxy = behind_proxy("identity")
    assert register(identity, "before@example.com").status_code == 202

    proxy.cut()
    r = register(identity, "during@example.com")
    assert r.status_code == 503, r.text
    assert r.headers["Content-Type"] == "application/problem+json"
    assert r.headers["Retry-After"]
    assert r.json()["status"] == 503
    ready = requests.get(f"{identity.url}/readyz", timeout=30)
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"].startswith("unreachable")
    assert requests.get(f"{identity.url}/healthz", timeout=5).status_code == 200

    proxy.restore()
    # The pool held connections the outage killed: the first request after must not fail.
    assert register(identity, "after@example.com").status_code == 202
    assert requests.get(f"{identity.url}/readyz", timeout=30).status_code == 200
    assert register(identity, "during@example.com").status_code == 202


def test_workers_ride_out_an_outage_and_every_event_is_applied_once(
    behind_proxy, smtp_server, worker_log
):
    identity, identity_db = behind_proxy("identity")
    email, email_db = behind_proxy("email")
    identity.start_worker()
    email.start_worker()

    # An event reaches email while email's database is away: it must wait, not be spent on
    # retries and dead-lettered.
    email_db.cut()
    assert register(identity, "ada@example.com").status_code == 202
    wait_for(lambda: email.consumer.received >= 1, message="the event to reach email")
    identity_db.cut()  # now the whole database is away: identity's relay loses it too
    assert register(identity, "grace@example.com").status_code == 503
    time.sleep(OUTAGE_SECONDS)
    identity_db.restore()
    email_db.restore()

    assert register(identity, "grace@example.com").status_code == 202
    for address in ("ada@example.com", "grace@example.com"):
        wait_for(
            lambda a=address: mails_to(smtp_server, a),
            timeout=30,
            message=f"the welcome email to {address} after the outage",
        )
    time.sleep(0.5)  # a second copy of either email would arrive now
    assert len(mails_to(smtp_server, "ada@example.com")) == 1
    assert len(mails_to(smtp_server, "grace@example.com")) == 1
    registered = [e for e in identity.recorded("user.registered")]
    assert len(registered) == 2
    assert len(inbox_ids(email)) == len(set(inbox_ids(email))) == 2
    assert dead_letters.list_dead_letters(email.runtime.broker, "email") == []
    assert all(t.is_alive() for t in identity._threads + email._threads)
    # The scheduled jobs waited for the database with a warning each, not a traceback each.
    logged = [r.getMessage() for r in worker_log]
    assert "scheduled job waits for the database" in logged
    assert "scheduled job failed" not in logged
