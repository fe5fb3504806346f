"""Fixtures of the tests under tests/: callers of every kind, signed in with identity."""

from tests.api.callers import cheap_password_hashes, people  # noqa: F401 (fixtures)
