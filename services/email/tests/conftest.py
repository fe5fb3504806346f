"""Fixtures of the email service's tests: the service on PostgreSQL and RabbitMQ, a real SMTP
server, and staff tokens from a stand-in issuer (identity is not part of this worktree)."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from kombu import Connection, Queue

from services.email.delivery import send_due
from shared import auth
from shared.auth import TokenVerifier
from shared.bus.envelope import Event, parse_event

PUBLIC_URL = "https://preceptor.test"


@pytest.fixture
def email_service(services, smtp_server, monkeypatch):
    monkeypatch.setenv("PUBLIC_URL", PUBLIC_URL)
    return services("email")


@pytest.fixture
def deliver(email_service, smtp_server):
    """Run the delivery loop once and return every message the SMTP server holds."""

    def run(expected: int | None = None) -> list:
        send_due(email_service.runtime)
        if expected is None:
            return smtp_server.messages()
        return smtp_server.wait_for(expected, timeout=5)

    return run


@pytest.fixture
def staff_token(email_service) -> Callable[..., str]:
    """Mint access tokens the way identity does, signed by a key generated for this test."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = f"test-{uuid.uuid4().hex[:8]}"
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    jwks = {"keys": [{**jwk, "kid": kid, "use": "sig", "alg": "RS256"}]}
    auth.install(email_service.app, TokenVerifier(lambda: jwks))

    def mint(*roles: str) -> str:
        now = int(time.time())
        claims = {
            "iss": auth.ISSUER,
            "aud": auth.AUDIENCE,
            "typ": "access",
            "sub": str(uuid.uuid4()),
            "roles": list(roles),
            "email": "staff@preceptor.test",
            "name": "Staff",
            "iat": now,
            "exp": now + 300,
        }
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})

    return mint


@pytest.fixture
def listener(email_service):
    """A real consumer of the events email publishes: a queue bound on the test exchange."""
    broker = email_service.runtime.broker
    conn = Connection(broker.settings.url)
    queue = Queue(
        f"{broker.settings.queue_prefix}listener",
        exchange=broker.exchange,
        routing_key="subscriber.*",
        exclusive=True,
    )(conn.channel())
    queue.declare()

    def received(timeout: float = 5.0) -> list:
        email_service.relay.relay_once()
        events = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = queue.get(no_ack=True)
            if message is None:
                if events:
                    break
                time.sleep(0.05)
                continue
            events.append(parse_event(message.body))
        return events

    yield received
    conn.release()


def link_in(message, prefix: str) -> str:
    """The first link starting with ``prefix`` in the plain-text part of an email."""
    text = message.get_body(("plain",)).get_content()
    found = re.search(re.escape(prefix) + r"[^\s<>\"]+", text)
    assert found, f"no link starting with {prefix} in:\n{text}"
    return found.group(0)


def past_the_inbox(svc, event: Event):
    """A unit of work handling ``event`` as if the inbox had not noted it (a failed inbox, or a
    redelivery racing the first): the ``(event_id, kind)`` key is what keeps mail single."""
    uow = svc.runtime.uow()
    uow.handling = event
    uow.inbox_written = True
    return uow
