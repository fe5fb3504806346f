"""The progress estimate, the readiness warning and the later exam date, on their own."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from services.tutoring.progress import (
    LIMITS,
    METHOD,
    Estimate,
    Point,
    later_exam_date,
    readiness,
    trend,
)
from services.tutoring.study_plan import (
    InvalidPlanRequest,
    PlanDoesNotFit,
    PlanSettings,
    generate_plan,
)

TODAY = date(2026, 11, 25)
AREAS = ("Cardiology", "Renal", "Pharmacology")
WEAK = ("Renal",)


def on(n: int) -> date:
    return TODAY + timedelta(days=n)


# --------------------------------------------------------------------------- trend


def test_trend_is_the_least_squares_line_read_at_the_exam_date():
    # Days 0, 7, 14 at 50, 55, 63: mean day 7, mean score 56, Sxx = 98, Sxy = 91, so the
    # slope is 91/98 per day = 6.5 per week and the line is 49.5 on day 0; day 42: 88.5.
    points = [Point(on(0), 50), Point(on(7), 55), Point(on(14), 63)]
    estimate = trend(points, on(42), 0, 100)
    assert estimate == Estimate(on=on(42), score=88.5, per_week=6.5, points=3, method=METHOD)


def test_several_results_on_one_day_all_count():
    # Day 0 at 50 and 60, day 7 at 62: the line goes through 55 on day 0 and 62 on day 7.
    points = [Point(on(0), 50), Point(on(0), 60), Point(on(7), 62)]
    estimate = trend(points, on(14), 0, 100)
    assert estimate is not None
    assert (estimate.score, estimate.per_week, estimate.points) == (69.0, 7.0, 3)


def test_the_order_of_the_points_does_not_matter():
    points = [Point(on(n), 40 + 3.3 * n + (n % 3)) for n in range(0, 60, 5)]
    shuffled = points[:]
    random.Random(12).shuffle(shuffled)
    assert trend(points, on(90), 0, 100) == trend(shuffled, on(90), 0, 100)


def test_the_estimate_is_kept_within_the_scale():
    rising = [Point(on(0), 50), Point(on(7), 55), Point(on(14), 63)]
    assert trend(rising, on(42), 0, 80).score == 80  # type: ignore[union-attr]
    assert trend(rising, on(70), 0, 100).score == 100  # type: ignore[union-attr]
    falling = [Point(on(0), 70), Point(on(7), 60)]
    estimate = trend(falling, on(56), 0, 100)
    assert estimate is not None
    assert (estimate.score, estimate.per_week) == (0, -10.0)  # the slope is not clamped
    three_digit = trend([Point(on(0), 200), Point(on(7), 190)], on(200), 1, 300)
    assert three_digit is not None and three_digit.score == 1


@pytest.mark.parametrize(
    "points",
    [[], [Point(on(0), 60)], [Point(on(3), 60), Point(on(3), 70), Point(on(3), 65)]],
)
def test_no_estimate_without_two_distinct_dates(points):
    assert trend(points, on(60), 0, 100) is None


def test_a_flat_line_stays_flat():
    estimate = trend([Point(on(0), 61), Point(on(10), 61)], on(100), 0, 100)
    assert estimate is not None
    assert (estimate.score, estimate.per_week) == (61.0, 0.0)


def test_the_scale_must_make_sense():
    with pytest.raises(ValueError):
        trend([Point(on(0), 1), Point(on(1), 2)], on(9), 100, 0)


def test_method_and_limits_are_plain_sentences_for_the_page():
    assert METHOD.endswith(".") and METHOD.count(".") == 1
    for words in ("straight line", "few results", "difficulty", "not a prediction"):
        assert words in LIMITS


# --------------------------------------------------------------------------- readiness


BELOW = [(55.0, 60.0), (58.0, 60.0)]


def test_two_newest_results_below_passing_with_the_exam_close_warn():
    assert readiness(BELOW, on(21), TODAY, 6) is True
    assert readiness([*BELOW, (80.0, 60.0)], on(21), TODAY, 6) is True


def test_one_result_is_not_enough_to_warn():
    assert readiness(BELOW[:1], on(21), TODAY, 6) is False
    assert readiness([], on(21), TODAY, 6) is False


@pytest.mark.parametrize(
    "latest",
    [
        [(55.0, 60.0), (61.0, 60.0)],
        [(80.0, 60.0), (55.0, 60.0), (58.0, 60.0)],  # the newest is above: no warning
        [(60.0, 60.0), (55.0, 60.0)],  # at the mark is not below it
        [(55.0, None), (58.0, 60.0)],  # a form without a passing mark
        [(200.0, 214.0), (1.0, None)],
    ],
)
def test_no_warning_unless_both_newest_have_a_mark_and_are_below_it(latest):
    assert readiness(latest, on(21), TODAY, 6) is False


def test_the_exam_must_be_ahead_and_fewer_than_weeks_away():
    assert readiness(BELOW, on(41), TODAY, 6) is True
    assert readiness(BELOW, on(42), TODAY, 6) is False  # exactly six weeks: not fewer
    assert readiness(BELOW, on(1), TODAY, 6) is True
    assert readiness(BELOW, TODAY, TODAY, 6) is False  # the exam is today
    assert readiness(BELOW, on(-5), TODAY, 6) is False
    assert readiness(BELOW, on(20), TODAY, 0) is False


def test_scores_on_a_three_digit_scale_compare_with_their_own_mark():
    assert readiness([(205.0, 214.0), (210.0, 214.0)], on(30), TODAY, 6) is True


# --------------------------------------------------------------------------- later exam date


def fits(exam: date, weekly: int, rest_days: int = 0) -> bool:
    try:
        generate_plan(TODAY, exam, weekly, AREAS, WEAK, PlanSettings(), rest_days)
    except PlanDoesNotFit:
        return False
    return True


def test_the_date_weeks_ahead_when_it_fits():
    assert later_exam_date(TODAY, 20, AREAS, WEAK, PlanSettings(), 6) == on(42)


def test_the_first_fitting_date_when_the_weeks_ahead_do_not():
    # At 5 h/week the first exam date that fits is 2026-12-29 (see test_study_plan).
    found = later_exam_date(TODAY, 5, AREAS, WEAK, PlanSettings(), 2)
    assert found == date(2026, 12, 29)
    assert fits(found, 5) and not fits(found - timedelta(days=1), 5)


def test_rest_days_push_the_date():
    found = later_exam_date(TODAY, 5, AREAS, WEAK, PlanSettings(), 2, rest_days=7)
    assert found is not None and found > date(2026, 12, 29)
    assert fits(found, 5, 7) and not fits(found - timedelta(days=1), 5, 7)


def test_not_before_gives_real_time_after_the_booked_exam():
    exam = on(40)  # the booked exam; today + 6 weeks (day 42) would be two days after it
    found = later_exam_date(
        TODAY, 20, AREAS, WEAK, PlanSettings(), 6, not_before=exam + timedelta(weeks=6)
    )
    assert found == exam + timedelta(weeks=6)
    # Not before a date earlier than today + weeks: the weeks from today still hold.
    assert later_exam_date(TODAY, 20, AREAS, WEAK, PlanSettings(), 6, not_before=on(3)) == on(42)
    # When the plan does not fit there yet, the first date after it that does.
    found = later_exam_date(TODAY, 5, AREAS, WEAK, PlanSettings(), 0, not_before=on(5))
    assert found == date(2026, 12, 29)


def test_none_when_no_date_fits():
    assert later_exam_date(TODAY, 1, AREAS, WEAK, PlanSettings(), 6) is None


def test_bad_input_is_refused_as_generate_plan_refuses_it():
    with pytest.raises(InvalidPlanRequest) as caught:
        later_exam_date(TODAY, 20, AREAS, ("Neurology",), PlanSettings(), 6)
    assert caught.value.field == "weak_areas"
    with pytest.raises(InvalidPlanRequest) as caught:
        later_exam_date(TODAY, 20, AREAS, WEAK, PlanSettings(), -1)
    assert caught.value.field == "weeks"
