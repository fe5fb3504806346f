"""Enrollment's test world: the real identity and payments services, localstripe, the bus."""

from __future__ import annotations

import pytest

from services.enrollment.tests.helpers import Payments, World
from services.payments.worker import register_local_webhook


@pytest.fixture
def world(services, stripe_env) -> World:
    identity = services("identity", serve=True)
    payments = services("payments", serve=True)
    register_local_webhook(payments.url)
    enrollment = services("enrollment", serve=True)
    return World(identity, enrollment, Payments(payments))
