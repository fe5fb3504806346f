"""A tutor's availability (weekly windows, date overrides, time off) and the bookable slots.

Windows are wall-clock times in the tutor's zone; slots are UTC instants (see the package
docstring)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from services.tutoring.domain.errors import (
    InvalidAvailability,
    InvalidSlotRules,
    InvalidTimeOff,
)
from services.tutoring.domain.zones import (
    check_window,
    is_int,
    require_aware,
    zone,
)


@dataclass(frozen=True)
class WeeklyWindow:
    """A recurring window on one weekday (0 = Monday), wall-clock in the tutor's zone."""

    weekday: int
    start: time
    end: time

    def __post_init__(self) -> None:
        if not is_int(self.weekday) or not 0 <= self.weekday <= 6:
            raise InvalidAvailability("Weekday must be 0 (Monday) to 6 (Sunday)", field="weekly")
        check_window(self.start, self.end, "weekly")


@dataclass(frozen=True)
class DateOverride:
    """One local date's windows, replacing that weekday's; an empty tuple is a day off."""

    day: date
    windows: tuple[tuple[time, time], ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.day, date) or isinstance(self.day, datetime):
            raise InvalidAvailability("An override is for a calendar date", field="overrides")
        object.__setattr__(self, "windows", tuple(tuple(w) for w in self.windows))
        for start, end in self.windows:
            check_window(start, end, "overrides")


@dataclass(frozen=True)
class TimeOff:
    """An absolute stretch the tutor is away (may span midnight or days)."""

    starts_at: datetime
    ends_at: datetime

    def __post_init__(self) -> None:
        require_aware(self.starts_at, "starts_at")
        require_aware(self.ends_at, "ends_at")
        if self.ends_at <= self.starts_at:
            raise InvalidTimeOff("Time off must end after it starts", field="ends_at")


@dataclass(frozen=True)
class Busy:
    """An existing booking (consultation or session) of the tutor."""

    starts_at: datetime
    ends_at: datetime

    def __post_init__(self) -> None:
        require_aware(self.starts_at, "starts_at")
        require_aware(self.ends_at, "ends_at")
        if self.ends_at <= self.starts_at:
            raise ValueError("A booking must end after it starts")


@dataclass(frozen=True)
class SlotRules:
    """The booking settings: meeting length, buffer between meetings, notice, horizon, grid."""

    length_minutes: int
    buffer_minutes: int = 15
    min_notice_hours: int = 24
    horizon_days: int = 28
    step_minutes: int = 30

    def __post_init__(self) -> None:
        checks = (
            ("length_minutes", 1, 24 * 60),
            ("buffer_minutes", 0, 24 * 60),
            ("min_notice_hours", 0, 24 * 365),
            ("horizon_days", 1, 366),
            ("step_minutes", 1, 24 * 60),
        )
        for name, low, high in checks:
            value = getattr(self, name)
            if not is_int(value) or not low <= value <= high:
                raise InvalidSlotRules(f"{name} must be a whole number {low}-{high}", field=name)


@dataclass(frozen=True, order=True)
class Slot:
    """A bookable meeting, as UTC instants; :meth:`local` shows it in a viewer's zone."""

    starts_at: datetime
    ends_at: datetime

    def local(self, tz: str | tzinfo) -> tuple[datetime, datetime]:
        """Start and end in the viewer's zone (a student abroad sees their own clock)."""
        viewer = zone(tz)
        return self.starts_at.astimezone(viewer), self.ends_at.astimezone(viewer)


def _resolve_start(wall: datetime, tz: tzinfo) -> datetime | None:
    """The UTC instant of a local wall-clock time, or None if the clock skips it.

    Spring-forward gap: the time never happens, so no meeting may start then (None).
    Fall-back overlap: the time happens twice; we take the first occurrence (``fold=0``), so a
    repeated hour offers its starts once, not twice.
    """
    utc = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if utc.astimezone(tz).replace(tzinfo=None) != wall:
        return None
    return utc


