"""Payment rules: the states a payment goes through and what may be refunded.

Pure functions over plain values, so the rules are tested without a database or Stripe. The
big one: money never goes back twice, and never more than was paid — localstripe would allow a
second full refund, and a webhook and a refund request may race, so the rule lives here and in
the tables' constraints, not in Stripe.
"""

from __future__ import annotations

import re

from shared.errors import Conflict, DomainError, NotFound

# --- payment states ------------------------------------------------------------------------

REQUIRES_PAYMENT = "requires_payment"
"""A PaymentIntent exists (or is being made); the buyer has not paid yet."""
PROCESSING = "processing"
FAILED = "failed"
"""The last attempt failed (e.g. declined card); the buyer may try again with the same intent."""
SUCCEEDED = "succeeded"
PARTIALLY_REFUNDED = "partially_refunded"
REFUNDED = "refunded"

STATUSES = (REQUIRES_PAYMENT, PROCESSING, FAILED, SUCCEEDED, PARTIALLY_REFUNDED, REFUNDED)
UNPAID = (REQUIRES_PAYMENT, PROCESSING, FAILED)
PAID = (SUCCEEDED, PARTIALLY_REFUNDED, REFUNDED)

PURCHASE_KINDS = ("enrollment", "tutoring_package")
CURRENCY_RE = re.compile(r"^[A-Za-z]{3}$")

# --- refund states -------------------------------------------------------------------------

REFUND_SUCCEEDED = "succeeded"
REFUND_REFUSED = "refused"
"""We refused the refund request ourselves (nothing was sent to Stripe); ``error`` says why."""


class PaymentNotFound(NotFound):
    title = "No such payment"


class PurchaseMismatch(Conflict):
    title = "That purchase already has a payment with other terms"


class CardDeclined(DomainError):
    status = 402
    title = "The card was declined"


class AlreadyPaid(Conflict):
    title = "This purchase is already paid"


class InvalidWebhook(DomainError):
    status = 400
    title = "Webhook refused"


class RefundRefused(DomainError):
    title = "Refund refused"


class NothingPaid(RefundRefused):
    title = "The purchase has not been paid, so there is nothing to refund"


class RefundExceedsPayment(RefundRefused):
    title = "The refund is larger than what is left of the payment"


def normalize_currency(code: str) -> str:
    """ISO 4217 in upper case in our records and events (Stripe wants lower case)."""
    return code.upper()


def on_success(status: str) -> str | None:
    """New status when Stripe says the payment succeeded, or None when it already had."""
    return SUCCEEDED if status in UNPAID else None


def on_failure(status: str) -> str | None:
    """New status after a failed attempt; a failure after success (a stale event) changes nothing."""
    return FAILED if status in UNPAID else None


def on_processing(status: str) -> str | None:
    return PROCESSING if status in (REQUIRES_PAYMENT, FAILED) else None


def refundable_minor(amount_minor: int, refunded_minor: int) -> int:
    return max(0, amount_minor - refunded_minor)


def refund_amount(
    status: str, amount_minor: int, refunded_minor: int, requested_minor: int | None
) -> int:
    """How much to refund for a request (``None`` asks for everything still refundable)."""
    if status not in PAID:
        raise NothingPaid(f"The payment is {status}; only paid purchases can be refunded.")
    left = refundable_minor(amount_minor, refunded_minor)
    if left == 0:
        raise RefundExceedsPayment("The payment has already been refunded in full.")
    if requested_minor is None:
        return left
    if requested_minor <= 0:
        raise RefundRefused("A refund must be for a positive amount.", field="amount_minor")
    if requested_minor > left:
        raise RefundExceedsPayment(
            f"Asked to refund {requested_minor} but only {left} of {amount_minor} is left.",
            field="amount_minor",
        )
    return requested_minor


def status_after_refund(amount_minor: int, refunded_minor: int) -> str:
    return REFUNDED if refunded_minor >= amount_minor else PARTIALLY_REFUNDED


def add_refund(amount_minor: int, refunded_minor: int, refund_minor: int) -> int:
    """Refunded total after a refund Stripe reports; capped, since a webhook may repeat news."""
    return min(amount_minor, refunded_minor + refund_minor)


FLAGGED = "flagged"
"""How a Stripe event's outcome starts when it was recorded but not applied, because what it
says does not match our payment (an amount or a currency we never asked for). Operations
lists them in the ledger (``flagged_events``), logs an error and counts them in
``preceptor_stripe_events_total{outcome="flagged"}``."""
