"""Ranges every number, date and time in a request must fall in, checked by the schemas.

A date is turned into cycles, deadlines and calendar entries by adding days to it: near the
end of the calendar (9999-12-31) that addition overflows, and near its start (0001-01-01) a
subtraction does. Neither is a date anyone means, so every date a request carries lies between
``EARLIEST`` and ``LATEST`` (tighter where the domain says so), and every integer has a
realistic maximum: a number is refused with a 422 naming its field before anything is stored.
``tests/api/test_request_bounds.py`` fails for a request field without a range.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from functools import cache
from pathlib import Path

from marshmallow import ValidationError, validate

EARLIEST = date(1900, 1, 1)
LATEST = date(2200, 12, 31)
"""No date before or after these is a date of this school: thousands of years of cycles and
windows still fit before ``date.max``."""

MAX_MINOR = 99_999_999
"""The largest amount in minor units: Stripe's largest charge, well inside a database integer."""


def dates(*, earliest: date = EARLIEST, latest: date = LATEST) -> validate.Range:
    """A calendar date between ``earliest`` and ``latest`` (inclusive)."""
    return validate.Range(
        min=earliest, max=latest, error=f"Give a date between {earliest} and {latest}."
    )


def instants(*, earliest: date = EARLIEST, latest: date = LATEST) -> validate.Range:
    """A moment (an aware datetime) on a day between ``earliest`` and ``latest`` (UTC)."""
    return validate.Range(
        min=datetime.combine(earliest, time.min, tzinfo=UTC),
        max=datetime.combine(latest, time.max, tzinfo=UTC),
        error=f"Give a time between {earliest} and {latest}.",
    )


def whole(least: int, most: int) -> validate.Range:
    """A whole number between ``least`` and ``most`` (inclusive)."""
    return validate.Range(min=least, max=most)


def minor_units(*, least: int = 0) -> validate.Range:
    """An amount of money in minor units (cents), at most ``MAX_MINOR``."""
    return validate.Range(min=least, max=MAX_MINOR)


# --- currencies ----------------------------------------------------------------------------------


@cache
def currencies() -> frozenset[str]:
    """The ISO 4217 codes a price may be in (``shared/iso4217.txt``, kept as data)."""
    text = (Path(__file__).with_name("iso4217.txt")).read_text(encoding="utf-8")
    return frozenset(
        line.split()[0] for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


class Currency(validate.Validator):
    """An ISO 4217 currency code (any case: the domain upper-cases it), e.g. ``USD``.

    A code outside the list (``XYZ``, ``ABC``) would be accepted by Stripe's check only at the
    first payment, long after a course or a tutor's rate was published in it.
    """

    error = "Give an ISO 4217 currency code such as USD."

    def __call__(self, value: str) -> str:
        if not isinstance(value, str) or value.strip().upper() not in currencies():
            raise ValidationError(self.error)
        return value


currency = Currency()
