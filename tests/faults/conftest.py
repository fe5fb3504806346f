"""Fault tests: the broker restarted, a worker killed, the database gone for a moment."""

from __future__ import annotations

from shared.testing.faults import postgres_proxy, private_rabbitmq  # noqa: F401  (fixtures)
