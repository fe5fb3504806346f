"""Housekeeping the worker runs: forgetting what no rule or token needs any more."""

from __future__ import annotations

from sqlalchemy import delete

from services.identity import limits
from services.identity.models import LinkToken, RefreshToken, rate_limits
from shared import rate_limit
from shared.db import UnitOfWork, utcnow


def purge_expired(uow: UnitOfWork) -> dict[str, int]:
    """Rate-limit counters no rule looks at any more, and refresh and link tokens past their
    expiry."""
    with uow:
        now = utcnow()
        horizon = max(
            rule.horizon
            for rule in (
                limits.client_window(),
                limits.account_backoff(),
                *limits.mail_rules_in_force(),
            )
        )
        counts = {
            "rate_limits": rate_limit.purge(uow.session, rate_limits, horizon, now),
            "refresh_tokens": uow.session.execute(
                delete(RefreshToken).where(RefreshToken.expires_at < now)
            ).rowcount,
            "link_tokens": uow.session.execute(
                delete(LinkToken).where(LinkToken.expires_at < now)
            ).rowcount,
        }
        uow.commit()
        return counts
