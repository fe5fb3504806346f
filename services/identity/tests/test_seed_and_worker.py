"""The first admin after migrations, and the worker's sweep of expired rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from services.identity import seed
from services.identity.models import RefreshToken, User, rate_limits
from services.identity.tests.helpers import login, student_tokens
from services.identity.worker import purge_expired
from shared.db import utcnow


@pytest.fixture
def identity(services):
    return services("identity")


def admins(identity) -> list[str]:
    with identity.runtime.db.session() as s:
        return list(s.scalars(sa.select(User.email).where(User.role == "admin")))


def test_migrations_leave_exactly_one_admin_and_seeding_again_adds_none(identity):
    assert len(admins(identity)) == 1
    with identity.runtime.db.engine.begin() as connection:
        seed.run(connection)
    assert len(admins(identity)) == 1


def test_the_seeded_admin_signs_in_with_admin_password(identity, monkeypatch):
    with identity.runtime.db.engine.begin() as connection:
        connection.execute(sa.delete(User).where(User.role == "admin"))
    monkeypatch.setenv("ADMIN_EMAIL", "Boss@Example.com")
    monkeypatch.setenv("ADMIN_PASSWORD", "the boss's passphrase")
    with identity.runtime.db.engine.begin() as connection:
        seed.run(connection)
    assert admins(identity) == ["boss@example.com"]
    response = login(identity, email="boss@example.com", password="the boss's passphrase")
    assert response.status_code == 200
    assert response.get_json()["user"]["roles"] == ["admin"]


def test_the_worker_purges_old_rate_limit_counters_and_expired_refresh_tokens(identity):
    live = student_tokens(identity)
    student_tokens(identity, email="bob@example.com")
    login(identity, password="wrong password!")
    long_ago = utcnow() - timedelta(days=2)
    with identity.runtime.db.session() as s, s.begin():
        s.execute(
            sa.insert(rate_limits).values(
                key="login:account:old@example.com",
                hits=3,
                window_start=long_ago.timestamp(),
                next_at=long_ago.timestamp(),
                delay=0.0,
            )
        )
        bob = s.scalar(sa.select(User.id).where(User.email == "bob@example.com"))
        s.execute(
            sa.update(RefreshToken).where(RefreshToken.user_id == bob).values(expires_at=long_ago)
        )
    counts = purge_expired(identity.runtime)
    assert counts["rate_limits"] == 1
    assert counts["refresh_tokens"] == 1
    with identity.runtime.db.session() as s:
        keys = set(s.scalars(sa.select(rate_limits.c.key)))
    assert "login:account:old@example.com" not in keys
    assert "login:account:ada@example.com" in keys  # the recent failure still counts
    still = identity.client.post("/api/auth/refresh", json={"refresh_token": live["refresh_token"]})
    assert still.status_code == 200
