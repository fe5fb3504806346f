"""Tutoring's test world: the real identity service for tokens and tutors, the real bus."""

from __future__ import annotations

import pytest

from services.tutoring.tests.helpers import World


@pytest.fixture
def world(services) -> World:
    identity = services("identity", serve=True)
    tutoring = services("tutoring", serve=True)
    return World(identity, tutoring)
