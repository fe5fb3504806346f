"""The slot picker's week: seven days on the reader's clock, the first free week by default."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.web.pages.slot_picker import pick_week, slots_by_day


def slot(starts_at: str) -> dict:
    return {"starts_at": starts_at, "ends_at": starts_at}


# Wed 4 Mar 2026, Mon 9 Mar (late UTC evening: Tue 10 in Kolkata), Mon 23 Mar 2026.
SLOTS = [
    slot("2026-03-09T23:30:00+00:00"),
    slot("2026-03-04T15:00:00+00:00"),
    slot("2026-03-04T09:00:00+00:00"),
    slot("2026-03-23T10:00:00+00:00"),
]


def test_the_first_week_with_a_time_and_its_first_day_with_times_are_chosen():
    week = pick_week(SLOTS, "UTC")

    assert week.monday == date(2026, 3, 2) and week.sunday == date(2026, 3, 8)
    assert [d.date.day for d in week.days] == [2, 3, 4, 5, 6, 7, 8]
    assert [d.open for d in week.days] == [False, False, True, False, False, False, False]
    assert week.chosen.date == date(2026, 3, 4)
    assert [s["starts_at"][11:16] for s in week.chosen.slots] == ["09:00", "15:00"]


def test_a_slot_late_in_the_utc_evening_falls_on_the_next_day_in_kolkata():
    utc = pick_week(SLOTS, "UTC", week="2026-03-09")
    kolkata = pick_week(SLOTS, "Asia/Kolkata", week="2026-03-09")

    assert utc.chosen.date == date(2026, 3, 9)
    assert kolkata.chosen.date == date(2026, 3, 10)  # 05:00 on Tuesday in Kolkata
    assert not kolkata.days[0].open


def test_a_sunday_night_slot_belongs_to_the_next_week_across_the_clock_change():
    # London moves to summer time at 01:00 UTC on Sun 29 Mar 2026.
    slots = [slot("2026-03-29T00:30:00+00:00"), slot("2026-03-29T23:30:00+00:00")]

    first = pick_week(slots, "Europe/London")
    second = pick_week(slots, "Europe/London", week=str(first.next))

    assert first.monday == date(2026, 3, 23) and first.chosen.date == date(2026, 3, 29)
    assert second.monday == date(2026, 3, 30) and second.chosen.date == date(2026, 3, 30)
    assert slots_by_day(slots, "Europe/London") == {
        date(2026, 3, 29): [slots[0]],
        date(2026, 3, 30): [slots[1]],  # 00:30 BST
    }


def test_previous_stops_at_the_first_week_with_times_and_next_at_the_last():
    first = pick_week(SLOTS, "UTC")
    middle = pick_week(SLOTS, "UTC", week=str(first.next))
    empty = pick_week(SLOTS, "UTC", week=str(middle.next))
    last = pick_week(SLOTS, "UTC", week=str(empty.next))

    assert first.previous is None and first.next == date(2026, 3, 9)
    assert middle.previous == date(2026, 3, 2)
    assert empty.monday == date(2026, 3, 16)
    assert not any(d.open for d in empty.days) and empty.chosen is None
    assert last.monday == date(2026, 3, 23) and last.next is None


def test_a_day_asked_for_chooses_it_and_its_week():
    week = pick_week(SLOTS, "UTC", week="2026-03-02", day="2026-03-09")

    assert week.monday == date(2026, 3, 9) and week.chosen.date == date(2026, 3, 9)


def test_a_day_without_times_is_never_chosen():
    week = pick_week(SLOTS, "UTC", day="2026-03-03")

    assert week.monday == date(2026, 3, 2) and week.chosen.date == date(2026, 3, 4)


@pytest.mark.parametrize(
    "asked", ["", "next", "2026-13-40", "2026-3-4", "9999-99-99x", "2026-03-04T00:00", "0" * 500]
)
def test_an_unreadable_week_or_day_shows_the_first_week(asked):
    assert pick_week(SLOTS, "UTC", week=asked).monday == date(2026, 3, 2)
    assert pick_week(SLOTS, "UTC", day=asked).monday == date(2026, 3, 2)


def test_a_week_outside_the_open_ones_is_brought_back_to_the_nearest():
    assert pick_week(SLOTS, "UTC", week="2020-01-01").monday == date(2026, 3, 2)
    assert pick_week(SLOTS, "UTC", week="2030-01-01").monday == date(2026, 3, 23)
    assert pick_week(SLOTS, "UTC", week="2026-03-25").monday == date(2026, 3, 23)  # a Wednesday


def test_no_times_make_no_week_and_unreadable_starts_are_left_out():
    assert pick_week([], "Asia/Kolkata") is None
    assert pick_week([slot("not a time"), {"ends_at": "x"}], "UTC") is None
    assert pick_week(SLOTS, "Mars/Olympus").chosen.date == date(2026, 3, 4)  # read as UTC


def test_the_week_is_named_by_its_dates():
    assert pick_week(SLOTS, "UTC").label == "2 to 8 Mar 2026"
    assert pick_week([slot("2026-04-01T10:00:00+00:00")], "UTC").label == "30 Mar to 5 Apr 2026"
    assert (
        pick_week([slot("2027-01-01T10:00:00+00:00")], "UTC").label == "28 Dec 2026 to 3 Jan 2027"
    )


NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
"""Mon 2 Mar 2026: with bookings 28 days ahead the last day open is Mon 30 Mar."""


def test_the_last_weeks_days_beyond_the_horizon_are_not_open_yet_and_it_says_why():
    slots = [slot("2026-03-04T10:00:00+00:00"), slot("2026-03-30T10:00:00+00:00")]

    first = pick_week(slots, "UTC", horizon_days=28, now=NOW)
    last = pick_week(slots, "UTC", week="2026-03-30", horizon_days=28, now=NOW)

    assert first.horizon_note is None and not any(d.later for d in first.days)
    assert last.next is None and last.horizon == date(2026, 3, 30)
    assert [d.later for d in last.days] == [False] + [True] * 6
    assert last.horizon_note == "Times open up to 4 weeks ahead; later weeks open as days pass."


def test_the_horizon_is_read_on_the_readers_clock():
    # 28 days after 20:00 UTC on Mon 2 Mar is 01:30 on Tue 31 Mar in Kolkata.
    slots = [slot("2026-03-30T10:00:00+00:00")]
    evening = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)

    utc = pick_week(slots, "UTC", horizon_days=28, now=evening)
    kolkata = pick_week(slots, "Asia/Kolkata", horizon_days=28, now=evening)

    assert [d.later for d in utc.days][:2] == [False, True]
    assert [d.later for d in kolkata.days][:3] == [False, False, True]


def test_without_tutorings_horizon_the_last_open_time_stands_for_it():
    week = pick_week(SLOTS, "UTC", week="2026-03-23")

    assert week.horizon == date(2026, 3, 23)
    assert [d.later for d in week.days] == [False] + [True] * 6
    assert week.horizon_note == ("Times open up to Mon 23 Mar 2026; later days open as days pass.")
    assert pick_week(SLOTS, "UTC", horizon_days=10, now=NOW).horizon_note is None


@pytest.mark.parametrize(
    ("horizon_days", "ahead"), [(7, "1 week"), (14, "2 weeks"), (10, "10 days")]
)
def test_the_horizon_sentence_names_weeks_or_days(horizon_days, ahead):
    week = pick_week([slot("2026-03-04T10:00:00+00:00")], "UTC", horizon_days=horizon_days, now=NOW)

    assert week.horizon_note == f"Times open up to {ahead} ahead; later weeks open as days pass."
