"""Enrollment's test world: the real identity service, enrollment, and the payments stand-in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.enrollment.tests.helpers import World
from services.enrollment.tests.payments_contract import PaymentsContract


@pytest.fixture
def payments(monkeypatch: pytest.MonkeyPatch) -> Iterator[PaymentsContract]:
    stand_in = PaymentsContract()
    monkeypatch.setenv("PAYMENTS_URL", stand_in.serve())
    yield stand_in
    stand_in.close()


@pytest.fixture
def world(services, payments) -> World:
    identity = services("identity", serve=True)
    enrollment = services("enrollment", serve=True)
    return World(identity, enrollment, payments)
