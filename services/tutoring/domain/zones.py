"""Time zones and instants: every rule takes aware instants and IANA zone names."""

from __future__ import annotations

from datetime import datetime, time, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.tutoring.domain.errors import (
    InvalidAvailability,
    InvalidTimeZone,
)


def require_aware(value: datetime, name: str) -> None:
    """Naive datetimes are a programming error: the suite stores and compares instants in UTC."""
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def zone(name: str | tzinfo, *, field: str = "time_zone") -> tzinfo:
    """An IANA zone by name (or a tzinfo passed through); a bad name is the user's error."""
    if isinstance(name, tzinfo):
        return name
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise InvalidTimeZone(f"{name!r} is not a known IANA time zone", field=field) from exc


def check_wall_time(value: time, field: str) -> None:
    if not isinstance(value, time) or value.tzinfo is not None:
        raise InvalidAvailability(
            "Availability times are wall-clock times without a zone", field=field
        )


def check_window(start: time, end: time, field: str) -> None:
    check_wall_time(start, field)
    check_wall_time(end, field)
    if end <= start:
        raise InvalidAvailability(
            f"A window must end after it starts ({start:%H:%M}-{end:%H:%M})", field=field
        )
