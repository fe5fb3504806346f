"""Package prices, refunded hours, meeting and session states, reminders: pure rules, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.tutoring import domain

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def test_a_package_costs_the_rate_times_hours_and_ten_hours_are_ten_percent_off():
    assert domain.package_price(8000, 1) == 8000
    assert domain.package_price(8000, 5) == 40000
    assert domain.package_price(8000, 10) == 72000


def test_a_discounted_price_rounds_down_to_a_whole_minor_unit():
    assert domain.package_price(999, 10) == 8991


def test_only_packages_of_one_five_or_ten_hours_are_sold():
    with pytest.raises(domain.InvalidPackage) as err:
        domain.package_price(8000, 3)
    assert err.value.field == "hours"


@pytest.mark.parametrize("rate", [None, 0])
def test_a_tutor_without_a_rate_sells_no_package(rate):
    with pytest.raises(domain.InvalidPackage) as err:
        domain.package_price(rate, 5)
    assert err.value.field == "tutor_id"


def test_a_full_refund_covers_every_hour_and_a_partial_one_rounds_up():
    assert domain.hours_refunded(5, 40000, 40000) == 5
    assert domain.hours_refunded(5, 40000, 8000) == 1
    assert domain.hours_refunded(5, 40000, 8001) == 2
    assert domain.hours_refunded(5, 40000, 0) == 0
    assert domain.hours_refunded(5, 40000, 99999) == 5


def test_only_a_booked_session_can_be_cancelled_moved_or_completed():
    domain.ensure_session_booked("booked")
    for state in ("cancelled", "completed"):
        with pytest.raises(domain.SessionNotBooked):
            domain.ensure_session_booked(state)


def test_a_session_is_completed_only_once_it_has_started():
    with pytest.raises(domain.SessionNotStarted):
        domain.ensure_session_started(NOW + timedelta(minutes=1), NOW)
    domain.ensure_session_started(NOW, NOW)


@pytest.mark.parametrize(
    ("kind", "action", "refusal", "says"),
    [
        ("consultation", "complete", domain.ConsultationNotStarted, "can be completed"),
        (
            "consultation",
            "mark_no_show",
            domain.ConsultationNotStarted,
            "can be marked as a no-show",
        ),
        ("session", "complete", domain.SessionNotStarted, "can be completed"),
    ],
)
def test_a_meeting_outcome_is_refused_before_its_start_and_says_when(kind, action, refusal, says):
    starts_at = NOW + timedelta(days=2)  # 12:00 UTC on Wed 4 March is 07:00 in New York

    with pytest.raises(refusal) as err:
        domain.ensure_meeting_started(kind, action, starts_at, NOW, "America/New_York")

    assert err.value.status == 409 and err.value.field == "starts_at"
    assert err.value.detail == (
        f"This {kind} starts Wed 4 Mar 2026, 07:00 New York time (EST); it {says} once it has "
        "started."
    )
    domain.ensure_meeting_started(kind, action, starts_at, starts_at, "America/New_York")
    domain.ensure_meeting_started(kind, action, starts_at, starts_at + timedelta(hours=3), "UTC")


def test_a_refusal_for_a_tutor_on_utc_says_utc():
    with pytest.raises(domain.MeetingNotStarted) as err:
        domain.ensure_meeting_started("session", "complete", NOW + timedelta(seconds=1), NOW, "UTC")
    assert "starts Mon 2 Mar 2026, 12:00 UTC;" in err.value.detail


def test_only_outcomes_wait_for_the_start():
    with pytest.raises(ValueError):
        domain.ensure_meeting_started("consultation", "cancel", NOW, NOW, "UTC")


def test_a_reminder_is_due_within_24_hours_once_per_start_time():
    soon = NOW + timedelta(hours=23)
    assert domain.reminder_due(soon, None, NOW)
    assert not domain.reminder_due(soon, soon, NOW)
    assert domain.reminder_due(soon, soon - timedelta(hours=1), NOW)  # moved: a new reminder
    assert not domain.reminder_due(NOW + timedelta(hours=25), None, NOW)
    assert not domain.reminder_due(NOW - timedelta(minutes=1), None, NOW)


def test_the_packages_on_sale_are_priced_for_the_page_and_none_without_a_rate():
    assert domain.package_options(8000) == [
        {"hours": 1, "amount_minor": 8000, "full_minor": 8000, "discount_percent": 0},
        {"hours": 5, "amount_minor": 40000, "full_minor": 40000, "discount_percent": 0},
        {"hours": 10, "amount_minor": 72000, "full_minor": 80000, "discount_percent": 10},
    ]
    assert domain.package_options(None) == domain.package_options(0) == []


def test_a_session_can_be_cancelled_free_until_the_cutoff_that_cancelling_applies():
    starts_at = NOW + timedelta(hours=30)
    until = domain.free_cancellation_until(starts_at)
    assert until == starts_at - timedelta(hours=24)
    assert not domain.cancellation_outcome(starts_at, until - timedelta(seconds=1), "student").late
    assert domain.cancellation_outcome(starts_at, until, "student").late
