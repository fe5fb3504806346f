"""Tutoring's test world: the real identity (and payments) services, localstripe, the bus."""

from __future__ import annotations

import pytest

from services.payments.worker import register_local_webhook
from services.tutoring.tests.helpers import World


@pytest.fixture
def world(services) -> World:
    identity = services("identity", serve=True)
    tutoring = services("tutoring", serve=True)
    return World(identity, tutoring)


@pytest.fixture
def paid_world(services, stripe_env) -> World:
    """The world with the real payments service in front of localstripe (packages of hours)."""
    identity = services("identity", serve=True)
    payments = services("payments", serve=True)
    register_local_webhook(payments.url)
    tutoring = services("tutoring", serve=True)
    return World(identity, tutoring, payments=payments)
