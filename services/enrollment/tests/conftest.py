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


@pytest.fixture(params=["postgresql", "sqlite"])
def any_db_world(request, services, stripe_env) -> World:
    """The world with enrollment's database on PostgreSQL, then on SQLite (``make run``'s):
    a limit must hold on both, and SQLite ignores ``SELECT ... FOR UPDATE``."""
    identity = services("identity", serve=True)
    payments = services("payments", serve=True)
    register_local_webhook(payments.url)
    enrollment = services("enrollment", serve=True, sqlite=request.param == "sqlite")
    return World(identity, enrollment, Payments(payments))
