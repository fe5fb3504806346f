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
    enrollment: ServiceUnderTest | None = None
    payments: ServiceUnderTest | None = None
    tutoring: ServiceUnderTest | None = None
    testimonials: ServiceUnderTest | None = None

    @property
    def site(self) -> str:
        return self.web.url


@pytest.fixture
def suite(services, smtp_server, monkeypatch) -> Suite:
    """The foundation as it runs for real: each service over HTTP, each worker in threads,
    PostgreSQL, RabbitMQ and a real SMTP server; only the processes are threads."""
    identity = services("identity", serve=True)
    email = services("email", serve=True)
    web = services("web", serve=True)
    monkeypatch.setenv("PUBLIC_URL", web.url)
    identity.start_worker()
    email.start_worker()
    return Suite(identity, email, web, smtp_server)


@pytest.fixture
def school(services, smtp_server, stripe_env, monkeypatch) -> Suite:
    """The whole school: the foundation plus enrollment, payments (against localstripe), tutoring
    and testimonials; localstripe's webhooks reach payments over HTTP exactly as Stripe's would."""
    from services.payments.worker import register_local_webhook

    identity = services("identity", serve=True)
    email = services("email", serve=True)
    payments = services("payments", serve=True)
    enrollment = services("enrollment", serve=True)
    tutoring = services("tutoring", serve=True)
    testimonials = services("testimonials", serve=True)
    web = services("web", serve=True)
    monkeypatch.setenv("PUBLIC_URL", web.url)
    register_local_webhook(payments.url)
    for svc in (identity, email, payments, enrollment, tutoring, testimonials):
        svc.start_worker()
    return Suite(identity, email, web, smtp_server, enrollment, payments, tutoring, testimonials)
