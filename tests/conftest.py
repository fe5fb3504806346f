"""Fixtures of the tests under tests/: callers of every kind, signed in with identity."""

from tests.api.callers import people  # noqa: F401 (a fixture)
