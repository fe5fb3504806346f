"""Identity's worker: relays its outbox and sweeps expired login attempts and tokens."""

from __future__ import annotations

import logging

from services.identity import service
from services.identity.app import make_runtime
from services.identity.handlers import handlers
from shared.runtime import Runtime
from shared.worker import Job, main

log = logging.getLogger(__name__)


def purge_expired(runtime: Runtime) -> dict[str, int]:
    counts = service.purge_expired(runtime.uow())
    if any(counts.values()):
        log.info("purged expired identity rows", extra=counts)
    return counts


jobs = [Job("purge-expired", 600, purge_expired)]

if __name__ == "__main__":
    main(make_runtime, handlers, jobs)
