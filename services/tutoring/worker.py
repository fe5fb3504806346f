"""Tutoring's worker: identity's events and the outbox relay (reminder jobs come with sessions)."""

from __future__ import annotations

from services.tutoring.app import make_runtime
from services.tutoring.handlers import handlers
from shared.worker import Job, main

jobs: list[Job] = []

if __name__ == "__main__":
    main(make_runtime, handlers, jobs)
