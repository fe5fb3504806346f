"""The study plan's rules on their own: no database, no HTTP."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from datetime import date, timedelta

import pytest

from services.tutoring.plan_edits import DayChange, edit_plan
from services.tutoring.study_plan import (
    CHECKPOINT_HOURS,
    CHECKPOINT_LABEL,
    InvalidPlanRequest,
    InvalidStudyPlan,
    PlanDoesNotFit,
    PlanSettings,
    StudyBlock,
    StudyPlan,
    from_dict,
    generate_plan,
    to_dict,
)
from shared.errors import DomainError

TODAY = date(2026, 11, 25)
AREAS = ("Cardiology", "Renal", "Pharmacology", "Microbiology", "Biochemistry")
WEAK = ("Renal", "Pharmacology")


def days_ahead(n: int) -> date:
    return TODAY + timedelta(days=n)


def plan_for(
    days: int = 365,
    weekly_hours: int = 20,
    areas=AREAS,
    weak=WEAK,
    settings: PlanSettings | None = None,
) -> StudyPlan:
    return generate_plan(
        TODAY, days_ahead(days), weekly_hours, areas, weak, settings or PlanSettings()
    )


def kinds(plan: StudyPlan) -> Counter[str]:
    return Counter(d.kind for d in plan.days)


def area_hours(plan: StudyPlan) -> float:
    return sum(plan.hours_by_area.values())


def budget(plan: StudyPlan, weekly_hours: int, free_day_every: int = 7) -> float:
    """What the student said they have: daily hours x working days, less the checkpoints."""
    daily = weekly_hours / (7 * (1 - 1 / free_day_every))
    working = sum(1 for d in plan.days if d.kind in ("study", "checkpoint", "review"))
    return daily * working - kinds(plan)["checkpoint"] * CHECKPOINT_HOURS


# --------------------------------------------------------------------------- does it fit


def test_an_exam_in_ten_days_does_not_fit_and_names_the_exam_date():
    with pytest.raises(PlanDoesNotFit) as caught:
        plan_for(days=10)
    assert caught.value.field == "exam_date"
    assert "10 day(s) away" in caught.value.detail
    assert days_ahead(14).isoformat() in caught.value.detail  # what would fit
    assert caught.value.errors() == {"exam_date": [caught.value.detail]}


def test_an_exam_today_or_in_the_past_does_not_fit():
    for days in (0, -3):
        with pytest.raises(PlanDoesNotFit) as caught:
            plan_for(days=days)
        assert caught.value.field == "exam_date"


def test_an_exam_exactly_min_days_away_fits():
    plan = plan_for(days=14)
    assert plan.days[-1].day == days_ahead(14)


def test_one_hour_a_week_for_three_weeks_does_not_fit_and_names_weekly_hours():
    with pytest.raises(PlanDoesNotFit) as caught:
        plan_for(days=21, weekly_hours=1)
    error = caught.value
    assert error.field == "weekly_hours"
    assert "At 1 h/week" in error.detail
    assert "at least 20 h" in error.detail
    assert "study at least 7 h/week" in error.detail


def test_too_few_hours_suggests_a_later_exam_date_that_really_fits():
    with pytest.raises(PlanDoesNotFit) as caught:
        plan_for(days=20, weekly_hours=5)
    detail = caught.value.detail
    assert "move the exam to 2026-12-29 or later" in detail
    assert "study at least 7 h/week" in detail
    # Both suggestions produce a plan; the day before the suggested date does not.
    generate_plan(TODAY, date(2026, 12, 29), 5, AREAS, WEAK)
    generate_plan(TODAY, days_ahead(20), 7, AREAS, WEAK)
    with pytest.raises(PlanDoesNotFit):
        generate_plan(TODAY, date(2026, 12, 28), 5, AREAS, WEAK)
    with pytest.raises(PlanDoesNotFit):
        generate_plan(TODAY, days_ahead(20), 6, AREAS, WEAK)


def test_when_checkpoints_eat_every_extra_week_no_later_date_is_suggested():
    # At 1 h/week two weeks add about 2.3 h but a checkpoint takes 5 h: waiting never helps.
    with pytest.raises(PlanDoesNotFit) as caught:
        plan_for(days=60, weekly_hours=1)
    assert "move the exam" not in caught.value.detail
    assert "no later exam date fits" in caught.value.detail


def test_zero_weekly_hours_does_not_fit():
    with pytest.raises(PlanDoesNotFit) as caught:
        plan_for(weekly_hours=0)
    assert caught.value.field == "weekly_hours"


def test_plan_does_not_fit_is_a_domain_error_so_the_api_maps_it_to_a_problem():
    assert issubclass(PlanDoesNotFit, DomainError)
    assert PlanDoesNotFit().status == 422


# --------------------------------------------------------------------------- timeline


def test_the_plan_starts_tomorrow_and_ends_with_the_exam_day():
    plan = plan_for()
    assert plan.days[0].day == days_ahead(1)
    assert plan.days[-1].day == plan.exam_date == days_ahead(365)
    assert plan.days[-1].kind == "exam"
    assert [d.day for d in plan.days] == [days_ahead(n) for n in range(1, 366)]


def test_the_exam_day_has_no_blocks():
    plan = plan_for()
    assert plan.days[-1].blocks == ()
    assert kinds(plan)["exam"] == 1


def test_a_year_out_every_seventh_day_is_free_until_the_review_stretch():
    plan = plan_for()
    free = [(d.day - TODAY).days for d in plan.days if d.kind == "free"]
    assert 50 <= len(free) <= 52
    assert all(n % 7 == 0 for n in free)
    assert free == list(range(7, 365 - 7, 7))
    assert all(d.blocks == () for d in plan.days if d.kind == "free")


def test_free_day_rhythm_follows_the_setting():
    plan = plan_for(days=120, settings=PlanSettings(free_day_every=4))
    free = [(d.day - TODAY).days for d in plan.days if d.kind == "free"]
    assert free and all(n % 4 == 0 for n in free)


def test_the_last_review_days_before_the_exam_are_review():
    plan = plan_for()
    assert [d.kind for d in plan.days[-8:]] == ["review"] * 7 + ["exam"]
    assert kinds(plan)["review"] == 7
    assert all(d.blocks for d in plan.days[-8:-1])


def test_review_length_follows_the_setting():
    plan = plan_for(days=90, settings=PlanSettings(review_days=14))
    assert [d.kind for d in plan.days[-15:]] == ["review"] * 14 + ["exam"]
    assert kinds(plan)["review"] == 14


def test_no_review_stretch_when_review_days_is_zero():
    plan = plan_for(days=90, settings=PlanSettings(review_days=0))
    assert kinds(plan)["review"] == 0
    assert plan.days[-2].kind != "review"


def test_review_covers_weak_areas_first():
    plan = plan_for()
    order = []
    for d in plan.days:
        if d.kind == "review":
            for block in d.blocks:
                if block.area not in order:
                    order.append(block.area)
    assert order[:2] == ["Renal", "Pharmacology"]
    assert set(order) == set(AREAS)


def test_a_checkpoint_every_two_weeks_on_the_day_before_the_free_day():
    plan = plan_for()
    checkpoints = [(d.day - TODAY).days for d in plan.days if d.kind == "checkpoint"]
    assert checkpoints == list(range(13, 365 - 7, 14))
    assert len(checkpoints) == 25


def test_a_checkpoint_is_a_fixed_length_self_assessment():
    plan = plan_for()
    for d in plan.days:
        if d.kind == "checkpoint":
            assert d.blocks == (StudyBlock(CHECKPOINT_LABEL, CHECKPOINT_HOURS),)
    assert CHECKPOINT_LABEL not in plan.hours_by_area


def test_checkpoint_rhythm_follows_the_setting():
    plan = plan_for(settings=PlanSettings(checkpoint_every_weeks=4))
    checkpoints = [(d.day - TODAY).days for d in plan.days if d.kind == "checkpoint"]
    assert checkpoints == list(range(27, 365 - 7, 28))


def test_a_checkpoint_never_lands_on_a_free_day_whatever_the_rhythms():
    plan = plan_for(days=200, settings=PlanSettings(free_day_every=2, checkpoint_every_weeks=1))
    checkpoints = [(d.day - TODAY).days for d in plan.days if d.kind == "checkpoint"]
    assert checkpoints and all(n % 2 == 1 for n in checkpoints)


def test_only_whole_periods_before_the_review_stretch_get_a_checkpoint():
    plan = plan_for(days=20, weekly_hours=20)  # 19 days before: review from day 13
    assert kinds(plan)["checkpoint"] == 0
    assert "No self-assessment fits before the review stretch" in plan.warnings


def test_days_are_consecutive_with_no_gaps():
    plan = plan_for(days=100)
    for earlier, later in zip(plan.days, plan.days[1:], strict=False):
        assert later.day - earlier.day == timedelta(days=1)


# --------------------------------------------------------------------------- hours


def test_total_allocated_hours_equal_the_available_study_hours_within_rounding():
    for days, weekly in ((365, 20), (30, 12), (14, 40), (200, 7), (90, 33)):
        plan = plan_for(days=days, weekly_hours=weekly)
        available = budget(plan, weekly)
        assert available - 0.5 < area_hours(plan) <= available
        checkpoint_hours = kinds(plan)["checkpoint"] * CHECKPOINT_HOURS
        assert plan.total_hours == pytest.approx(area_hours(plan) + checkpoint_hours)


def test_hours_are_in_half_hours_and_positive():
    plan = plan_for(days=100, weekly_hours=17)
    for d in plan.days:
        for block in d.blocks:
            assert block.hours > 0
            assert (block.hours * 2) == int(block.hours * 2)


def test_study_days_hours_differ_by_at_most_half_an_hour():
    plan = plan_for(days=100, weekly_hours=17)
    lengths = {d.hours for d in plan.days if d.kind in ("study", "review")}
    assert max(lengths) - min(lengths) <= 0.5


def test_daily_hours_come_from_weekly_hours_over_working_days():
    plan = plan_for(days=365, weekly_hours=24, settings=PlanSettings(checkpoint_every_weeks=100))
    # No checkpoints fit (period of 100 weeks): 24 h over 6 working days = 4 h a day.
    assert kinds(plan)["checkpoint"] == 0
    assert {d.hours for d in plan.days if d.kind in ("study", "review")} == {4.0}


def test_no_weak_areas_means_equal_hours():
    plan = plan_for(weak=(), areas=("A", "B", "C", "D"), weekly_hours=24)
    hours = list(plan.hours_by_area.values())
    assert len(hours) == 4
    assert max(hours) - min(hours) <= 1.0  # two roundings of half an hour at most


def test_weak_areas_get_about_twice_the_hours_of_strong_ones():
    plan = plan_for()
    for weak in WEAK:
        for strong in set(AREAS) - set(WEAK):
            ratio = plan.hours_by_area[weak] / plan.hours_by_area[strong]
            assert ratio == pytest.approx(2.0, rel=0.02)


def test_weak_weight_follows_the_setting():
    plan = plan_for(settings=PlanSettings(weak_weight=3.0))
    assert plan.hours_by_area["Renal"] / plan.hours_by_area["Cardiology"] == pytest.approx(
        3.0, rel=0.02
    )


def test_every_area_gets_hours():
    plan = plan_for(days=30, weekly_hours=10)
    assert set(plan.hours_by_area) == set(AREAS)
    assert all(h > 0 for h in plan.hours_by_area.values())


def test_each_study_day_focuses_on_at_most_two_areas():
    for days, weekly in ((365, 20), (60, 10), (30, 40), (100, 15)):
        plan = plan_for(days=days, weekly_hours=weekly)
        assert all(len(d.blocks) <= 2 for d in plan.days if d.kind == "study")
        assert not any("mix more than two" in w for w in plan.warnings)


def test_weak_areas_recur_more_often():
    plan = plan_for()
    days_with = Counter(b.area for d in plan.days if d.kind == "study" for b in d.blocks)
    for weak in WEAK:
        for strong in set(AREAS) - set(WEAK):
            assert days_with[weak] > 1.5 * days_with[strong]


def test_every_area_comes_round_within_the_first_weeks():
    plan = plan_for()
    first_month = {b.area for d in plan.days[:28] for b in d.blocks}
    assert set(AREAS) <= first_month


def test_too_many_areas_for_the_study_days_warns_instead_of_breaking_totals():
    # Ten areas, six study days: some area gets less than a day, so a day mixes three.
    areas = [f"Area {i}" for i in range(10)]
    plan = generate_plan(TODAY, days_ahead(14), 20, areas, [])
    crowded = [d for d in plan.days if d.kind == "study" and len(d.blocks) > 2]
    assert crowded
    assert any(f"{len(crowded)} study day(s) mix more than two areas" in w for w in plan.warnings)
    assert area_hours(plan) == pytest.approx(budget(plan, 20), abs=0.5)


def test_very_long_days_are_warned_about():
    plan = plan_for(days=60, weekly_hours=80)
    assert any("hard to keep up" in w for w in plan.warnings)


def test_the_same_input_gives_the_same_plan():
    first = plan_for()
    second = plan_for()
    assert first == second
    assert to_dict(first) == to_dict(second)


# --------------------------------------------------------------------------- bad input


def test_an_unknown_weak_area_is_refused():
    with pytest.raises(InvalidPlanRequest) as caught:
        plan_for(weak=("Neurology",))
    assert caught.value.field == "weak_areas"
    assert "Neurology" in caught.value.detail


def test_weak_areas_match_ignoring_case_and_spaces():
    plan = plan_for(weak=(" renal ",))
    assert plan.hours_by_area["Renal"] > plan.hours_by_area["Cardiology"]


@pytest.mark.parametrize("areas", [(), ("A", ""), ("A", "a"), "Cardiology", (CHECKPOINT_LABEL,)])
def test_areas_must_be_named_once_each(areas):
    with pytest.raises(InvalidPlanRequest) as caught:
        plan_for(areas=areas, weak=())
    assert caught.value.field == "areas"


@pytest.mark.parametrize("weekly_hours", [-1, 2.5, True, 101, "10"])
def test_weekly_hours_are_a_sensible_whole_number(weekly_hours):
    with pytest.raises(InvalidPlanRequest) as caught:
        plan_for(weekly_hours=weekly_hours)
    assert caught.value.field == "weekly_hours"


@pytest.mark.parametrize(
    "changes",
    [
        {"free_day_every": 1},
        {"checkpoint_every_weeks": 0},
        {"review_days": -1},
        {"weak_weight": 0.5},
        {"min_days": 1},
        {"min_total_hours": 0},
        {"free_day_every": 7.0},
    ],
)
def test_settings_that_make_no_sense_are_refused(changes):
    with pytest.raises(InvalidPlanRequest) as caught:
        PlanSettings(**changes)
    assert caught.value.field == next(iter(changes))


def test_dates_must_be_dates():
    with pytest.raises(InvalidPlanRequest) as caught:
        generate_plan(TODAY, "2027-01-01", 10, AREAS, WEAK)  # type: ignore[arg-type]
    assert caught.value.field == "exam_date"


# --------------------------------------------------------------------------- storage


def test_to_dict_and_from_dict_round_trip_through_json():
    plan = plan_for(days=60, weekly_hours=15)
    stored = json.loads(json.dumps(to_dict(plan)))
    assert stored["exam_date"] == days_ahead(60).isoformat()
    assert stored["days"][0]["day"] == days_ahead(1).isoformat()
    assert from_dict(stored) == plan


def test_a_round_tripped_plan_keeps_warnings():
    plan = plan_for(days=20)
    assert plan.warnings
    assert from_dict(to_dict(plan)).warnings == plan.warnings


@pytest.mark.parametrize(
    "tamper",
    [
        lambda d: d.pop("days"),
        lambda d: d.update(format=99),
        lambda d: d.update(total_hours=d["total_hours"] + 1),
        lambda d: d["days"].pop(),  # no exam day at the end
        lambda d: d["days"].pop(3),  # a gap
        lambda d: d["days"][-1]["blocks"].append({"area": "Renal", "hours": 1}),
        lambda d: d["days"][0].update(kind="holiday"),
        lambda d: d["days"][0].update(day="not a date"),
        lambda d: d["hours_by_area"].update(Renal=0.0),
    ],
)
def test_a_malformed_stored_plan_is_refused(tamper):
    stored = to_dict(plan_for(days=60))
    tamper(stored)
    with pytest.raises(InvalidStudyPlan):
        from_dict(stored)


def test_a_plan_copies_its_hours_by_area():
    plan = plan_for(days=30)
    hours = dict(plan.hours_by_area)
    again = StudyPlan(plan.exam_date, plan.days, hours, plan.total_hours, plan.warnings)
    hours["Renal"] = 0
    assert again.hours_by_area == plan.hours_by_area


# --------------------------------------------------------------------------- edits


def first(plan: StudyPlan, kind: str):
    return next(d for d in plan.days if d.kind == kind)


def test_edit_plan_refuses_work_on_the_exam_day():
    plan = plan_for(days=60)
    with pytest.raises(InvalidStudyPlan) as caught:
        edit_plan(plan, {plan.exam_date: DayChange(blocks=(StudyBlock("Renal", 2.0),))})
    assert caught.value.field == "day"


def test_edit_plan_keeps_the_exam_day_the_exam_day():
    plan = plan_for(days=60)
    with pytest.raises(InvalidStudyPlan):
        edit_plan(plan, {plan.exam_date: DayChange(kind="free")})
    with pytest.raises(InvalidStudyPlan):
        edit_plan(plan, {days_ahead(1): DayChange(kind="exam")})


def test_edit_plan_moves_a_free_day():
    plan = plan_for(days=60)
    old_free = first(plan, "free")
    study = plan.day(old_free.day - timedelta(days=1))
    edited = edit_plan(
        plan,
        {
            old_free.day: DayChange(kind="study", blocks=study.blocks),
            study.day: DayChange(kind="free"),
        },
    )
    assert edited.day(old_free.day).kind == "study"
    assert edited.day(old_free.day).blocks == study.blocks
    assert edited.day(study.day).kind == "free"
    assert edited.day(study.day).blocks == ()
    assert kinds(edited) == kinds(plan)
    assert edited.total_hours == pytest.approx(plan.total_hours)
    assert plan.day(old_free.day).kind == "free"  # the original plan is untouched


def test_edit_plan_changes_a_days_blocks_and_recomputes_totals():
    plan = plan_for(days=60)
    day = first(plan, "study")
    edited = edit_plan(plan, {day.day: DayChange(blocks=(StudyBlock("Neurology", 3.0),))})
    assert edited.day(day.day).blocks == (StudyBlock("Neurology", 3.0),)
    assert edited.hours_by_area["Neurology"] == 3.0
    assert edited.total_hours == pytest.approx(plan.total_hours - day.hours + 3.0)
    assert from_dict(to_dict(edited)) == edited


def test_edit_plan_refuses_negative_hours():
    plan = plan_for(days=60)
    day = first(plan, "study")
    with pytest.raises(InvalidStudyPlan):
        edit_plan(plan, {day.day: DayChange(blocks=(StudyBlock("Renal", -1.0),))})


def test_edit_plan_refuses_work_on_a_free_day():
    plan = plan_for(days=60)
    day = first(plan, "free")
    with pytest.raises(InvalidStudyPlan):
        edit_plan(plan, {day.day: DayChange(blocks=(StudyBlock("Renal", 1.0),))})


def test_edit_plan_refuses_a_day_outside_the_plan():
    plan = plan_for(days=60)
    with pytest.raises(InvalidStudyPlan) as caught:
        edit_plan(plan, {TODAY: DayChange(kind="free")})
    assert caught.value.field == "day"


def test_edit_plan_refuses_an_unknown_kind():
    plan = plan_for(days=60)
    with pytest.raises(InvalidStudyPlan):
        edit_plan(plan, {days_ahead(1): DayChange(kind="holiday")})  # type: ignore[arg-type]


def test_edit_plan_with_no_changes_gives_an_equal_plan():
    plan = plan_for(days=60)
    assert edit_plan(plan, {}) == plan


def test_a_plan_cannot_be_built_with_work_on_the_exam_day():
    plan = plan_for(days=30)
    exam = replace(plan.days[-1], blocks=(StudyBlock("Renal", 1.0),))
    with pytest.raises(InvalidStudyPlan):
        StudyPlan(
            plan.exam_date,
            (*plan.days[:-1], exam),
            plan.hours_by_area,
            plan.total_hours + 1.0,
            plan.warnings,
        )


# --------------------------------------------------------------------------- rest (reset plans)


def test_rest_days_come_first_and_carry_no_work():
    plan = generate_plan(TODAY, days_ahead(90), 20, AREAS, WEAK, PlanSettings(), rest_days=5)
    assert [d.kind for d in plan.days[:5]] == ["rest"] * 5
    assert plan.days[5].kind != "rest"
    assert all(d.blocks == () for d in plan.days[:5])
    assert kinds(plan)["rest"] == 5


def test_after_the_rest_the_plan_is_laid_out_as_if_it_started_there():
    rested = generate_plan(TODAY, days_ahead(90), 20, AREAS, WEAK, PlanSettings(), rest_days=5)
    fresh = generate_plan(days_ahead(5), days_ahead(90), 20, AREAS, WEAK)
    assert rested.days[5:] == fresh.days
    assert rested.hours_by_area == fresh.hours_by_area
    assert rested.total_hours == fresh.total_hours


def test_zero_rest_days_is_the_plan_without_rest():
    assert generate_plan(TODAY, days_ahead(90), 20, AREAS, WEAK, rest_days=0) == plan_for(90)
    assert "rest" not in kinds(plan_for(90))


def test_the_rest_counts_against_min_days():
    # 20 days away with 7 days of rest leaves 13: below the 14 a plan needs.
    with pytest.raises(PlanDoesNotFit) as caught:
        generate_plan(TODAY, days_ahead(20), 20, AREAS, WEAK, rest_days=7)
    assert caught.value.field == "exam_date"
    assert "after 7 rest day(s)" in caught.value.detail
    assert days_ahead(21).isoformat() in caught.value.detail
    generate_plan(TODAY, days_ahead(21), 20, AREAS, WEAK, rest_days=7)


def test_the_budget_counts_only_the_days_after_the_rest():
    # 5 h/week fits 34 days out without rest (see above: 2026-12-29); 7 days of rest push it.
    generate_plan(TODAY, date(2026, 12, 29), 5, AREAS, WEAK)
    with pytest.raises(PlanDoesNotFit) as caught:
        generate_plan(TODAY, date(2026, 12, 29), 5, AREAS, WEAK, rest_days=7)
    assert caught.value.field == "weekly_hours"
    later = caught.value.detail.split("move the exam to ")[1].split(" ")[0]
    generate_plan(TODAY, date.fromisoformat(later), 5, AREAS, WEAK, rest_days=7)


@pytest.mark.parametrize("rest_days", [-1, 2.0, True, "5"])
def test_rest_days_are_a_whole_number(rest_days):
    with pytest.raises(InvalidPlanRequest) as caught:
        generate_plan(TODAY, days_ahead(90), 20, AREAS, WEAK, rest_days=rest_days)
    assert caught.value.field == "rest_days"


def test_a_rest_day_with_work_is_not_a_valid_plan():
    plan = generate_plan(TODAY, days_ahead(60), 20, AREAS, WEAK, rest_days=3)
    stored = to_dict(plan)
    stored["days"][0]["blocks"] = [{"area": "Renal", "hours": 1.0}]
    stored["hours_by_area"]["Renal"] += 1.0
    stored["total_hours"] += 1.0
    with pytest.raises(InvalidStudyPlan):
        from_dict(stored)


def test_a_plan_with_rest_round_trips():
    plan = generate_plan(TODAY, days_ahead(60), 20, AREAS, WEAK, rest_days=3)
    assert from_dict(json.loads(json.dumps(to_dict(plan)))) == plan


def test_edit_plan_refuses_to_change_a_rest_day():
    plan = generate_plan(TODAY, days_ahead(60), 20, AREAS, WEAK, rest_days=3)
    for change in (DayChange(kind="study"), DayChange(blocks=(StudyBlock("Renal", 1.0),))):
        with pytest.raises(InvalidStudyPlan) as caught:
            edit_plan(plan, {days_ahead(2): change})
        assert caught.value.field == "day"


def test_edit_plan_refuses_to_make_a_day_rest():
    plan = generate_plan(TODAY, days_ahead(60), 20, AREAS, WEAK, rest_days=3)
    day = first(plan, "study")
    with pytest.raises(InvalidStudyPlan) as caught:
        edit_plan(plan, {day.day: DayChange(kind="rest")})
    assert caught.value.field == "kind"
    assert "free" in caught.value.detail
