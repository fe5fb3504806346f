"""Moments as people read them: on their own clock, with one label for the zone everywhere.

Services keep UTC. A person reads a time on their own wall clock, and the site and every email
name that clock the same way: ``Thu 3 Dec 2026, 19:00 New York time (EST)``. The city comes from
the IANA name (``America/Argentina/Buenos_Aires`` → ``Buenos Aires``), the abbreviation from
the tz database for that moment (so ``EDT`` in July, ``EST`` in December); where the database
has no letters, only an offset (``+04``), it is written ``UTC+04:00``. Dates without a time
(a cycle's first day) are not moments and stay dates.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "Etc/Universal", "Etc/Zulu", "UCT", "Zulu"})
_NUMERIC = re.compile(r"^([+-])(\d{2})(\d{2})?$")


def zone_or_none(name: str | None) -> ZoneInfo | None:
    """The IANA zone a browser, a profile or an event named, or None if it is not one."""
    if not name or not isinstance(name, str) or len(name) > 64:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def is_zone(name: str | None) -> bool:
    return zone_or_none(name) is not None


def city(name: str | None) -> str:
    """The place a zone is named after: ``America/New_York`` → ``New York``; UTC stays UTC."""
    if not name or name in UTC_NAMES or zone_or_none(name) is None:
        return "UTC"
    return name.rsplit("/", 1)[-1].replace("_", " ")


def abbreviation(local: datetime) -> str:
    """The tz database's name for a wall clock at that moment (``EST``, ``IST``), or its
    offset written ``UTC+05:30`` where the database has only digits (``+0530``)."""
    letters = local.strftime("%Z")
    numeric = _NUMERIC.match(letters)
    if numeric:
        sign, hours, minutes = numeric.groups()
        return f"UTC{sign}{hours}:{minutes or '00'}"
    return letters or "UTC"


def zone_label(name: str | None, at: datetime | None = None) -> str:
    """How every page and email names a zone: ``New York time (EST)``; ``UTC`` for UTC.

    The abbreviation is the one in force at ``at`` (now if not given), so a December time says
    EST and a July one EDT.
    """
    zone = zone_or_none(name)
    if zone is None or name in UTC_NAMES:
        return "UTC"
    local = (at or datetime.now(UTC)).astimezone(zone)
    return f"{city(name)} time ({abbreviation(local)})"


def parse_moment(value: str | datetime | None) -> datetime | None:
    """An ISO timestamp as an aware datetime (a naive one is taken as UTC, as services keep it)."""
    if not value:
        return None
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _zone(name: str | None) -> tuple[tzinfo, str]:
    zone = zone_or_none(name)
    if zone is None or name in UTC_NAMES:
        return UTC, "UTC"
    return zone, str(name)


def local_time(value: str | datetime | None, zone: str | None) -> datetime | None:
    """The moment on the zone's wall clock (UTC if the zone is unknown)."""
    moment = parse_moment(value)
    return None if moment is None else moment.astimezone(_zone(zone)[0])


def short_day(day: date) -> str:
    """``Thu 3 Dec 2026``."""
    return f"{day:%a} {day.day} {day:%b %Y}"


def long_day(day: date) -> str:
    """``Thursday 3 December 2026``, for emails."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def format_moment(value: str | datetime | None, zone: str | None = "UTC") -> str:
    """``Thu 3 Dec 2026, 19:00 New York time (EST)``; anything unreadable is shown as given."""
    local = local_time(value, zone)
    if local is None:
        return str(value or "")
    return f"{short_day(local.date())}, {local:%H:%M} {zone_label(_zone(zone)[1], local)}"


def format_moment_long(value: str | datetime | None, zone: str | None = "UTC") -> str:
    """``Thursday 3 December 2026, 19:00 New York time (EST)``: the email form."""
    local = local_time(value, zone)
    if local is None:
        return str(value or "")
    return f"{long_day(local.date())}, {local:%H:%M} {zone_label(_zone(zone)[1], local)}"


def format_moment_short(value: str | datetime | None, zone: str | None = "UTC") -> str:
    """``3 Dec 2026, 19:00 EST``: for lists and tables, where the label would crowd a column
    (the page says the zone once, in full)."""
    local = local_time(value, zone)
    if local is None:
        return str(value or "")
    letters = "UTC" if _zone(zone)[1] == "UTC" else abbreviation(local)
    return f"{local.day} {local:%b %Y}, {local:%H:%M} {letters}"


def format_clock(value: str | datetime | None, zone: str | None = "UTC") -> str:
    """Only the time of day (``14:30``) in a zone, for lists already grouped by day."""
    local = local_time(value, zone)
    return str(value or "") if local is None else f"{local:%H:%M}"
