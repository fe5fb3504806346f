"""shared.calendar: what Outlook, Google and Apple read back from our invites and feed.

Every test parses the bytes again with ``icalendar.Calendar.from_ical`` so it checks what a
client sees, not how the module built it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Event

from shared.calendar import (
    PRODID,
    AllDayItem,
    Meeting,
    cancellation,
    feed,
    invite,
    stable_uid,
)

NY = "America/New_York"
NEW_YORK = ZoneInfo(NY)
STAMP = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)

# 2027's spring-forward in New York is Sunday 14 March: 09:00 is 14:00 UTC on the Saturday
# before and 13:00 UTC on the Monday after.
BEFORE_DST = datetime(2027, 3, 13, 9, 0, tzinfo=NEW_YORK)
AFTER_DST = datetime(2027, 3, 15, 9, 0, tzinfo=NEW_YORK)


def meeting(starts_at: datetime = BEFORE_DST, **changes: object) -> Meeting:
    fields: dict[str, object] = {
        "uid": stable_uid("session", "42"),
        "sequence": 0,
        "starts_at": starts_at.astimezone(UTC),  # stored in UTC, as the services do
        "ends_at": (starts_at + timedelta(hours=1)).astimezone(UTC),
        "summary": "Step 1 tutoring: renal",
        "description": "Bring your last NBME score report.",
        "organizer_email": "tutor@preceptor.test",
        "organizer_name": "Dr. Ada Tutor",
        "attendee_email": "student@preceptor.test",
        "attendee_name": "Sam Student",
        "location": "Video call",
        "url": "https://preceptor.test/sessions/42",
    }
    fields.update(changes)
    return Meeting(**fields)  # type: ignore[arg-type]


def parse(ics: bytes) -> Calendar:
    return Calendar.from_ical(ics)


def only_event(calendar: Calendar) -> Event:
    (event,) = calendar.walk("VEVENT")
    return event


def test_invite_is_a_request_with_uid_sequence_and_confirmed_status() -> None:
    calendar = parse(invite(meeting(sequence=3), NY, stamp=STAMP))
    event = only_event(calendar)

    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(calendar["PRODID"]) == PRODID
    assert str(calendar["VERSION"]) == "2.0"
    assert str(event["UID"]) == "session-42@preceptor"
    assert event["SEQUENCE"] == 3
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["SUMMARY"]) == "Step 1 tutoring: renal"
    assert str(event["LOCATION"]) == "Video call"
    assert str(event["URL"]) == "https://preceptor.test/sessions/42"


def test_invite_dtstamp_is_utc() -> None:
    event = only_event(parse(invite(meeting(), NY, stamp=STAMP)))

    assert event.decoded("DTSTAMP") == STAMP
    assert b"DTSTAMP:20270301T120000Z" in invite(meeting(), NY, stamp=STAMP)


def test_invite_names_organizer_and_attendee_who_is_asked_to_reply() -> None:
    event = only_event(parse(invite(meeting(), NY)))

    organizer = event["ORGANIZER"]
    assert str(organizer) == "mailto:tutor@preceptor.test"
    assert organizer.params["CN"] == "Dr. Ada Tutor"
    attendee = event["ATTENDEE"]
    assert str(attendee) == "mailto:student@preceptor.test"
    assert attendee.params["CN"] == "Sam Student"
    assert attendee.params["ROLE"] == "REQ-PARTICIPANT"
    assert attendee.params["PARTSTAT"] == "NEEDS-ACTION"
    assert attendee.params["RSVP"] == "TRUE"


def test_invite_times_carry_tzid_and_the_matching_vtimezone() -> None:
    calendar = parse(invite(meeting(), NY))
    event = only_event(calendar)

    assert event["DTSTART"].params["TZID"] == NY
    assert event["DTEND"].params["TZID"] == NY
    assert [tz.tz_name for tz in calendar.timezones] == [NY]
    assert calendar.get_missing_tzids() == set()


@pytest.mark.parametrize(
    ("local_start", "utc_hour"),
    [(BEFORE_DST, 14), (AFTER_DST, 13)],
    ids=["before-spring-forward", "after-spring-forward"],
)
def test_nine_local_stays_nine_local_across_the_march_dst_change(
    local_start: datetime, utc_hour: int
) -> None:
    ics = invite(meeting(local_start), NY)
    calendar = parse(ics)
    event = only_event(calendar)

    start = event.decoded("DTSTART")
    assert (start.hour, start.minute) == (9, 0)
    assert start.astimezone(UTC).hour == utc_hour
    wall_time = local_start.strftime("%Y%m%dT090000").encode()
    assert b"DTSTART;TZID=America/New_York:" + wall_time in ics
    # The VTIMEZONE we ship (not the reader's own tz database) gives the same UTC instant.
    shipped = calendar.timezones[0].to_tz(lookup_tzid=False)
    as_client_reads_it = start.replace(tzinfo=None).replace(tzinfo=shipped)
    assert as_client_reads_it.astimezone(UTC).hour == utc_hour


def test_cancellation_keeps_the_uid_and_cancels() -> None:
    booked = meeting(sequence=0)
    cancelled = meeting(sequence=1)

    sent = only_event(parse(invite(booked, NY)))
    calendar = parse(cancellation(cancelled, NY))
    event = only_event(calendar)

    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(event["UID"]) == str(sent["UID"])
    assert event["SEQUENCE"] == 1
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["ATTENDEE"]) == "mailto:student@preceptor.test"
    assert event["ATTENDEE"].params["RSVP"] == "FALSE"
    assert event["DTSTART"].params["TZID"] == NY
    assert [tz.tz_name for tz in calendar.timezones] == [NY]


def test_reschedule_is_a_request_with_the_same_uid_and_a_higher_sequence() -> None:
    first = only_event(parse(invite(meeting(BEFORE_DST, sequence=0), NY)))
    calendar = parse(invite(meeting(AFTER_DST, sequence=1), NY))
    moved = only_event(calendar)

    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(moved["UID"]) == str(first["UID"])
    assert moved["SEQUENCE"] > first["SEQUENCE"]
    assert moved.decoded("DTSTART") == AFTER_DST


def test_feed_publishes_timed_meetings_and_all_day_plan_days() -> None:
    plan_day = AllDayItem(
        uid=stable_uid("plan-day", "7-2027-03-14"),
        day=date(2027, 3, 14),
        summary="Free day",
        description="Rest; nothing scheduled.",
    )
    checkpoint = AllDayItem(
        uid=stable_uid("plan-day", "7-2027-03-21"),
        day=date(2027, 3, 21),
        summary="Checkpoint: NBME self-assessment",
    )
    ics = feed("Sam's Step 1 plan", [meeting()], [plan_day, checkpoint], NY, stamp=STAMP)
    calendar = parse(ics)

    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(calendar["X-WR-CALNAME"]) == "Sam's Step 1 plan"
    assert str(calendar["X-WR-TIMEZONE"]) == NY
    assert [tz.tz_name for tz in calendar.timezones] == [NY]

    events = {str(event["UID"]): event for event in calendar.walk("VEVENT")}
    assert set(events) == {
        "session-42@preceptor",
        "plan-day-7-2027-03-14@preceptor",
        "plan-day-7-2027-03-21@preceptor",
    }
    timed = events["session-42@preceptor"]
    assert timed["DTSTART"].params["TZID"] == NY
    assert timed.decoded("DTSTART") == BEFORE_DST
    assert "ATTENDEE" not in timed  # subscribing must not prompt for an RSVP

    free = events["plan-day-7-2027-03-14@preceptor"]
    assert free["DTSTART"].params["VALUE"] == "DATE"
    assert free.decoded("DTSTART") == date(2027, 3, 14)
    assert free.decoded("DTEND") == date(2027, 3, 15)
    assert str(free["DESCRIPTION"]) == "Rest; nothing scheduled."
    assert str(free["TRANSP"]) == "TRANSPARENT"
    assert b"DTSTART;VALUE=DATE:20270314\r\n" in ics


def test_feed_of_only_plan_days_needs_no_vtimezone() -> None:
    day = AllDayItem(stable_uid("plan-day", "1"), date(2027, 1, 4), "Cardiology")
    calendar = parse(feed("Plan", [], [day], NY))

    assert calendar.timezones == []
    assert str(calendar["X-WR-TIMEZONE"]) == NY


def test_text_with_commas_semicolons_and_newlines_round_trips() -> None:
    summary = "Renal, acid-base; review\nthen: Q&A, 20 Qs; \\ backslash"
    description = "Line one,\nline two; with ; and , and\r\nWindows newline"
    ics = invite(meeting(summary=summary, description=description), NY)
    event = only_event(parse(ics))

    assert str(event["SUMMARY"]) == summary
    assert str(event["DESCRIPTION"]) == description.replace("\r\n", "\n")
    assert b"SUMMARY:Renal\\, acid-base\\; review\\nthen" in ics


def test_names_with_commas_stay_one_parameter() -> None:
    event = only_event(parse(invite(meeting(organizer_name="Tutor, Ada; MD"), NY)))

    assert event["ORGANIZER"].params["CN"] == "Tutor, Ada; MD"
    assert str(event["ORGANIZER"]) == "mailto:tutor@preceptor.test"


def test_output_lines_end_in_crlf_and_fold_at_75_octets() -> None:
    long_text = "Pathophysiology of glomerulonephritis — nephritic vs nephrotic. " * 8
    ics = invite(meeting(description=long_text, summary="Révision rénale " * 10), NY)

    assert ics.endswith(b"\r\n")
    assert b"\n" not in ics.replace(b"\r\n", b"")
    lines = ics.split(b"\r\n")[:-1]
    assert max(len(line) for line in lines) <= 75
    assert any(line.startswith(b" ") for line in lines)  # it did fold
    assert str(only_event(parse(ics))["DESCRIPTION"]) == long_text


def test_stable_uid_is_kind_id_at_domain() -> None:
    assert stable_uid("session", "42") == "session-42@preceptor"
    assert stable_uid("consultation", "abc", domain="tutoring.preceptor.test") == (
        "consultation-abc@tutoring.preceptor.test"
    )
    assert stable_uid("session", "42") == stable_uid("session", "42")


@pytest.mark.parametrize(("kind", "id"), [("", "1"), ("session", ""), ("session", "a b")])
def test_stable_uid_refuses_parts_that_would_make_an_ambiguous_uid(kind: str, id: str) -> None:
    with pytest.raises(ValueError):
        stable_uid(kind, id)


def test_meeting_refuses_naive_or_backwards_times() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        meeting(ends_at=datetime(2027, 3, 13, 10))
    with pytest.raises(ValueError, match="after starts_at"):
        meeting(ends_at=BEFORE_DST - timedelta(minutes=1))
