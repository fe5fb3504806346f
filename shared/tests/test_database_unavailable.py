"""Which database errors mean "the database is away" (wait and try again, count nothing) and
which are about the statement (the handler failed: retry a few times, then dead-letter)."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import exc

from shared.db import database_unavailable


def wrapped(error_class: type[Exception], orig: Exception, **kwargs) -> Exception:
    return error_class("SELECT 1", {}, orig, **kwargs)


@pytest.mark.parametrize(
    "error",
    [
        wrapped(exc.OperationalError, psycopg.OperationalError("connection refused")),
        wrapped(exc.OperationalError, psycopg.errors.AdminShutdown()),  # 57P01
        wrapped(exc.OperationalError, psycopg.errors.ConnectionFailure()),  # 08006
        wrapped(exc.InterfaceError, psycopg.InterfaceError("the connection is closed")),
        wrapped(exc.DBAPIError, Exception("reset"), connection_invalidated=True),
    ],
    ids=["refused", "admin shutdown", "connection failure", "closed", "invalidated"],
)
def test_losing_the_connection_means_the_database_is_unavailable(error):
    assert database_unavailable(error)


@pytest.mark.parametrize(
    "error",
    [
        wrapped(exc.OperationalError, psycopg.errors.QueryCanceled()),  # a statement timeout
        wrapped(exc.OperationalError, psycopg.errors.DeadlockDetected()),
        wrapped(exc.IntegrityError, psycopg.errors.UniqueViolation()),
        wrapped(exc.DataError, psycopg.errors.StringDataRightTruncation()),
        RuntimeError("a handler's own bug"),
    ],
    ids=["timeout", "deadlock", "unique", "too long", "not a database error"],
)
def test_an_error_about_the_statement_is_the_handlers_failure(error):
    assert not database_unavailable(error)
