"""Money and dates as people read them, and prices as people type them.

Services speak integer minor units and ISO dates; pages show "$1,499.00" and "5 Jan 2026",
and admins type "1499" or "1499.00". The conversion lives here, once, so no page rounds money
through a float.
"""

from __future__ import annotations

import contextlib
import functools
import os
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from importlib import resources
from zoneinfo import TZPATH, ZoneInfo, ZoneInfoNotFoundError

from flask import Flask

ZERO_DECIMAL_CURRENCIES = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV"}
    | {"XAF", "XOF", "XPF"}
)
"""ISO 4217 currencies without minor units (as Stripe counts them)."""

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "AUD": "A$", "JPY": "¥"}


def exponent(currency: str) -> int:
    return 0 if (currency or "").upper() in ZERO_DECIMAL_CURRENCIES else 2


def format_money(minor: int | None, currency: str | None) -> str:
    """``149900, "USD"`` → ``$1,499.00``; an unknown currency keeps its code after the amount."""
    if minor is None:
        return ""
    code = (currency or "").upper()
    places = exponent(code)
    amount = Decimal(int(minor)).scaleb(-places)
    text = f"{amount:,.{places}f}"
    if code in SYMBOLS:
        sign = "-" if amount < 0 else ""
        return f"{sign}{SYMBOLS[code]}{text.lstrip('-')}"
    return f"{text} {code}".strip()


def major_units(minor: int | None, currency: str | None) -> str:
    """Minor units as the plain number an admin would type back (``149900`` → ``1499.00``)."""
    if minor is None:
        return ""
    places = exponent(currency or "")
    return f"{Decimal(int(minor)).scaleb(-places):.{places}f}"


def to_minor(text: str, currency: str) -> int | None:
    """What an admin typed (``1,499.00``) as minor units, or None if it is not such an amount."""
    cleaned = (text or "").strip().replace(",", "")
    for symbol in SYMBOLS.values():
        cleaned = cleaned.removeprefix(symbol)
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0:
        return None
    scaled = amount.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        return None  # more decimals than the currency has: refuse rather than round money
    return int(scaled)


def _as_date(value: str | date | None) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def format_date(value: str | date | None) -> str:
    """``2026-01-05`` → ``Mon 5 Jan 2026``; anything unreadable is shown as given."""
    day = _as_date(value)
    if day is None:
        return str(value or "")
    return f"{day:%a} {day.day} {day:%b %Y}"


def parse_moment(value: str | datetime | None) -> datetime | None:
    """An ISO timestamp as an aware datetime (a naive one is taken as UTC, as services keep it)."""
    if not value:
        return None
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def zone_or_none(name: str | None) -> ZoneInfo | None:
    """The IANA zone a browser or a profile named, or None if it is not one."""
    if not name or len(name) > 64:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@functools.cache
def _zone_links() -> dict[str, str]:
    """Old zone names and the canonical zone they link to (``Asia/Calcutta`` → ``Asia/Kolkata``),
    read from the tz database's own ``tzdata.zi`` (the system's or the ``tzdata`` package's)."""
    texts: list[str] = []
    for folder in TZPATH:
        try:
            with open(os.path.join(folder, "tzdata.zi"), encoding="utf-8") as handle:
                texts.append(handle.read())
            break
        except OSError:
            continue
    if not texts:
        with contextlib.suppress(ModuleNotFoundError, OSError):
            texts.append(resources.files("tzdata.zoneinfo").joinpath("tzdata.zi").read_text())
    links: dict[str, str] = {}
    for line in "".join(texts).splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "L":
            links[parts[2]] = parts[1]
    return links


def canonical_zone(name: str) -> str:
    """The canonical name of a zone a browser reported: some still say ``Asia/Calcutta``, and a
    zone list must not offer the same clock twice under two names."""
    canonical = _zone_links().get(name, name)
    return "UTC" if canonical in ("Etc/UTC", "UTC") else canonical  # the name pages print


def zone_label(name: str | None) -> str:
    """How every page writes a zone: ``America/New York`` (the IANA name, underscores as spaces)."""
    return (name or "UTC").replace("_", " ")


def format_datetime(value: str | datetime | None, zone: str = "UTC") -> str:
    """An ISO timestamp as ``Mon 5 Jan 2026, 14:30 UTC``, or in the reader's own zone.

    The services keep UTC; a person booking a tutor across the world needs their own clock.
    """
    moment = parse_moment(value)
    if moment is None:
        return str(value or "")
    where = zone_or_none(zone) or UTC
    local = moment.astimezone(where)
    return f"{format_date(local.date())}, {local:%H:%M} {zone_label(zone) if where is not UTC else 'UTC'}"


def format_clock(value: str | datetime | None, zone: str = "UTC") -> str:
    """Only the time of day (``14:30``) in a zone, for lists already grouped by day."""
    moment = parse_moment(value)
    if moment is None:
        return str(value or "")
    return f"{moment.astimezone(zone_or_none(zone) or UTC):%H:%M}"


def install(app: Flask) -> None:
    from services.web.pages.listing import SkippableExtension

    app.jinja_env.add_extension(SkippableExtension)
    app.jinja_env.filters.update(
        money=format_money,
        major_units=major_units,
        day=format_date,
        moment=format_datetime,
        clock=format_clock,
        zone=zone_label,
    )
