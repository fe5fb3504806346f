"""A refresh token is used once, even by parallel requests, on PostgreSQL and on SQLite."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from services.identity.tests.helpers import student_tokens


@pytest.mark.parametrize("database", ["postgresql", "sqlite"])
def test_ten_parallel_refreshes_with_one_token_issue_new_tokens_once(services, database):
    """The rotation reads the token "under a lock" and then retires it: on SQLite that lock is
    the database's write lock (shared.db), else several requests each got a fresh pair."""
    identity = services("identity", serve=True, sqlite=database == "sqlite")
    token = student_tokens(identity)["refresh_token"]

    def refresh(_: int) -> requests.Response:
        return requests.post(
            f"{identity.url}/api/auth/refresh", json={"refresh_token": token}, timeout=60
        )

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = sorted(r.status_code for r in pool.map(refresh, range(10)))
    assert statuses == [200] + [401] * 9, statuses
