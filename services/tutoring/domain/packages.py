"""Packages of hours: their sizes, prices and what a refund covers."""

from __future__ import annotations

from services.tutoring.domain.errors import (
    InvalidPackage,
)
from services.tutoring.domain.zones import (
    is_int,
)

PACKAGE_HOURS = (1, 5, 10)
#: Percent off the hourly rate by package size (the 10-hour package is the loyal student's deal).
PACKAGE_DISCOUNT_PERCENT = {1: 0, 5: 0, 10: 10}


def package_price(rate_minor: int | None, hours: int) -> int:
    """What a package costs in minor units: the tutor's hourly rate times hours, less the discount.

    A tutor without a rate sells no sessions yet; that is the buyer's 422, not a free package.
    Discounted prices round down (the student never pays a fraction of a cent more).
    """
    if hours not in PACKAGE_HOURS:
        raise InvalidPackage(
            f"Packages come in {', '.join(map(str, PACKAGE_HOURS))} hours", field="hours"
        )
    if rate_minor is None or not is_int(rate_minor) or rate_minor <= 0:
        raise InvalidPackage("This tutor has not set a session rate yet", field="tutor_id")
    return rate_minor * hours * (100 - PACKAGE_DISCOUNT_PERCENT[hours]) // 100


def package_options(rate_minor: int | None) -> list[dict[str, int]]:
    """Every package a student can buy at this hourly rate, priced, for the page that sells them.

    The site shows these as they are (it computes no price, discount or list of sizes); a tutor
    without a rate sells nothing yet, so the list is empty rather than free.
    """
    if rate_minor is None or not is_int(rate_minor) or rate_minor <= 0:
        return []
    return [
        {
            "hours": hours,
            "amount_minor": package_price(rate_minor, hours),
            "full_minor": rate_minor * hours,
            "discount_percent": PACKAGE_DISCOUNT_PERCENT[hours],
        }
        for hours in PACKAGE_HOURS
    ]


def hours_refunded(hours: int, amount_minor: int, refunded_minor: int) -> int:
    """How many of a package's hours its refunds so far pay back (rounded up, at most all).

    A full refund returns every hour; a partial one returns the hours it covers, a started
    hour counting as a whole one (the student got the money for it back).
    """
    if amount_minor <= 0 or refunded_minor <= 0:
        return 0
    covered = -(-refunded_minor * hours // amount_minor)
    return min(hours, covered)
