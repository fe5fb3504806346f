"""``python -m services.email.worker``: consumer, outbox relay and the delivery loop."""

from __future__ import annotations

from services.email.app import make_runtime
from services.email.delivery import send_all_due
from services.email.handlers import handlers
from shared.worker import Job, main

jobs = [Job("deliveries", 0.5, send_all_due)]

if __name__ == "__main__":
    main(make_runtime, handlers, jobs)
