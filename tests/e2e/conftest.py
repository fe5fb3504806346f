from __future__ import annotations

from dataclasses import dataclass

import pytest

from shared.testing.fixtures import ServiceUnderTest


@dataclass
class Suite:
    identity: ServiceUnderTest
    email: ServiceUnderTest
    web: ServiceUnderTest
    smtp: object

    @property
    def site(self) -> str:
        return self.web.url


@pytest.fixture
def suite(services, smtp_server, monkeypatch) -> Suite:
    """The whole suite as it runs for real: each service over HTTP, each worker in threads,
    PostgreSQL, RabbitMQ and a real SMTP server; only the processes are threads."""
    identity = services("identity", serve=True)
    email = services("email", serve=True)
    web = services("web", serve=True)
    monkeypatch.setenv("PUBLIC_URL", web.url)
    identity.start_worker()
    email.start_worker()
    return Suite(identity, email, web, smtp_server)
