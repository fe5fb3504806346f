"""How long a loop waits after its n-th failure in a row (the relay, the consumer, the outbox
listener, scheduled jobs, the email delivery loop)."""

from __future__ import annotations

FIRST_WAIT = 0.5
LONGEST_WAIT = 30.0


def retry_wait(failures: int, at_least: float = 0.0) -> float:
    """Doubling from ``FIRST_WAIT`` (1 s after the first failure) up to ``LONGEST_WAIT``: a
    short outage is retried within seconds, a long one does not hammer the server it waits
    for. Never less than ``at_least`` (a loop's own period)."""
    return max(at_least, min(LONGEST_WAIT, FIRST_WAIT * 2 ** min(max(failures, 0), 6)))
