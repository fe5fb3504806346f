"""Payment states and refund rules, without a database or Stripe."""

from __future__ import annotations

import pytest

from services.payments import domain


def test_a_payment_succeeds_from_any_unpaid_state_and_only_once():
    for status in domain.UNPAID:
        assert domain.on_success(status) == domain.SUCCEEDED
    for status in domain.PAID:
        assert domain.on_success(status) is None


def test_a_failure_after_success_changes_nothing():
    assert domain.on_failure(domain.REQUIRES_PAYMENT) == domain.FAILED
    assert domain.on_failure(domain.FAILED) == domain.FAILED
    assert domain.on_failure(domain.SUCCEEDED) is None
    assert domain.on_processing(domain.SUCCEEDED) is None
    assert domain.on_processing(domain.FAILED) == domain.PROCESSING


def test_a_full_refund_is_asked_for_with_no_amount():
    assert domain.refund_amount(domain.SUCCEEDED, 1000, 0, None) == 1000
    assert domain.refund_amount(domain.PARTIALLY_REFUNDED, 1000, 300, None) == 700


def test_a_partial_refund_within_what_is_left_is_allowed():
    assert domain.refund_amount(domain.SUCCEEDED, 1000, 0, 400) == 400
    assert domain.refund_amount(domain.PARTIALLY_REFUNDED, 1000, 400, 600) == 600


def test_never_refund_more_than_was_paid():
    with pytest.raises(domain.RefundExceedsPayment) as raised:
        domain.refund_amount(domain.PARTIALLY_REFUNDED, 1000, 400, 601)
    assert raised.value.field == "amount_minor"
    with pytest.raises(domain.RefundExceedsPayment):
        domain.refund_amount(domain.REFUNDED, 1000, 1000, None)


def test_an_unpaid_purchase_cannot_be_refunded():
    for status in domain.UNPAID:
        with pytest.raises(domain.NothingPaid):
            domain.refund_amount(status, 1000, 0, None)


def test_the_refunded_total_is_capped_and_sets_the_status():
    assert domain.add_refund(1000, 800, 500) == 1000
    assert domain.status_after_refund(1000, 1000) == domain.REFUNDED
    assert domain.status_after_refund(1000, 999) == domain.PARTIALLY_REFUNDED


def test_currencies_are_kept_in_upper_case():
    assert domain.normalize_currency("usd") == "USD"
    assert domain.CURRENCY_RE.match("eur") and not domain.CURRENCY_RE.match("euro")
