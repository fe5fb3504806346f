"""Rebalancing and recovery proposals on their own: properties (hypothesis) and examples."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, assume, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from services.tutoring.plan_revision import Revision, rebalance, recover
from services.tutoring.study_plan import (
    CHECKPOINT_LABEL,
    InvalidPlanRequest,
    InvalidStudyPlan,
    PlanDoesNotFit,
    PlanSettings,
    StudyPlan,
    from_dict,
    generate_plan,
    to_dict,
)

TODAY = date(2026, 11, 25)
AREAS = ("Cardiovascular", "Renal", "Pharmacology", "Microbiology", "Biochemistry", "Neurology")
KEPT = ("free", "rest", "checkpoint", "exam")

modest = hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much]
)


def on(n: int) -> date:
    return TODAY + timedelta(days=n)


@st.composite
def plans(draw) -> tuple[StudyPlan, int, PlanSettings]:
    """A generated plan (any rhythm, with or without rest), its weekly hours and settings."""
    areas = draw(st.lists(st.sampled_from(AREAS), min_size=1, max_size=6, unique=True))
    weak = draw(st.lists(st.sampled_from(areas), max_size=len(areas), unique=True))
    settings = PlanSettings(
        free_day_every=draw(st.integers(3, 8)),
        checkpoint_every_weeks=draw(st.integers(1, 4)),
        review_days=draw(st.integers(0, 14)),
    )
    weekly = draw(st.integers(6, 60))
    try:
        plan = generate_plan(
            TODAY,
            on(draw(st.integers(14, 180))),
            weekly,
            areas,
            weak,
            settings,
            rest_days=draw(st.integers(0, 7)),
        )
    except (PlanDoesNotFit, InvalidStudyPlan):
        assume(False)
    return plan, weekly, settings


def week_hours(plan: StudyPlan) -> dict[tuple[int, int], float]:
    weeks: dict[tuple[int, int], float] = {}
    for d in plan.days:
        key = d.day.isocalendar()[:2]
        weeks[key] = weeks.get(key, 0.0) + d.hours
    return weeks


def study_units(plan: StudyPlan, start: date) -> dict[str, int]:
    units: dict[str, int] = {}
    for d in plan.days:
        if d.day >= start and d.kind == "study":
            for b in d.blocks:
                units[b.area] = units.get(b.area, 0) + round(b.hours * 2)
    return units


def assert_a_proper_revision(revision: Revision, plan: StudyPlan, start: date) -> None:
    """What holds for any revision: the past and the protected days kept, valid, storable."""
    if not revision.fits:
        assert revision.plan is None and revision.hours_after == {}
        assert revision.message
        assert revision.suggested_exam_date is None or revision.suggested_exam_date > (
            plan.exam_date
        )
        return
    new = revision.plan
    assert new is not None and revision.suggested_exam_date is None
    assert new.exam_date == plan.exam_date
    assert [d.day for d in new.days] == [d.day for d in plan.days]
    for old, day in zip(plan.days, new.days, strict=True):
        if old.day < start or old.kind in KEPT:
            assert day == old
        assert day.kind == old.kind
        assert all(b.hours > 0 for b in day.blocks)
    assert from_dict(to_dict(new)) == new
    assert set(revision.hours_before) == set(plan.hours_by_area)


# --------------------------------------------------------------------------- rebalance


scores = st.dictionaries(
    st.sampled_from((*AREAS, "Genetics")),
    st.integers(0, 100) | st.floats(0, 100, allow_nan=False),
    min_size=1,
    max_size=7,
)


@modest
@given(plans(), st.integers(1, 200), scores)
def test_rebalance_keeps_the_past_and_the_shape_of_every_day(drawn, offset, area_scores):
    plan, _, settings = drawn
    start = on(min(offset, (plan.exam_date - TODAY).days))
    revision = rebalance(plan, start, area_scores, settings)
    assert_a_proper_revision(revision, plan, start)
    if revision.fits:
        assert revision.plan is not None
        for old, day in zip(plan.days, revision.plan.days, strict=True):
            assert math.isclose(day.hours, old.hours, abs_tol=1e-9)  # each day keeps its hours
        assert math.isclose(revision.plan.total_hours, plan.total_hours, abs_tol=1e-6)
        assert sum(revision.hours_after.values()) == pytest.approx(
            sum(revision.hours_before.values())
        )
    assert rebalance(plan, start, dict(area_scores), settings) == revision  # deterministic


@modest
@given(plans(), st.integers(1, 60), scores)
def test_rebalance_gives_the_weakest_more_and_the_strongest_less(drawn, offset, area_scores):
    plan, _, settings = drawn
    start = on(min(offset, (plan.exam_date - TODAY).days))
    revision = rebalance(plan, start, area_scores, settings)
    assume(revision.fits)
    scored = {a: s for a, s in area_scores.items() if a in plan.hours_by_area}
    assume(scored)
    low, high = min(scored.values()), max(scored.values())
    before, after = revision.hours_before, revision.hours_after
    for area, score in scored.items():
        if score == low:
            assert after[area] >= before[area]
        if score == high:
            assert after[area] <= before[area]
    # Strictly, when the scores differ enough to move a half hour of study (module rule 4):
    # the weakest gains at least old_w * old_s * (f_w - f_s) / (150 * total) half hours.
    units = study_units(plan, start)
    total = sum(units.values())
    weakest = min(scored, key=lambda a: (scored[a], a))
    strongest = max(scored, key=lambda a: (scored[a], a))
    bound = (
        units.get(weakest, 0) * units.get(strongest, 0) * (high - low) / (150 * total)
        if total
        else 0
    )
    if bound >= 1.001:
        assert after[weakest] > before[weakest]
        assert after[strongest] < before[strongest]


@modest
@given(plans(), st.integers(1, 60), scores)
def test_rebalance_leaves_an_area_without_a_score_its_hours(drawn, offset, area_scores):
    plan, _, settings = drawn
    start = on(min(offset, (plan.exam_date - TODAY).days))
    revision = rebalance(plan, start, area_scores, settings)
    assume(revision.fits)
    for area, hours in revision.hours_before.items():
        if area not in area_scores:
            # Neutral: it keeps its whole half hours of study and of review (only a day's
            # odd minutes, under half an hour per kind, may move).
            assert revision.hours_after[area] > hours - 1.0, area


def test_rebalance_example_reads_as_a_sentence():
    plan = generate_plan(TODAY, on(90), 20, AREAS[:4], ["Renal"])
    revision = rebalance(plan, on(20), {"Renal": 45, "Cardiovascular": 82, "Pharmacology": 60})
    assert revision.fits
    assert revision.hours_before == {
        "Renal": 74.0,
        "Cardiovascular": 36.5,
        "Pharmacology": 36.5,
        "Microbiology": 36.5,
    }
    assert revision.hours_after["Renal"] > 74.0
    assert revision.hours_after["Cardiovascular"] < 36.5
    assert revision.message.startswith(f"From {on(20):%a} {on(20).day} {on(20):%b} to the exam")
    assert "-" not in revision.message.split(":")[0]  # no ISO dates in the sentence
    assert "Renal 74 h → 84 h" in revision.message
    assert revision.message.endswith("Cardiovascular 36.5 h → 27 h")
    # Microbiology has no score: neutral, it keeps its hours (and is not in the sentence).
    assert revision.hours_after["Microbiology"] == 36.5
    assert "Microbiology" not in revision.message
    # Study days still focus on at most two areas.
    assert revision.plan is not None
    assert all(len(d.blocks) <= 2 for d in revision.plan.days if d.kind == "study")


def test_rebalance_without_a_difference_keeps_the_plan():
    plan = generate_plan(TODAY, on(90), 20, AREAS[:4], ["Renal"])
    for area_scores in ({"Renal": 50}, {"Renal": 70, "Pharmacology": 70}, {"Genetics": 10}):
        revision = rebalance(plan, on(20), area_scores)
        assert revision.fits and revision.plan == plan
        assert revision.hours_after == revision.hours_before


def test_rebalance_too_close_to_the_exam_says_what_would_fit():
    plan = generate_plan(TODAY, on(90), 20, AREAS[:4], ["Renal"])
    revision = rebalance(plan, on(80), {"Renal": 45, "Cardiovascular": 82})
    assert not revision.fits and revision.plan is None
    assert revision.suggested_exam_date == on(79 + 14)
    assert f"move the exam to {_day(on(93))} or later" in revision.message
    assert "11 day(s) away" in revision.message  # the exam is day 90; today is day 79


def test_rebalance_with_too_few_hours_left_names_a_later_date():
    plan = generate_plan(TODAY, on(60), 6, AREAS[:2], [])
    settings = PlanSettings(min_total_hours=20, min_days=7)
    revision = rebalance(plan, on(40), {"Renal": 45, "Cardiovascular": 82}, settings)
    assert not revision.fits
    assert "fewer than the 20 h a rebalance needs" in revision.message
    assert revision.suggested_exam_date is not None
    assert f"move the exam to {_day(revision.suggested_exam_date)}" in revision.message


@pytest.mark.parametrize("area_scores", [{"Renal": 101}, {"Renal": -1}, {"Renal": "50"}, [1]])
def test_rebalance_refuses_scores_that_are_not_percentages(area_scores):
    plan = generate_plan(TODAY, on(60), 20, AREAS[:2], [])
    with pytest.raises(InvalidPlanRequest) as caught:
        rebalance(plan, on(1), area_scores)
    assert caught.value.field == "area_scores"


def test_rebalance_keeps_rest_days_and_checkpoints():
    plan = generate_plan(TODAY, on(120), 20, AREAS[:4], ["Renal"], rest_days=5)
    revision = rebalance(plan, on(1), {"Renal": 30, "Microbiology": 90})
    assert revision.fits and revision.plan is not None
    assert [d.kind for d in revision.plan.days[:5]] == ["rest"] * 5
    assert [d for d in revision.plan.days if d.kind == "checkpoint"] == [
        d for d in plan.days if d.kind == "checkpoint"
    ]


# --------------------------------------------------------------------------- recover


@st.composite
def misses(draw, plan: StudyPlan, today: date) -> Mapping[date, float]:
    """Per past day the service's answer: nothing, half (partly done) or all of its hours."""
    missed: dict[date, float] = {}
    for d in plan.days:
        if d.day <= today and d.hours > 0:
            share = draw(st.sampled_from((0.0, 0.0, 0.5, 1.0)))
            if share:
                missed[d.day] = d.hours * share
    return missed


