"""A public response kept for a moment, for read-mostly pages every visitor asks for.

The course catalogue is the busiest page of the suite and changes rarely (an admin edits a
course; seats left move with enrollments). Building it costs several queries and a marshmallow
dump, about ten times what the request itself costs; keeping its serialized body for a second
makes the catalogue nearly as cheap as a static reply (docs/benchmarks.md) while a seat count
shown is at most that second old. Nothing decides on cached data: enrolling takes the seat
under a row lock in the database.

Each app keeps its own entries (``app.extensions``), so a test's app never sees another's, and
a write through the same process forgets the entry at once (``forget``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app

EXTENSION = "response_cache"


@dataclass(frozen=True)
class _Entry:
    body: bytes
    expires: float


def cached_json(name: str, seconds: float, produce: Callable[[], Any]) -> Response:
    """A JSON response whose body ``produce()`` builds at most once every ``seconds``."""
    entries: dict[str, _Entry] = current_app.extensions.setdefault(EXTENSION, {})
    now = time.monotonic()
    entry = entries.get(name)
    if entry is None or entry.expires <= now:
        # Two threads missing at once both build it: harmless, and no lock on the hot path.
        entry = _Entry(current_app.json.response(produce()).get_data(), now + seconds)
        entries[name] = entry
    response = Response(entry.body, mimetype="application/json")
    response.headers["Cache-Control"] = f"public, max-age={max(0, int(seconds))}"
    return response


def forget(app: Flask, name: str) -> None:
    """Drop an entry after a write this process made, so its next read is fresh."""
    app.extensions.get(EXTENSION, {}).pop(name, None)
