"""``python -m services.email.worker``: consumer, outbox relay, the delivery loop and the
campaign send loop (campaigns/sending.py)."""

from __future__ import annotations

from services.email import service
from services.email.app import make_runtime
from services.email.campaigns import sending as campaign_sending
from services.email.delivery import Deliveries
from shared.bus.handlers import Handlers
from shared.worker import Job, Loop, main

jobs = [
    Loop("deliveries", lambda runtime, stop, wakeup: Deliveries(runtime).run(stop, wakeup)),
    Job("campaigns", 1.0, campaign_sending.run),
    Job("purge-rate-limits", 3600, service.purge_rate_limits),
]

if __name__ == "__main__":
    main(make_runtime, Handlers.for_service("email"), jobs)
