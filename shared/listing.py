"""Lists built row by row, where one row that cannot be built is left out, never the page.

A listing (the public catalogue, a page of the site) shows many rows to many people: a row
stored before a rule existed (a course anchored on 9999-12-31, whose cycles overflow the
calendar) must not take the list down for everyone. Such a row is logged, with what names it,
and skipped; database errors still propagate (the transaction is no longer usable).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TypeVar

from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)

Row = TypeVar("Row")
View = TypeVar("View")


def build_each(
    rows: Iterable[Row],
    build: Callable[[Row], View],
    *,
    what: str,
    name: Callable[[Row], object] = repr,
) -> list[View]:
    """``build(row)`` for each row, leaving out (and logging) any row it cannot build."""
    views = []
    for row in rows:
        try:
            views.append(build(row))
        except SQLAlchemyError:
            raise
        except Exception:
            log.exception("left a row out of a listing", extra={"listing": what, "row": name(row)})
    return views
