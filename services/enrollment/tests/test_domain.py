"""Enrollment's rules on their own: no database, no HTTP."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.enrollment import domain
from shared.errors import Conflict, DomainError

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

COURSE_FIELDS = dict(
    slug="step-1",
    title="USMLE Step 1",
    price_minor=149_900,
    currency="USD",
    cycle_length_days=28,
    cadence_days=14,
    anchor_date=date(2026, 11, 20),
    seats_per_cycle=20,
    access_days=90,
    refund_window_days=7,
    published=True,
)


def make_course(**changes):
    return domain.new_course(**{**COURSE_FIELDS, **changes})


def promo(**changes):
    fields = dict(code="SPRING", kind="percent", value=10)
    return domain.PromoCode(**{**fields, **changes})


def price(
    promo_code,
    *,
    price_minor=10_000,
    currency="USD",
    course_slug="step-1",
    now=NOW,
    redemptions_so_far=0,
    student_redemptions=0,
):
    return domain.price_with_promo(
        price_minor, currency, promo_code, course_slug, now, redemptions_so_far, student_redemptions
    )


# --------------------------------------------------------------------------- courses


def test_a_course_from_an_admin_form_is_trimmed_and_its_currency_upper_cased():
    course = make_course(slug="  Step-1 ", title="  USMLE Step 1 ", currency="usd")
    assert (course.slug, course.title, course.currency) == ("step-1", "USMLE Step 1", "USD")


def test_a_free_course_is_allowed():
    assert make_course(price_minor=0).price_minor == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("cycle_length_days", 0),
        ("cycle_length_days", -28),
        ("cadence_days", 0),
        ("cadence_days", -1),
        ("seats_per_cycle", 0),
        ("access_days", 0),
        ("access_days", 27),  # shorter than the 28-day cycle
        ("refund_window_days", -1),
        ("refund_window_days", 29),  # longer than the cycle
        ("price_minor", -1),
        ("price_minor", 10.5),
        ("price_minor", True),
        ("currency", "US"),
        ("currency", "US1"),
        ("currency", "dollars"),
        ("slug", "step 1"),
        ("slug", ""),
        ("title", "   "),
        ("anchor_date", datetime(2026, 11, 20, tzinfo=UTC)),
    ],
)
def test_a_course_with_nonsense_settings_is_refused_naming_the_field(field, value):
    with pytest.raises(domain.InvalidCourse) as err:
        make_course(**{field: value})
    assert err.value.field == field
    assert err.value.status == 422


# --------------------------------------------------------------------------- cycles


def test_cycle_starts_step_by_the_cadence_from_the_anchor():
    course = make_course()
    assert domain.cycle_start(course, 0) == date(2026, 11, 20)
    assert domain.cycle_start(course, 1) == date(2026, 12, 4)
    assert domain.cycle_start(course, 3) == date(2027, 1, 1)


def test_there_is_no_cycle_before_the_anchor():
    with pytest.raises(domain.InvalidCycle):
        domain.cycle_start(make_course(), -1)


def test_a_cycle_ends_on_its_last_curriculum_day_and_access_runs_access_days_from_the_start():
    cycle = domain.cycle(make_course(), 3)
    assert cycle.starts_on == date(2027, 1, 1)
    assert cycle.ends_on == date(2027, 1, 28)  # 28 days inclusive
    assert cycle.access_ends_on == date(2027, 4, 1)  # first day without access, 90 days later
    assert (cycle.ends_on - cycle.starts_on).days + 1 == 28


def test_upcoming_cycles_cross_month_and_year_ends():
    starts = [c.starts_on for c in domain.upcoming_cycles(make_course(), date(2026, 12, 10))]
    assert starts == [date(2026, 12, 18), date(2027, 1, 1), date(2027, 1, 15), date(2027, 1, 29)]


def test_upcoming_cycles_before_the_anchor_start_at_the_anchor():
    cycles = domain.upcoming_cycles(make_course(), date(2026, 10, 1), count=2)
    assert [(c.index, c.starts_on) for c in cycles] == [
        (0, date(2026, 11, 20)),
        (1, date(2026, 12, 4)),
    ]


def test_a_cycle_starting_today_is_still_open():
    cycles = domain.upcoming_cycles(make_course(), date(2026, 12, 4), count=1)
    assert [(c.index, c.starts_on) for c in cycles] == [(1, date(2026, 12, 4))]


def test_the_day_after_a_start_the_next_cycle_is_the_first_open():
    cycles = domain.upcoming_cycles(make_course(), date(2026, 12, 5), count=1)
    assert [(c.index, c.starts_on) for c in cycles] == [(2, date(2026, 12, 18))]


def test_on_the_anchor_day_the_anchor_cycle_is_open():
    assert domain.upcoming_cycles(make_course(), date(2026, 11, 20))[0].index == 0


def test_upcoming_cycles_default_to_four_and_count_across_a_leap_day():
    course = make_course(anchor_date=date(2028, 2, 1), cadence_days=30)
    cycles = domain.upcoming_cycles(course, date(2028, 2, 2))
    assert [c.starts_on for c in cycles] == [
        date(2028, 3, 2),
        date(2028, 4, 1),
        date(2028, 5, 1),
        date(2028, 5, 31),
    ]


def test_asking_for_no_upcoming_cycles_is_refused():
    with pytest.raises(domain.InvalidCycle):
        domain.upcoming_cycles(make_course(), date(2026, 12, 1), count=0)


def test_a_new_hold_is_refused_when_the_cycle_is_full():
    domain.check_seat_available(19, 20)
    with pytest.raises(domain.CycleFull) as err:
        domain.check_seat_available(20, 20)
    assert err.value.status == 409


# --------------------------------------------------------------------------- access


def test_access_window_is_half_open_and_access_days_long():
    cycle = domain.cycle(make_course(), 0)
    start, end = domain.access_window(cycle)
    assert (start, end) == (date(2026, 11, 20), date(2027, 2, 18))
    assert (end - start).days == 90
    assert domain.has_access(cycle, start)
    assert domain.has_access(cycle, end - timedelta(days=1))
    assert not domain.has_access(cycle, end)
    assert not domain.has_access(cycle, start - timedelta(days=1))


@pytest.mark.parametrize(
    ("today", "soon"),
    [
        (date(2027, 2, 10), False),  # 8 days left
        (date(2027, 2, 11), True),  # 7 days left: reminder due
        (date(2027, 2, 17), True),  # last day with access
        (date(2027, 2, 18), False),  # access over, no longer "soon"
    ],
)
def test_access_is_expiring_soon_within_the_notice_days(today, soon):
    assert domain.access_expiring_soon(date(2027, 2, 18), today) is soon


def test_access_expiring_notice_days_can_be_changed():
    assert domain.access_expiring_soon(date(2027, 2, 18), date(2027, 2, 4), notice_days=14)


# --------------------------------------------------------------------------- states

REFUSED = [
    (state, action)
    for state in domain.STATES
    for action in domain.ACTIONS
    if (state, action) not in domain.TRANSITIONS
]


@pytest.mark.parametrize(("state", "action"), list(domain.TRANSITIONS))
def test_every_allowed_transition_reaches_its_table_state(state, action):
    assert domain.transition(state, action) == domain.TRANSITIONS[(state, action)]


def test_the_transition_table_is_the_documented_one():
    assert domain.TRANSITIONS == {
        ("pending_payment", "pay"): "active",
        ("pending_payment", "expire_hold"): "expired",
        ("pending_payment", "cancel"): "cancelled",
        ("active", "complete"): "completed",
        ("active", "refund"): "refunded",
        ("active", "defer"): "active",
    }


@pytest.mark.parametrize(("state", "action"), REFUSED)
def test_every_other_transition_is_refused_as_a_conflict(state, action):
    with pytest.raises(domain.InvalidTransition) as err:
        domain.transition(state, action)
    assert isinstance(err.value, Conflict)
    assert err.value.status == 409


def test_final_states_accept_no_action():
    for state in domain.FINAL_STATES:
        assert not any(s == state for s, _ in domain.TRANSITIONS)


def test_an_unknown_action_is_refused():
    with pytest.raises(domain.InvalidTransition):
        domain.transition("active", "teleport")


def test_paying_activates_a_pending_enrollment():
    enrollment = domain.Enrollment(state="pending_payment", cycle_index=2)
    assert domain.Enrollment(state="active", cycle_index=2) == enrollment.apply("pay")


def test_a_second_deferral_is_refused():
    with pytest.raises(domain.AlreadyDeferred):
        domain.transition("active", "defer", deferrals_used=1)


@pytest.mark.parametrize(
    ("state", "deferrals", "requested", "refundable", "expected"),
    [
        ("pending_payment", 0, False, False, ["pay"]),
        ("active", 0, False, True, ["defer", "refund"]),
        ("active", 1, False, True, ["refund"]),  # the one deferral is used
        ("active", 0, True, True, []),  # a refund is under way: nothing more
        ("active", 0, False, False, ["defer"]),  # outside the refund window, or free
        ("refunded", 0, True, False, []),
        ("cancelled", 0, False, False, []),
    ],
)
def test_a_student_is_offered_only_what_the_table_and_the_limits_allow(
    state, deferrals, requested, refundable, expected
):
    assert (
        domain.allowed_actions(
            state, deferrals_used=deferrals, refund_requested=requested, refundable=refundable
        )
        == expected
    )


def test_an_active_enrollment_defers_once_to_a_later_open_cycle_then_no_more():
    enrollment = domain.Enrollment(state="active", cycle_index=2)
    deferred = domain.defer_enrollment(enrollment, 4, open_indexes={3, 4, 5, 6})
    assert (deferred.state, deferred.cycle_index, deferred.deferrals_used) == ("active", 4, 1)
    with pytest.raises(domain.AlreadyDeferred) as err:
        domain.defer_enrollment(deferred, 5, open_indexes={4, 5, 6, 7})
    assert err.value.status == 409


def test_a_pending_enrollment_cannot_defer():
    with pytest.raises(domain.InvalidTransition):
        domain.defer_enrollment(domain.Enrollment("pending_payment", 2), 3, open_indexes={3})


def test_defer_through_apply_is_refused_because_it_needs_a_target():
    with pytest.raises(ValueError):
        domain.Enrollment("active", 2).apply("defer")


@pytest.mark.parametrize(
    ("target", "open_indexes"),
    [(2, {2, 3}), (1, {1, 2, 3}), (9, {3, 4, 5, 6})],
    ids=["same cycle", "earlier cycle", "not open"],
)
def test_a_deferral_must_go_to_a_later_open_cycle(target, open_indexes):
    with pytest.raises(domain.DeferralNotAllowed) as err:
        domain.defer_target_ok(2, target, open_indexes)
    assert err.value.field == "cycle_index"


def test_a_refused_deferral_target_does_not_use_up_the_deferral():
    enrollment = domain.Enrollment(state="active", cycle_index=2)
    with pytest.raises(domain.DeferralNotAllowed):
        domain.defer_enrollment(enrollment, 9, open_indexes={3, 4})
    assert domain.defer_enrollment(enrollment, 3, open_indexes={3, 4}).deferrals_used == 1


# --------------------------------------------------------------------------- holds


def test_a_seat_is_held_for_thirty_minutes_by_default():
    assert domain.hold_expires_at(NOW) == NOW + timedelta(minutes=30)
    assert domain.hold_expires_at(NOW, minutes=10) == NOW + timedelta(minutes=10)


def test_a_hold_expires_at_its_expiry_instant_not_before():
    expires = domain.hold_expires_at(NOW)
    assert not domain.is_hold_expired(expires, expires - timedelta(seconds=1))
    assert domain.is_hold_expired(expires, expires)
    with pytest.raises(domain.HoldExpired):
        domain.check_hold(expires, expires)
    domain.check_hold(expires, NOW)


def test_naive_datetimes_are_a_programming_error():
    with pytest.raises(ValueError):
        domain.hold_expires_at(datetime(2026, 11, 25, 12, 0))


# --------------------------------------------------------------------------- refunds

START = date(2027, 1, 1)
PAID = datetime(2026, 12, 20, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 12, 21, tzinfo=UTC),  # before the start
        datetime(2027, 1, 1, 9, 0, tzinfo=UTC),  # first day
        datetime(2027, 1, 7, 23, 59, 59, tzinfo=UTC),  # last moment of day 7
    ],
)
def test_a_refund_is_allowed_before_the_start_and_in_the_first_window_days(now):
    assert domain.refund_allowed(PAID, START, 7, now) is True


@pytest.mark.parametrize(
    "now",
    [datetime(2027, 1, 8, tzinfo=UTC), datetime(2027, 2, 1, tzinfo=UTC)],
    ids=["boundary", "long after"],
)
def test_a_refund_is_refused_from_midnight_after_the_window(now):
    with pytest.raises(domain.OutsideRefundWindow) as err:
        domain.refund_allowed(PAID, START, 7, now)
    assert err.value.status == 422
    assert "2027-01-07" in err.value.detail


def test_with_no_window_refunds_close_when_the_cycle_starts():
    assert domain.refund_allowed(PAID, START, 0, datetime(2026, 12, 31, 23, 59, tzinfo=UTC))
    with pytest.raises(domain.OutsideRefundWindow):
        domain.refund_allowed(PAID, START, 0, datetime(2027, 1, 1, tzinfo=UTC))


def test_the_refund_window_closes_at_midnight_in_the_schools_time_zone():
    new_york = ZoneInfo("America/New_York")
    three_am_utc = datetime(2027, 1, 8, 3, 0, tzinfo=UTC)  # still 7 Jan in New York
    assert domain.refund_allowed(PAID, START, 7, three_am_utc, tz=new_york)
    with pytest.raises(domain.OutsideRefundWindow):
        domain.refund_allowed(PAID, START, 7, datetime(2027, 1, 8, 5, 0, tzinfo=UTC), tz=new_york)


def test_a_free_enrollment_has_nothing_to_refund():
    with pytest.raises(domain.NothingToRefund):
        domain.refund_allowed(None, START, 7, datetime(2026, 12, 21, tzinfo=UTC))


# --------------------------------------------------------------------------- promotion codes


@pytest.mark.parametrize(
    ("price_minor", "percent", "expected"),
    [
        (10_000, 10, 9_000),
        (999, 50, 499),  # discount 499.5 rounds half up to 500
        (1_001, 15, 851),  # discount 150.15 rounds to 150
        (1_003, 15, 853),  # discount 150.45 rounds down to 150
        (1_010, 15, 858),  # discount 151.5 rounds half up to 152
        (1, 50, 0),  # discount 0.5 rounds up to 1
        (149_900, 33, 100_433),  # discount 49467
    ],
)
def test_a_percent_code_rounds_the_discount_half_up_to_the_minor_unit(
    price_minor, percent, expected
):
    assert price(promo(value=percent), price_minor=price_minor) == expected


def test_a_hundred_percent_code_makes_the_enrollment_free():
    assert price(promo(value=100), price_minor=149_900) == 0


def test_an_amount_code_takes_off_a_fixed_amount_in_the_course_currency():
    assert price(promo(kind="amount", value=2_500, currency="USD")) == 7_500


def test_an_amount_code_larger_than_the_price_floors_at_zero():
    assert price(promo(kind="amount", value=20_000, currency="USD")) == 0


def test_an_amount_code_in_another_currency_is_refused():
    with pytest.raises(domain.PromoCurrencyMismatch) as err:
        price(promo(kind="amount", value=2_500, currency="EUR"))
    assert err.value.field == "code"


def test_a_code_is_refused_from_its_expiry_instant():
    code = promo(expires_at=NOW)
    assert price(code, now=NOW - timedelta(seconds=1)) == 9_000
    with pytest.raises(domain.PromoExpired):
        price(code, now=NOW)


def test_a_code_at_its_redemption_limit_is_exhausted():
    code = promo(max_redemptions=50)
    assert price(code, redemptions_so_far=49) == 9_000
    with pytest.raises(domain.PromoExhausted):
        price(code, redemptions_so_far=50)


def test_a_code_without_a_limit_is_never_exhausted():
    assert price(promo(), redemptions_so_far=1_000_000) == 9_000


def test_a_student_cannot_use_a_code_beyond_their_limit():
    with pytest.raises(domain.PromoAlreadyUsed) as err:
        price(promo(), student_redemptions=1)
    assert err.value.status == 409
    assert price(promo(per_student_limit=2), student_redemptions=1) == 9_000


def test_a_code_for_another_course_is_refused_and_a_code_for_all_courses_is_not():
    with pytest.raises(domain.PromoNotForCourse):
        price(promo(course_slug="step-2-ck"))
    assert price(promo(course_slug="step-1")) == 9_000
    assert price(promo(course_slug=None), course_slug="step-2-ck") == 9_000


def test_promo_codes_are_compared_upper_cased():
    assert domain.normalize_promo_code("  spring-25 ") == "SPRING-25"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"code": "ab"}, "code"),
        ({"code": "spring"}, "code"),
        ({"kind": "bogo"}, "kind"),
        ({"value": 0}, "value"),
        ({"value": 101}, "value"),
        ({"value": 12.5}, "value"),
        ({"currency": "USD"}, "currency"),  # percent codes have no currency
        ({"kind": "amount", "value": 500}, "currency"),
        ({"kind": "amount", "value": 500, "currency": "usd"}, "currency"),
        ({"max_redemptions": 0}, "max_redemptions"),
        ({"per_student_limit": 0}, "per_student_limit"),
    ],
)
def test_a_promo_code_with_nonsense_settings_is_refused(changes, field):
    with pytest.raises(domain.InvalidPromoCode) as err:
        promo(**changes)
    assert err.value.field == field


def test_every_domain_error_is_a_shared_domain_error():
    errors = [v for v in vars(domain).values() if isinstance(v, type) and issubclass(v, Exception)]
    assert all(issubclass(e, DomainError) for e in errors)


# --------------------------------------------------------------------------- waitlist


def test_the_lowest_waitlist_position_is_offered_the_next_seat_whatever_the_row_order():
    entries = [
        domain.WaitlistEntry("s-3", 2, position=3),
        domain.WaitlistEntry("s-1", 2, position=1),
        domain.WaitlistEntry("s-2", 2, position=2),
    ]
    assert domain.next_on_waitlist(entries).student_id == "s-1"
    assert domain.next_on_waitlist(reversed(entries)).student_id == "s-1"


def test_a_waitlist_position_tie_goes_to_who_joined_first():
    entries = [
        domain.WaitlistEntry("s-b", 2, position=1, joined_at=NOW),
        domain.WaitlistEntry("s-a", 2, position=1, joined_at=NOW - timedelta(hours=1)),
    ]
    assert domain.next_on_waitlist(entries).student_id == "s-a"


def test_an_empty_waitlist_offers_nobody():
    assert domain.next_on_waitlist([]) is None


def test_a_waitlist_offer_lasts_24_hours_by_default():
    assert domain.waitlist_offer_expires_at(NOW) == NOW + timedelta(hours=24)
    assert domain.waitlist_offer_expires_at(NOW, hours=2) == NOW + timedelta(hours=2)


# --------------------------------------------------------------------------- cycles by date


def test_a_cycle_is_found_by_its_start_date():
    assert domain.cycle_index_of(make_course(), date(2026, 12, 18)) == 2


@pytest.mark.parametrize("starts_on", [date(2026, 12, 19), date(2026, 11, 6)])
def test_a_date_that_is_no_cycle_start_is_refused_naming_cycle_start(starts_on):
    with pytest.raises(domain.InvalidCycle) as err:
        domain.cycle_index_of(make_course(), starts_on)
    assert err.value.field == "cycle_start"


def test_the_open_cycle_defaults_to_the_next_start():
    assert domain.open_cycle(make_course(), None, date(2026, 12, 10)).starts_on == date(
        2026, 12, 18
    )


def test_only_the_next_starts_are_open_for_enrollment():
    course = make_course()
    today = date(2026, 12, 10)
    assert domain.open_cycle(course, date(2027, 1, 29), today).index == 5
    for closed in (date(2026, 12, 4), date(2027, 2, 12)):  # begun, and not open yet
        with pytest.raises(domain.InvalidCycle) as err:
            domain.open_cycle(course, closed, today)
        assert err.value.field == "cycle_start"