def _resolve_bound(wall: datetime, tz: tzinfo) -> datetime:
    """The UTC instant a window starts or ends at, even when the wall time is in a gap.

    Ambiguous times take the first occurrence (``fold=0``) like meeting starts do. A bound in a
    spring-forward gap becomes the instant the clock jumps (the first real instant whose wall
    clock reads at or after it), found by bisecting the at most a-few-hours span between the
    two offsets' readings.
    """
    exact = _resolve_start(wall, tz)
    if exact is not None:
        return exact
    a = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    b = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    low, high = min(a, b), max(a, b)  # low reads before the gap, high after it
    while high - low > timedelta(minutes=1):
        mid = low + (high - low) / 2
        mid = mid.replace(second=0, microsecond=0)
        if mid <= low:
            break
        if mid.astimezone(tz).replace(tzinfo=None) >= wall:
            high = mid
        else:
            low = mid
    return high


def _overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    return a_start < b_end and b_start < a_end


def _windows_by_day(
    weekly: Sequence[WeeklyWindow], overrides: Sequence[DateOverride]
) -> tuple[dict[int, list[tuple[time, time]]], dict[date, tuple[tuple[time, time], ...]]]:
    by_weekday: dict[int, list[tuple[time, time]]] = {d: [] for d in range(7)}
    for window in weekly:
        by_weekday[window.weekday].append((window.start, window.end))
    by_date: dict[date, tuple[tuple[time, time], ...]] = {}
    for override in overrides:
        if override.day in by_date:
            raise InvalidAvailability(
                f"More than one override for {override.day.isoformat()}", field="overrides"
            )
        by_date[override.day] = override.windows
    return by_weekday, by_date


def bookable_slots(
    tutor_tz: str,
    weekly: Sequence[WeeklyWindow],
    overrides: Sequence[DateOverride],
    time_off: Sequence[TimeOff],
    busy: Sequence[Busy],
    rules: SlotRules,
    now: datetime,
) -> list[Slot]:
    """Every meeting a student may book now, as sorted UTC slots.

    For each of the tutor's local dates from today to ``now + horizon``: that date's override
    windows if it has one, else its weekday's windows. Candidate starts are wall-clock times
    every ``step_minutes`` from a window's start; a meeting lasts ``length_minutes`` of real
    time and must end by the window's end instant. A candidate is dropped if it starts before
    ``now + min_notice``, ends after ``now + horizon``, overlaps time off, or leaves less than
    ``buffer_minutes`` before or after any busy interval (a gap of exactly the buffer is fine).
    Wall times the clock skips are not offered; repeated wall times are offered once, at their
    first occurrence (see :func:`_resolve_start`). Overlapping windows do not duplicate slots.
    """
    require_aware(now, "now")
    tz = zone(tutor_tz, field="time_zone")
    by_weekday, by_date = _windows_by_day(weekly, overrides)

    length = timedelta(minutes=rules.length_minutes)
    step = timedelta(minutes=rules.step_minutes)
    buffer = timedelta(minutes=rules.buffer_minutes)
    earliest = now + timedelta(hours=rules.min_notice_hours)
    latest = now + timedelta(days=rules.horizon_days)
    blocked = [(t.starts_at, t.ends_at) for t in time_off]
    booked = [(b.starts_at - buffer, b.ends_at + buffer) for b in busy]

    found: set[Slot] = set()
    day = now.astimezone(tz).date()
    last_day = latest.astimezone(tz).date()
    while day <= last_day:
        windows = by_date.get(day, by_weekday[day.weekday()])
        for start, end in windows:
            wall_start = datetime.combine(day, start)
            wall_end = datetime.combine(day, end)
            window_end = _resolve_bound(wall_end, tz)
            wall = wall_start
            while wall < wall_end:
                starts_at = _resolve_start(wall, tz)
                wall += step
                if starts_at is None:
                    continue
                ends_at = starts_at + length
                if ends_at > window_end:
                    continue
                if starts_at < earliest or ends_at > latest:
                    continue
                if any(_overlaps(starts_at, ends_at, s, e) for s, e in blocked):
                    continue
                if any(_overlaps(starts_at, ends_at, s, e) for s, e in booked):
                    continue
                found.add(Slot(starts_at, ends_at))
        day += timedelta(days=1)
    return sorted(found)