@modest
@given(plans(), st.integers(1, 180), st.data())
def test_recovery_adds_back_within_the_weekly_ceiling(drawn, offset, data):
    plan, weekly, settings = drawn
    today = on(min(offset, (plan.exam_date - TODAY).days - 1))
    missed = data.draw(misses(plan, today))
    revision = recover(plan, today, missed, weekly, settings)
    assert_a_proper_revision(revision, plan, today + timedelta(days=1))
    assert recover(plan, today, dict(missed), weekly, settings) == revision  # deterministic
    if not revision.fits:
        return
    new = revision.plan
    assert new is not None
    for old, day in zip(plan.days, new.days, strict=True):
        assert day.hours >= old.hours - 1e-9  # only additions
    ceiling = 1.1 * weekly
    old_weeks = week_hours(plan)
    for week, hours in week_hours(new).items():
        if hours > old_weeks[week] + 1e-9:
            assert hours <= ceiling + 1e-9
    # What comes back: the missed study hours (not checkpoints), to the nearest half hour.
    study_missed = sum(h for d, h in missed.items() if plan.day(d).kind in ("study", "review"))
    added = new.total_hours - plan.total_hours
    assert abs(added - study_missed) <= 0.25 + 1e-9
    assert added * 2 == round(added * 2)
    assert CHECKPOINT_LABEL not in new.hours_by_area


