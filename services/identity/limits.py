"""How often a stranger may try: sign-in limits per account and per client address, and the
emails a stranger's request may send. Read at call time, so a deployment (or a test) can change
them."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.identity.models import rate_limits
from shared import config, rate_limit
from shared.db import utcnow


def client_window() -> rate_limit.Window:
    """Tries one client address may make in the window (a right password does not count).

    Higher than an account's free tries: a whole school may reach us from one address, and one
    person's typos must not keep the rest of it out.
    """
    return rate_limit.Window(
        limit=config.env_int("LOGIN_CLIENT_RATE_LIMIT", 20),
        window=float(config.env_int("LOGIN_RATE_WINDOW", 300)),
    )


def account_backoff() -> rate_limit.Backoff:
    """Free tries on one account, then waits from 1 s doubling up to LOGIN_DELAY_MAX.

    Progressive rather than a lock, so guessing at one account slows to a crawl but its owner
    is never locked out for longer than the cap; a password reset lifts it at once.
    """
    return rate_limit.Backoff(
        free=config.env_int("LOGIN_RATE_LIMIT", 5),
        base=1.0,
        cap=float(config.env_int("LOGIN_DELAY_MAX", 900)),
        window=float(config.env_int("LOGIN_RATE_WINDOW", 300)),
    )


def login_tries(email: str, client: str) -> list[tuple[str, rate_limit.Rule]]:
    # Account first, then client: every login locks the rows in that order (no deadlock).
    return [(account_key(email), account_backoff()), (client_key(client), client_window())]


def account_key(email: str) -> str:
    return f"login:account:{email}"


def client_key(client: str) -> str:
    return f"login:client:{client}"


def mail_rules_in_force() -> tuple[rate_limit.Window, rate_limit.Window]:
    rules = rate_limit.mail_rules()
    return rules.per_address, rules.per_client


def may_mail(db: Session, address: str, client: str, action: str) -> bool:
    """Whether a stranger's request may send ``address`` an email now (per address and per
    client, counted atomically). A refusal is silent: the answer must not differ. On a refusal
    the caller must not commit (a key that allowed the try would be charged for nothing)."""
    tries = rate_limit.mail_rules().tries(address, client, action)
    return rate_limit.take_all(db, rate_limits, tries, utcnow()) is None
