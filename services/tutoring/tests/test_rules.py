"""Intake form, consultation states and session cancel/reschedule rules: no database, no HTTP."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.tutoring.domain import (
    KNOWN_AREAS,
    CancellationOutcome,
    ConsultationAlreadyOpen,
    ConsultationState,
    Intake,
    InvalidIntake,
    InvalidTransition,
    RescheduleLimitReached,
    SessionAlreadyStarted,
    TooLateToReschedule,
    cancellation_outcome,
    check_reschedule,
    consultation_transition,
    credits_after_refund,
    ensure_no_open_consultation,
    validate_intake,
)
from shared.errors import Conflict, DomainError

TODAY = date(2026, 6, 1)
STARTS = datetime(2026, 6, 10, 15, 0, tzinfo=UTC)
CUTOFF = STARTS - timedelta(hours=24)


def intake(**changes):
    fields = dict(
        exam="step1",
        exam_date=date(2026, 9, 1),
        attempts=1,
        weekly_hours=30,
        weak_areas=["renal", "biostatistics"],
        today=TODAY,
    )
    return validate_intake(**(fields | changes))


def refused(field: str, **changes) -> InvalidIntake:
    with pytest.raises(InvalidIntake) as err:
        intake(**changes)
    assert err.value.field == field
    return err.value


# --------------------------------------------------------------------------- intake


def test_a_valid_intake_is_returned_normalised():
    result = intake(exam=" Step2CK ", weak_areas=[" Renal", "cardiovascular"])
    assert result == Intake("step2ck", date(2026, 9, 1), 1, 30, ("renal", "cardiovascular"))


def test_exam_tomorrow_is_accepted_but_today_or_the_past_is_not():
    assert intake(exam_date=TODAY + timedelta(days=1)).exam_date == date(2026, 6, 2)
    refused("exam_date", exam_date=TODAY)
    refused("exam_date", exam_date=TODAY - timedelta(days=1))


def test_exam_date_must_be_within_two_years():
    assert intake(exam_date=date(2028, 6, 1)).exam_date == date(2028, 6, 1)
    refused("exam_date", exam_date=date(2028, 6, 2))


def test_weekly_hours_from_1_to_80():
    assert intake(weekly_hours=1).weekly_hours == 1
    assert intake(weekly_hours=80).weekly_hours == 80
    refused("weekly_hours", weekly_hours=0)
    refused("weekly_hours", weekly_hours=81)
    refused("weekly_hours", weekly_hours=True)


def test_attempts_from_0_to_6():
    assert intake(attempts=0).attempts == 0
    assert intake(attempts=6).attempts == 6
    refused("attempts", attempts=-1)
    refused("attempts", attempts=7)


def test_unknown_exam_is_refused():
    refused("exam", exam="step3")


def test_unknown_or_repeated_weak_area_is_refused():
    assert "unknown" in refused("weak_areas", weak_areas=["renal", "astrology"]).detail.lower()
    refused("weak_areas", weak_areas=["renal", "RENAL"])
    refused("weak_areas", weak_areas="renal")


def test_no_weak_areas_is_allowed_and_every_known_area_is_accepted():
    assert intake(weak_areas=[]).weak_areas == ()
    assert intake(weak_areas=list(KNOWN_AREAS)).weak_areas == KNOWN_AREAS


def test_the_first_offending_field_in_form_order_is_reported():
    refused("exam", exam="step3", exam_date=TODAY, weekly_hours=0)
    refused("exam_date", exam_date=TODAY, weekly_hours=0)


def test_invalid_intake_is_a_422_domain_error():
    err = refused("weekly_hours", weekly_hours=81)
    assert isinstance(err, DomainError) and err.status == 422
    assert err.errors() == {"weekly_hours": [err.detail]}


# --------------------------------------------------------------------------- consultations


@pytest.mark.parametrize(
    ("action", "after"),
    [
        ("complete", ConsultationState.COMPLETED),
        ("cancel", ConsultationState.CANCELLED),
        ("mark_no_show", ConsultationState.NO_SHOW),
    ],
)
def test_a_booked_consultation_can_complete_cancel_or_be_a_no_show(action, after):
    assert consultation_transition("booked", action) == after
    assert consultation_transition("booked", action) == after.value


@pytest.mark.parametrize("state", ["completed", "cancelled", "no_show"])
@pytest.mark.parametrize("action", ["complete", "cancel", "mark_no_show"])
def test_an_ended_consultation_cannot_move(state, action):
    with pytest.raises(InvalidTransition) as err:
        consultation_transition(state, action)
    assert isinstance(err.value, Conflict) and err.value.status == 409


def test_an_unknown_state_or_action_is_a_programming_error():
    with pytest.raises(ValueError):
        consultation_transition("booked", "reopen")
    with pytest.raises(ValueError):
        consultation_transition("pending", "cancel")


def test_one_open_consultation_per_student():
    ensure_no_open_consultation(["completed", "cancelled", "no_show"])
    with pytest.raises(ConsultationAlreadyOpen):
        ensure_no_open_consultation(["cancelled", "booked"])


# --------------------------------------------------------------------------- sessions


def test_student_cancelling_a_minute_before_the_cutoff_gets_the_credit_back():
    outcome = cancellation_outcome(STARTS, CUTOFF - timedelta(minutes=1), by="student")
    assert outcome == CancellationOutcome(credit_returned=True, late=False)


def test_student_cancelling_exactly_at_the_cutoff_forfeits_the_credit():
    outcome = cancellation_outcome(STARTS, CUTOFF, by="student")
    assert outcome == CancellationOutcome(credit_returned=False, late=True)


def test_tutor_cancelling_late_always_returns_the_credit():
    outcome = cancellation_outcome(STARTS, STARTS - timedelta(minutes=5), by="tutor")
    assert outcome == CancellationOutcome(credit_returned=True, late=True)


def test_the_cutoff_is_a_setting():
    assert cancellation_outcome(STARTS, CUTOFF, by="student", cutoff_hours=12).credit_returned


@pytest.mark.parametrize("by", ["student", "tutor"])
def test_a_started_session_cannot_be_cancelled(by):
    with pytest.raises(SessionAlreadyStarted):
        cancellation_outcome(STARTS, STARTS, by=by)


def test_cancellation_needs_aware_times_and_a_known_party():
    with pytest.raises(ValueError):
        cancellation_outcome(STARTS.replace(tzinfo=None), CUTOFF, by="student")
    with pytest.raises(ValueError):
        cancellation_outcome(STARTS, CUTOFF, by="admin")  # type: ignore[arg-type]


def test_reschedule_is_allowed_before_the_cutoff_under_the_limit():
    check_reschedule(0, STARTS, CUTOFF - timedelta(minutes=1))
    check_reschedule(1, STARTS, CUTOFF - timedelta(minutes=1))


def test_reschedule_limit_is_reached_after_two_moves():
    with pytest.raises(RescheduleLimitReached):
        check_reschedule(2, STARTS, CUTOFF - timedelta(days=3))
    check_reschedule(2, STARTS, CUTOFF - timedelta(days=3), limit=3)


def test_reschedule_at_the_cutoff_or_after_the_start_is_too_late():
    with pytest.raises(TooLateToReschedule):
        check_reschedule(0, STARTS, CUTOFF)
    with pytest.raises(TooLateToReschedule):
        check_reschedule(0, STARTS, STARTS + timedelta(hours=1))


def test_the_limit_is_reported_before_the_cutoff():
    with pytest.raises(RescheduleLimitReached):
        check_reschedule(2, STARTS, CUTOFF)


def test_refund_removes_unused_hours_and_never_goes_below_zero():
    assert credits_after_refund(10, 3, 4) == 3
    assert credits_after_refund(10, 3, 7) == 0
    assert credits_after_refund(10, 3, 9) == 0
    assert credits_after_refund(10, 10, 0) == 0
    with pytest.raises(ValueError):
        credits_after_refund(10, -1, 0)
