"""Identity's worker: relays its outbox, sweeps expired login attempts and tokens, and
re-encrypts stored signing keys under the current SECRET_KEY after a rotation."""

from __future__ import annotations

import logging

from services.identity import service, signing_keys
from services.identity.app import make_runtime
from shared.bus.handlers import Handlers
from shared.runtime import Runtime
from shared.worker import Job, main

log = logging.getLogger(__name__)


def purge_expired(runtime: Runtime) -> dict[str, int]:
    counts = service.purge_expired(runtime.uow())
    if any(counts.values()):
        log.info("purged expired identity rows", extra=counts)
    return counts


def reencrypt_signing_keys(runtime: Runtime) -> dict[str, int]:
    """After a SECRET_KEY rotation, move the stored signing keys under the new key (at start,
    then hourly), so the old key can leave SECRET_KEY_FALLBACKS."""
    counts = signing_keys.reencrypt_signing_keys(runtime.uow())
    if counts["reencrypted"]:
        log.info("signing keys re-encrypted under the current SECRET_KEY", extra=counts)
    return counts


jobs = [
    Job("purge-expired", 600, purge_expired),
    Job("reencrypt-signing-keys", 3600, reencrypt_signing_keys),
]

if __name__ == "__main__":
    main(make_runtime, Handlers.for_service("identity"), jobs)
