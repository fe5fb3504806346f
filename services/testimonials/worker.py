"""Testimonials' worker: enrollment's and tutoring's events, and the outbox relay."""

from __future__ import annotations

from services.testimonials.app import make_runtime
from shared.bus.handlers import Handlers
from shared.worker import Job, main

jobs: list[Job] = []

if __name__ == "__main__":
    main(make_runtime, Handlers.for_service("testimonials"), jobs)
