"""Fixtures for every test of the project: the shared ones, and password hashing at its
lowest cost."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher

pytest_plugins = ["shared.testing.fixtures"]

# Argon2id at its lowest cost (one pass over 8 KiB). The default costs a fifth of a second
# of one of the machine's two cores per sign-up and per sign-in; the tests sign in thousands
# of times, so it was the largest single cost of `make test`. Identity's own tests check the
# production parameters where they matter (test_domain.py).
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashes() -> Iterator[PasswordHasher]:
    """Every password hashed and verified in this test process uses ``CHEAP_HASHER``,
    the seeded admin's included (templates are migrated after this fixture starts)."""
    from services.identity import domain

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(domain, "_hasher", CHEAP_HASHER)
        patch.setattr(domain, "_DUMMY_HASH", CHEAP_HASHER.hash("a password nobody has"))
        yield CHEAP_HASHER
