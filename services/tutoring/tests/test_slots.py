"""Bookable slots from a tutor's availability: DST, viewers abroad, buffers, notice, horizon."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.tutoring.domain import (
    Busy,
    DateOverride,
    InvalidAvailability,
    InvalidSlotRules,
    InvalidTimeOff,
    InvalidTimeZone,
    Slot,
    SlotRules,
    TimeOff,
    WeeklyWindow,
    bookable_slots,
)

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def slots(tz="Etc/UTC", weekly=(), overrides=(), time_off=(), busy=(), now=None, **rules):
    rules = {"length_minutes": 60, "min_notice_hours": 0, "horizon_days": 7} | rules
    return bookable_slots(
        tz, list(weekly), list(overrides), list(time_off), list(busy), SlotRules(**rules), now
    )


def starts(found: list[Slot]) -> list[datetime]:
    return [s.starts_at for s in found]


def every_day(start: time, end: time) -> list[WeeklyWindow]:
    return [WeeklyWindow(d, start, end) for d in range(7)]


# --------------------------------------------------------------------------- DST and zones


def test_a_new_york_monday_window_keeps_its_wall_clock_time_across_the_march_dst_change():
    found = slots(
        "America/New_York",
        weekly=[WeeklyWindow(0, time(9), time(12))],
        now=utc(2026, 3, 2, 12),
        horizon_days=14,
    )
    firsts = [s for s in found if s.starts_at.astimezone(NY).time() == time(9)]
    assert [s.starts_at for s in firsts] == [utc(2026, 3, 2, 14), utc(2026, 3, 9, 13)]
    # 09:00-12:00, 60 minutes every 30: 09:00 ... 11:00 each Monday
    assert len(found) == 10
    assert all(s.local(NY)[1].time() <= time(12) for s in found)


def test_a_student_in_kolkata_sees_the_same_slot_on_their_own_clock():
    found = slots(
        "America/New_York",
        weekly=[WeeklyWindow(0, time(9), time(12))],
        now=utc(2026, 3, 2, 12),
        horizon_days=14,
    )
    before, after = found[0], found[5]
    assert before.local("Asia/Kolkata") == (
        datetime(2026, 3, 2, 19, 30, tzinfo=ZoneInfo("Asia/Kolkata")),
        datetime(2026, 3, 2, 20, 30, tzinfo=ZoneInfo("Asia/Kolkata")),
    )
    # India has no DST, so after New York springs forward the same 09:00 is an hour earlier there
    assert after.local("Asia/Kolkata")[0].replace(tzinfo=None) == datetime(2026, 3, 9, 18, 30)
    assert after.local(NY)[0].replace(tzinfo=None) == datetime(2026, 3, 9, 9, 0)


def test_slots_are_sorted_utc_instants():
    found = slots(
        "Asia/Tokyo", weekly=every_day(time(9), time(12)), now=utc(2026, 6, 1), horizon_days=3
    )
    assert found == sorted(found)
    assert all(s.starts_at.tzinfo is UTC and s.ends_at.tzinfo is UTC for s in found)


def test_london_spring_forward_gap_offers_no_start_at_a_time_the_clock_skips():
    # 29 March 2026: at 01:00 GMT clocks jump to 02:00 BST; 01:00 and 01:30 never happen
    found = slots(
        "Europe/London",
        overrides=[DateOverride(date(2026, 3, 29), ((time(0), time(3)),))],
        now=utc(2026, 3, 27),
        length_minutes=30,
    )
    assert starts(found) == [
        utc(2026, 3, 29, 0, 0),
        utc(2026, 3, 29, 0, 30),
        utc(2026, 3, 29, 1, 0),  # 02:00 BST
        utc(2026, 3, 29, 1, 30),  # 02:30 BST, ends 03:00 BST
    ]
    assert [s.local(LONDON)[0].time() for s in found] == [
        time(0),
        time(0, 30),
        time(2),
        time(2, 30),
    ]


def test_a_window_ending_inside_the_gap_ends_when_the_clock_jumps():
    found = slots(
        "Europe/London",
        overrides=[DateOverride(date(2026, 3, 29), ((time(0), time(1, 30)),))],
        now=utc(2026, 3, 27),
        length_minutes=30,
    )
    assert starts(found) == [utc(2026, 3, 29, 0, 0), utc(2026, 3, 29, 0, 30)]


def test_london_fall_back_offers_a_repeated_time_once_at_its_first_occurrence():
    # 25 October 2026: at 02:00 BST clocks go back to 01:00 GMT; 01:00-02:00 happens twice
    found = slots(
        "Europe/London",
        overrides=[DateOverride(date(2026, 10, 25), ((time(0), time(3)),))],
        now=utc(2026, 10, 22),
    )
    assert starts(found) == [
        utc(2026, 10, 24, 23, 0),  # 00:00 BST
        utc(2026, 10, 24, 23, 30),
        utc(2026, 10, 25, 0, 0),  # 01:00 BST, the first 01:00
        utc(2026, 10, 25, 0, 30),  # 01:30 BST
        utc(2026, 10, 25, 2, 0),  # 02:00 GMT, ends 03:00 GMT
    ]
    local_starts = [s.local(LONDON)[0].replace(tzinfo=None) for s in found]
    assert len(local_starts) == len(set(local_starts))


def test_meeting_length_is_real_time_so_the_long_fall_back_night_fits_four_hours():
    found = slots(
        "Europe/London",
        overrides=[DateOverride(date(2026, 10, 25), ((time(0), time(3)),))],
        now=utc(2026, 10, 22),
        length_minutes=240,
    )
    assert found == [Slot(utc(2026, 10, 24, 23), utc(2026, 10, 25, 3))]


# --------------------------------------------------------------------------- buffers, notice, horizon


def test_busy_booking_keeps_a_buffer_on_both_sides():
    monday = [WeeklyWindow(0, time(9), time(17))]
    busy = [Busy(utc(2026, 6, 1, 12), utc(2026, 6, 1, 13))]
    found = starts(
        slots(weekly=monday, busy=busy, now=utc(2026, 5, 31), step_minutes=15, buffer_minutes=15)
    )
    assert utc(2026, 6, 1, 10, 45) in found  # ends 11:45, exactly the buffer before
    assert utc(2026, 6, 1, 11, 0) not in found  # ends 12:00, no gap
    assert utc(2026, 6, 1, 12, 15) not in found
    assert utc(2026, 6, 1, 13, 0) not in found  # starts right after, no gap
    assert utc(2026, 6, 1, 13, 15) in found  # exactly the buffer after


def test_zero_buffer_allows_back_to_back_meetings():
    monday = [WeeklyWindow(0, time(9), time(17))]
    busy = [Busy(utc(2026, 6, 1, 12), utc(2026, 6, 1, 13))]
    found = starts(slots(weekly=monday, busy=busy, now=utc(2026, 5, 31), buffer_minutes=0))
    assert utc(2026, 6, 1, 11) in found
    assert utc(2026, 6, 1, 13) in found
    assert utc(2026, 6, 1, 12) not in found and utc(2026, 6, 1, 11, 30) not in found


def test_minimum_notice_allows_a_start_exactly_at_the_notice_line():
    daily = every_day(time(8), time(10))
    found = starts(slots(weekly=daily, now=utc(2026, 6, 1, 8), min_notice_hours=24))
    assert found[0] == utc(2026, 6, 2, 8)
    later = starts(slots(weekly=daily, now=utc(2026, 6, 1, 8, 1), min_notice_hours=24))
    assert later[0] == utc(2026, 6, 2, 8, 30)


def test_horizon_allows_a_meeting_that_ends_exactly_at_the_horizon():
    daily = every_day(time(7), time(10))
    found = starts(slots(weekly=daily, now=utc(2026, 6, 1, 8), horizon_days=2))
    assert found[-1] == utc(2026, 6, 3, 7)  # ends 08:00 = now + 2 days
    assert utc(2026, 6, 3, 7, 30) not in found


def test_horizon_counts_the_tutors_local_dates_not_utc_dates():
    # 23:00 UTC is already tomorrow in Tokyo: the walk starts on the tutor's today
    found = slots(
        "Asia/Tokyo",
        weekly=every_day(time(9), time(10)),
        now=utc(2026, 6, 1, 23),
        horizon_days=1,
    )
    assert starts(found) == [utc(2026, 6, 2, 0)]  # 09:00 JST on 3 June


# --------------------------------------------------------------------------- overrides and time off


def test_an_empty_override_is_a_day_off_and_other_weeks_are_unchanged():
    monday = [WeeklyWindow(0, time(9), time(10))]
    found = slots(
        weekly=monday,
        overrides=[DateOverride(date(2026, 6, 1), ())],
        now=utc(2026, 5, 31),
        horizon_days=14,
    )
    assert starts(found) == [utc(2026, 6, 8, 9)]


def test_an_override_replaces_that_days_hours():
    monday = [WeeklyWindow(0, time(9), time(12))]
    found = slots(
        weekly=monday,
        overrides=[DateOverride(date(2026, 6, 1), ((time(14), time(15)),))],
        now=utc(2026, 5, 31),
        horizon_days=3,
    )
    assert starts(found) == [utc(2026, 6, 1, 14)]


def test_an_override_can_open_a_day_with_no_weekly_hours():
    found = slots(
        overrides=[DateOverride(date(2026, 6, 6), ((time(10), time(11)),))],
        now=utc(2026, 6, 1),
    )
    assert starts(found) == [utc(2026, 6, 6, 10)]


def test_time_off_spanning_midnight_blocks_both_evenings_and_mornings():
    berlin = "Europe/Berlin"  # UTC+2 in June
    tz = ZoneInfo(berlin)
    weekly = every_day(time(21), time(23)) + every_day(time(0), time(2))
    off = TimeOff(datetime(2026, 6, 1, 22, tzinfo=tz), datetime(2026, 6, 2, 1, tzinfo=tz))
    found = slots(berlin, weekly=weekly, time_off=[off], now=utc(2026, 5, 31), horizon_days=4)
    local = {s.local(tz)[0].replace(tzinfo=None) for s in found}
    assert datetime(2026, 6, 1, 21) in local  # ends as the time off starts
    assert datetime(2026, 6, 1, 21, 30) not in local
    assert datetime(2026, 6, 1, 22) not in local
    assert datetime(2026, 6, 2, 0) not in local
    assert datetime(2026, 6, 2, 0, 30) not in local
    assert datetime(2026, 6, 2, 1) in local  # starts as the time off ends
    assert datetime(2026, 6, 2, 21) in local


def test_overlapping_windows_do_not_offer_a_slot_twice():
    monday = [WeeklyWindow(0, time(9), time(11)), WeeklyWindow(0, time(10), time(12))]
    found = slots(weekly=monday, now=utc(2026, 5, 31))
    assert len(found) == len(set(found))
    assert starts(found)[0] == utc(2026, 6, 1, 9) and starts(found)[-1] == utc(2026, 6, 1, 11)


# --------------------------------------------------------------------------- bad input


def test_a_window_must_end_after_it_starts():
    with pytest.raises(InvalidAvailability) as err:
        WeeklyWindow(0, time(12), time(9))
    assert err.value.field == "weekly"
    with pytest.raises(InvalidAvailability):
        WeeklyWindow(7, time(9), time(12))
    with pytest.raises(InvalidAvailability) as err:
        DateOverride(date(2026, 6, 1), ((time(10), time(10)),))
    assert err.value.field == "overrides"


def test_two_overrides_for_one_date_are_refused():
    with pytest.raises(InvalidAvailability):
        slots(
            overrides=[DateOverride(date(2026, 6, 1), ()), DateOverride(date(2026, 6, 1), ())],
            now=utc(2026, 5, 31),
        )


def test_unknown_time_zone_is_a_user_error():
    with pytest.raises(InvalidTimeZone) as err:
        slots("Mars/Olympus_Mons", now=utc(2026, 5, 31))
    assert err.value.field == "time_zone"


def test_time_off_must_end_after_it_starts_and_be_aware():
    with pytest.raises(InvalidTimeOff):
        TimeOff(utc(2026, 6, 2), utc(2026, 6, 1))
    with pytest.raises(ValueError):
        TimeOff(datetime(2026, 6, 1), datetime(2026, 6, 2))


def test_slot_rules_are_checked():
    with pytest.raises(InvalidSlotRules) as err:
        SlotRules(length_minutes=0)
    assert err.value.field == "length_minutes"
    with pytest.raises(InvalidSlotRules):
        SlotRules(length_minutes=60, step_minutes=0)


def test_naive_now_is_a_programming_error():
    with pytest.raises(ValueError):
        slots(now=datetime(2026, 6, 1) + timedelta())