def test_recovery_example_spreads_the_missed_hours_over_the_next_weeks():
    plan = generate_plan(TODAY, on(90), 20, AREAS[:4], ["Renal"])
    missed = {on(15): plan.day(on(15)).hours, on(16): plan.day(on(16)).hours}
    revision = recover(plan, on(19), missed, 20)
    assert revision.fits and revision.plan is not None
    added = revision.plan.total_hours - plan.total_hours
    assert added == pytest.approx(sum(missed.values()))
    per_area = {a: revision.hours_after[a] - revision.hours_before[a] for a in plan.hours_by_area}
    missed_areas = {b.area for d in missed for b in plan.day(d).blocks}
    assert {a for a, h in per_area.items() if h} == missed_areas
    assert "missed" in revision.message and "added back" in revision.message
    assert "no week above 22 h" in revision.message
    old_weeks = week_hours(plan)
    grown = {w: h for w, h in week_hours(revision.plan).items() if h > old_weeks[w]}
    assert grown and max(grown.values()) <= 22
    assert min(grown) >= on(20).isocalendar()[:2]  # from tomorrow's week on, earliest first


def test_recovery_that_cannot_fit_names_a_later_exam_date():
    plan = generate_plan(TODAY, on(90), 20, AREAS[:4], ["Renal"])
    missed = {on(n): plan.day(on(n)).hours for n in range(60, 78)}
    revision = recover(plan, on(80), missed, 20)
    assert not revision.fits and revision.plan is None
    assert revision.suggested_exam_date is not None
    assert revision.suggested_exam_date > plan.exam_date
    assert "do not fit before the exam" in revision.message
    assert _day(revision.suggested_exam_date) in revision.message
    assert "(20 h a week plus a tenth)" in revision.message  # read by the tutor too: no "your"


