"""The slot picker's week: seven days on the reader's clock, the first free week by default."""

from __future__ import annotations

from datetime import date

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
