"""The slot picker: a tutor's open times one week at a time, one day's times at a time.

A tutor open every day offers up to 27 days of up to 16 times; listed in one column that is a
page some 7,000 px tall on a phone. The picker shows one week (Monday to Sunday on the reader's
clock) with previous/next, a row of seven days where a day without times cannot be chosen, and
the times of one chosen day. The first week with a free time and its first day with times are
chosen unless the reader asked for another; what they ask for travels in the query (``week``,
``day``), so the picker works without scripts and a link to it opens the same week.

``pick_week`` is pure (slots, zone and the asked-for week or day in, the week out); the
``slot_week`` macro renders it as a GET form whose buttons carry the week or day asked for and
whose hidden fields keep the rest of the page's query (the zone among them).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from services.web.pages import formatting


@dataclass(frozen=True)
class PickerDay:
    date: date
    slots: list[dict] = field(default_factory=list)
    chosen: bool = False
    later: bool = False
    """Beyond how far ahead the tutor takes bookings: not open *yet*, rather than no times."""

    @property
    def open(self) -> bool:
        """Whether the day has a time to choose (a day without one is shown, disabled)."""
        return bool(self.slots)


@dataclass(frozen=True)
class PickerWeek:
    monday: date
    days: list[PickerDay]
    previous: date | None
    """The Monday before, or None on the first week with times (nothing earlier to show)."""
    next: date | None
    """The Monday after, or None on the last week with times."""
    horizon: date | None = None
    """The last day bookings reach on the reader's clock (later days open as days pass)."""
    horizon_days: int | None = None
    """How many days ahead the tutor takes bookings, when tutoring says so."""

    @property
    def horizon_note(self) -> str | None:
        """On the last week, why later days show no times: bookings open only so far ahead."""
        if self.next is not None or self.horizon is None:
            return None
        if self.horizon_days:
            weeks, rest = divmod(self.horizon_days, 7)
            ahead = (
                f"{weeks} week{'s' if weeks != 1 else ''}"
                if not rest
                else f"{self.horizon_days} day{'s' if self.horizon_days != 1 else ''}"
            )
            return f"Times open up to {ahead} ahead; later weeks open as days pass."
        return (
            f"Times open up to {formatting.format_date(self.horizon)}; "
            "later days open as days pass."
        )

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    @property
    def label(self) -> str:
        """``2 to 8 Mar 2026``, ``30 Mar to 5 Apr 2026``, ``28 Dec 2026 to 3 Jan 2027``."""
        start, end = self.monday, self.sunday
        if start.year != end.year:
            return f"{start.day} {start:%b %Y} to {end.day} {end:%b %Y}"
        if start.month != end.month:
            return f"{start.day} {start:%b} to {end.day} {end:%b %Y}"
        return f"{start.day} to {end.day} {end:%b %Y}"

    @property
    def chosen(self) -> PickerDay | None:
        return next((day for day in self.days if day.chosen), None)


def _asked_date(value: str | None) -> date | None:
    """A ``YYYY-MM-DD`` the reader asked for, or None for anything else (never an error)."""
    if not value or len(value) != 10:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def slots_by_day(slots: Iterable[dict], zone_name: str) -> dict[date, list[dict]]:
    """Slots keyed by their day on the reader's clock, each day in time order; a slot without
    a readable start is left out."""
    zone = formatting.zone_or_none(zone_name) or UTC
    dated = []
    for slot in slots:
        start = formatting.parse_moment(slot.get("starts_at"))
        if start is not None:
            dated.append((start, slot))
    dated.sort(key=lambda pair: pair[0])
    days: dict[date, list[dict]] = {}
    for start, slot in dated:
        days.setdefault(start.astimezone(zone).date(), []).append(slot)
    return days


def horizon_day(
    days: Iterable[date], zone_name: str, horizon_days: int | None, now: datetime | None = None
) -> date:
    """The last day bookings reach on the reader's clock: ``now + horizon_days`` when tutoring
    says how far ahead it books, else the day of the last open time (never before it)."""
    last = max(days)
    if not horizon_days:
        return last
    zone = formatting.zone_or_none(zone_name) or UTC
    reach = ((now or datetime.now(UTC)) + timedelta(days=horizon_days)).astimezone(zone).date()
    return max(reach, last)


def pick_week(
    slots: Iterable[dict],
    zone_name: str,
    week: str | None = None,
    day: str | None = None,
    *,
    horizon_days: int | None = None,
    now: datetime | None = None,
) -> PickerWeek | None:
    """The week to show, or None when there are no times at all.

    ``day`` (a date) chooses that day and its week; else ``week`` (any date in it) chooses the
    week; else, or when either is unreadable, the first week with a time. A week outside the
    open ones is brought back to the nearest (a link kept from last week still opens).
    The chosen day is the asked one if it has times, else the week's first day with times.
    Days after the horizon (``horizon_days`` from ``now``, else the last open time) are
    ``later``: bookings stop some weeks ahead, so the last week ends in days not open yet.
    """
    days = slots_by_day(slots, zone_name)
    if not days:
        return None
    horizon = horizon_day(days, zone_name, horizon_days, now)
    first, last = _monday(min(days)), _monday(max(days))
    asked_day = _asked_date(day)
    asked = asked_day or _asked_date(week)
    monday = min(max(_monday(asked), first), last) if asked else first
    dates = [monday + timedelta(days=n) for n in range(7)]
    open_dates = [d for d in dates if d in days]
    chosen = asked_day if asked_day in open_dates else (open_dates[0] if open_dates else None)
    return PickerWeek(
        monday=monday,
        days=[PickerDay(d, days.get(d, []), d == chosen, d > horizon) for d in dates],
        previous=monday - timedelta(days=7) if monday > first else None,
        next=monday + timedelta(days=7) if monday < last else None,
        horizon=horizon,
        horizon_days=horizon_days,
    )
