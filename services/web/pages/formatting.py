"""Money and dates as people read them, and prices as people type them.

Services speak integer minor units and ISO dates; pages show "$1,499.00" and "5 Jan 2026",
and admins type "1499" or "1499.00". The conversion lives here, once, so no page rounds money
through a float.
"""

from __future__ import annotations

import contextlib
import functools
import os
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from importlib import resources
from zoneinfo import TZPATH

from flask import Flask, g, has_request_context

from shared import clock

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


def format_money_with_code(minor: int | None, currency: str | None) -> str:
    """``149900, "USD"`` → ``$1,499.00 USD``: where currencies mix (the ledger), "$" alone is
    not enough to tell US from Canadian dollars, so the code always follows."""
    text = format_money(minor, currency)
    code = (currency or "").upper()
    return f"{text} {code}" if text and code and not text.endswith(code) else text


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


def format_date(value: str | date | None, zone: str | None = None) -> str:
    """``2026-01-05`` → ``Mon 5 Jan 2026``; anything unreadable is shown as given.

    A date stays the date it is (a cycle's first day is the same day everywhere); a timestamp
    shown as a day is the day on the reader's clock (or ``zone``'s).
    """
    if isinstance(value, datetime) or (isinstance(value, str) and "T" in value[10:11]):
        _printed_a_time(zone)
        local = clock.local_time(value, zone if zone is not None else reader_zone())
        value = local.date() if local is not None else value
    day = _as_date(value)
    if day is None:
        return str(value or "")
    return f"{day:%a} {day.day} {day:%b %Y}"


parse_moment = clock.parse_moment
zone_or_none = clock.zone_or_none


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


ZONE_COOKIE = "tz"
"""Set by ``static/timezone.js`` on every page: the browser's zone, so a page opened from a mail
or typed in knows the reader's clock on its first answer."""


def known_zone() -> str | None:
    """The reader's zone when known, canonical (``Asia/Kolkata``, never ``Asia/Calcutta``): a
    zone chosen on this page (``?tz=`` or a form's ``tz``), else the account's setting, else the
    browser's (the ``tz`` cookie). None if none names a real zone."""
    from flask import request

    from services.web import security

    if not has_request_context():
        return None
    user = security.current_user() or {}
    for name in (
        request.args.get("tz"),
        request.form.get("tz"),
        user.get("time_zone"),
        request.cookies.get(ZONE_COOKIE),
    ):
        if name and zone_or_none(name):
            return canonical_zone(name)
    return None


def reader_zone() -> str:
    """The zone of the person reading this page (see ``known_zone``), else UTC. Every time a
    page prints follows it unless the page names a zone itself."""
    return known_zone() or "UTC"


def _printed_a_time(zone: str | None) -> None:
    """Remember that this page shows a time on the reader's clock (no zone named), so the layout
    loads ``timezone.js`` (which tells the server the browser's zone, and reloads a page drawn
    in UTC once on the reader's clock). A page that names its zone (a tutor's) has no need."""
    if zone is None and has_request_context():
        g.printed_a_time = True


def printed_a_time() -> bool:
    return bool(has_request_context() and g.get("printed_a_time"))


def zone_label(name: str | None = None) -> str:
    """How every page names a zone: ``New York time (EST)`` (shared/clock.py, as emails do);
    the reader's zone if none is given."""
    return clock.zone_label(name if name is not None else reader_zone())


def format_datetime(value: str | datetime | None, zone: str | None = None) -> str:
    """An ISO timestamp as ``Mon 5 Jan 2026, 14:30 New York time (EST)``: in the zone given,
    else the reader's own (services keep UTC; a student across the world needs their clock)."""
    _printed_a_time(zone)
    return clock.format_moment(value, zone if zone is not None else reader_zone())


def format_datetime_short(value: str | datetime | None, zone: str | None = None) -> str:
    """``5 Jan 2026, 14:30 EST``: for table cells; the page names the zone once in full."""
    _printed_a_time(zone)
    return clock.format_moment_short(value, zone if zone is not None else reader_zone())


def format_clock(value: str | datetime | None, zone: str | None = None) -> str:
    """Only the time of day (``14:30``) in a zone (the reader's if none), for grouped lists."""
    _printed_a_time(zone)
    return clock.format_clock(value, zone if zone is not None else reader_zone())


def install(app: Flask) -> None:
    from services.web.pages.listing import SkippableExtension

    app.jinja_env.add_extension(SkippableExtension)
    app.jinja_env.filters.update(
        money=format_money,
        money_with_code=format_money_with_code,
        major_units=major_units,
        day=format_date,
        moment=format_datetime,
        short_moment=format_datetime_short,
        clock=format_clock,
        zone=zone_label,
    )
    app.jinja_env.globals.update(
        reader_zone=reader_zone, known_zone=known_zone, printed_a_time=printed_a_time
    )
