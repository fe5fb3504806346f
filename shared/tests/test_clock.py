"""The one way pages and emails name a moment: the reader's wall clock and a readable zone."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from shared import clock

WINTER = datetime(2026, 12, 4, 0, 0, tzinfo=UTC)  # Thu 3 Dec 2026, 19:00 in New York
SUMMER = datetime(2026, 7, 1, 23, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "city"),
    [
        ("America/New_York", "New York"),
        ("America/Argentina/Buenos_Aires", "Buenos Aires"),
        ("Asia/Kolkata", "Kolkata"),
        ("UTC", "UTC"),
        ("Etc/UTC", "UTC"),
        ("Not/A_Zone", "UTC"),
        (None, "UTC"),
    ],
)
def test_a_zone_is_named_by_its_city(name, city):
    assert clock.city(name) == city


def test_the_label_has_the_abbreviation_in_force_at_that_moment():
    assert clock.zone_label("America/New_York", WINTER) == "New York time (EST)"
    assert clock.zone_label("America/New_York", SUMMER) == "New York time (EDT)"


def test_a_moment_is_on_the_readers_clock_with_the_day_it_is_there():
    assert clock.format_moment(WINTER, "America/New_York") == (
        "Thu 3 Dec 2026, 19:00 New York time (EST)"
    )
    assert clock.format_moment(WINTER.isoformat(), "UTC") == "Fri 4 Dec 2026, 00:00 UTC"
    assert clock.format_moment_long(SUMMER, "America/New_York") == (
        "Wednesday 1 July 2026, 19:00 New York time (EDT)"
    )


def test_half_hour_zones_keep_their_half_hour():
    assert clock.format_moment(WINTER, "Asia/Kolkata") == "Fri 4 Dec 2026, 05:30 Kolkata time (IST)"
    assert clock.format_moment_short(WINTER, "Asia/Kolkata") == "4 Dec 2026, 05:30 IST"


def test_a_zone_the_database_names_only_by_offset_is_written_as_an_offset_from_utc():
    assert clock.zone_label("Asia/Dubai", WINTER) == "Dubai time (UTC+04:00)"
    assert clock.zone_label("Asia/Kathmandu", WINTER) == "Kathmandu time (UTC+05:45)"
    assert clock.zone_label("America/Noronha", WINTER) == "Noronha time (UTC-02:00)"


def test_utc_and_unknown_zones_are_labelled_plainly():
    assert clock.zone_label("UTC", WINTER) == "UTC"
    assert clock.format_moment(WINTER, "Mars/Olympus_Mons") == "Fri 4 Dec 2026, 00:00 UTC"
    assert clock.format_moment(WINTER, None) == "Fri 4 Dec 2026, 00:00 UTC"


def test_a_naive_timestamp_is_taken_as_utc_and_nonsense_is_shown_as_given():
    assert clock.format_clock("2026-12-04T00:00:00", "America/New_York") == "19:00"
    assert clock.format_moment("soon", "UTC") == "soon"
    assert clock.format_moment(None, "UTC") == ""


def test_days_are_written_short_and_long():
    assert clock.short_day(date(2027, 1, 4)) == "Mon 4 Jan 2027"
    assert clock.long_day(date(2027, 1, 4)) == "Monday 4 January 2027"
