"""Enrollment's worker: payments' events, the outbox relay, and the seat and access jobs."""

from __future__ import annotations

import logging

from services.enrollment import service
from services.enrollment.app import make_runtime
from shared import payments_client
from shared.bus.handlers import Handlers
from shared.runtime import Runtime
from shared.worker import Job, main

log = logging.getLogger(__name__)


def sweep_expired_holds(runtime: Runtime) -> int:
    """Lapsed holds expire and their seats go back (or to the waitlist)."""
    count = service.expire_holds(runtime.uow, payments_client.for_runtime(runtime))
    if count:
        log.info("expired seat holds", extra={"count": count})
    return count


def access_and_completion(runtime: Runtime) -> dict[str, int]:
    """Access-ending notices (once, a week before) and completion once access has ended."""
    counts = {
        "notices": service.send_access_notices(runtime.uow),
        "completed": service.complete_finished(runtime.uow),
    }
    if any(counts.values()):
        log.info("access jobs ran", extra=counts)
    return counts


jobs = [
    Job("sweep-expired-holds", 30, sweep_expired_holds),
    Job("access-notices-and-completion", 3600, access_and_completion),
]

if __name__ == "__main__":
    main(make_runtime, Handlers.for_service("enrollment"), jobs)