def _day(on_day: date) -> str:
    """``Fri 26 Feb 2027``, as the messages write a date."""
    return f"{on_day:%a} {on_day.day} {on_day:%b} {on_day.year}"


def test_messages_name_areas_by_their_labels():
    plan = generate_plan(TODAY, on(90), 20, ["renal", "hematology-oncology"], [])
    revision = rebalance(plan, on(20), {"renal": 40, "hematology-oncology": 80})
    assert "Renal " in revision.message and "Hematology & oncology " in revision.message
    assert "renal" not in revision.message and "hematology-oncology" not in revision.message
    assert set(revision.hours_before) == {"renal", "hematology-oncology"}  # keys stay slugs


def test_recovery_at_zero_hours_a_week_has_no_room_and_no_date():
    plan = generate_plan(TODAY, on(90), 20, AREAS[:4], ["Renal"])
    revision = recover(plan, on(5), {on(2): plan.day(on(2)).hours}, 0)
    assert not revision.fits and revision.suggested_exam_date is None
    assert "no later exam date" in revision.message


def test_a_missed_checkpoint_is_not_made_up_as_study():
    plan = generate_plan(TODAY, on(90), 20, AREAS[:4], ["Renal"])
    checkpoint = next(d for d in plan.days if d.kind == "checkpoint")
    revision = recover(plan, checkpoint.day, {checkpoint.day: checkpoint.hours}, 20)
    assert revision.fits and revision.plan == plan
    assert "self-assessment" in revision.message


def test_nothing_missed_keeps_the_plan():
    plan = generate_plan(TODAY, on(90), 20, AREAS[:4], ["Renal"])
    revision = recover(plan, on(10), {}, 20)
    assert revision.fits and revision.plan == plan


def test_recovery_never_touches_rest_free_or_checkpoint_days():
    plan = generate_plan(TODAY, on(120), 20, AREAS[:4], ["Renal"], rest_days=5)
    missed = {on(n): plan.day(on(n)).hours for n in range(6, 12)}
    revision = recover(plan, on(12), missed, 20)
    assert revision.fits and revision.plan is not None
    for old, new in zip(plan.days, revision.plan.days, strict=True):
        if old.kind in KEPT:
            assert new == old


@pytest.mark.parametrize(
    ("missed", "weekly"),
    [
        ({on(20): 1.0}, 20),  # a future day
        ({on(-3): 1.0}, 20),  # before the plan
        ({on(2): 99.0}, 20),  # more than was planned
        ({on(2): -1.0}, 20),
        ({"2026-11-27": 1.0}, 20),
        ({on(2): 1.0, "2026-11-28": 1.0}, 20),
        ({on(2): True}, 20),
    ],
)
def test_recovery_refuses_missed_hours_that_make_no_sense(missed, weekly):
    plan = generate_plan(TODAY, on(90), 20, AREAS[:4], ["Renal"])
    with pytest.raises(InvalidPlanRequest) as caught:
        recover(plan, on(10), missed, weekly)
    assert caught.value.field == "missed"


def test_recovery_refuses_weekly_hours_that_make_no_sense():
    plan = generate_plan(TODAY, on(90), 20, AREAS[:4], ["Renal"])
    with pytest.raises(InvalidPlanRequest) as caught:
        recover(plan, on(10), {}, 2.5)  # type: ignore[arg-type]
    assert caught.value.field == "weekly_hours"
