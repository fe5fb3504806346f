from __future__ import annotations

import pytest

from services.payments.tests.helpers import Stack, service_token


@pytest.fixture
def stack(services, stripe_env) -> Stack:
    """Identity and payments served over HTTP, against localstripe, PostgreSQL and RabbitMQ."""
    identity = services("identity", serve=True)
    payments = services("payments", serve=True)
    return Stack(identity, payments, service_token())
