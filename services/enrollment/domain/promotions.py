"""Promotion codes: what a code may say (percent or amount off, limits, expiry) and the price it
gives. Pure, like the rest of enrollment's domain (``rules.py``), whose errors and checks it uses;
counting redemptions under concurrency is the database's job (``use_cases/enrolling.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from services.enrollment.domain.rules import (
    CURRENCY_RE,
    InvalidPromoCode,
    PromoAlreadyUsed,
    PromoCurrencyMismatch,
    PromoExhausted,
    PromoExpired,
    PromoNotForCourse,
    _is_int,
    _require_aware,
)

PERCENT = "percent"
AMOUNT = "amount"
PROMO_KINDS = (PERCENT, AMOUNT)
PROMO_CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{2,39}$")


@dataclass(frozen=True)
class PromoCode:
    """A discount: ``percent`` (whole percent, 1..100) or ``amount`` (minor units of ``currency``).

    ``course_slug`` None means every course; ``max_redemptions`` None means unlimited;
    ``expires_at`` None means never. Codes are upper-case (see :func:`normalize_promo_code`).
    """

    code: str
    kind: str
    value: int
    course_slug: str | None = None
    max_redemptions: int | None = None
    per_student_limit: int = 1
    expires_at: datetime | None = None
    currency: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not PROMO_CODE_RE.match(self.code):
            raise InvalidPromoCode(
                "A code is 3 to 40 upper-case letters, digits, '-' or '_'", field="code"
            )
        if self.kind not in PROMO_KINDS:
            raise InvalidPromoCode("A code takes off a percent or an amount", field="kind")
        if not _is_int(self.value) or self.value < 1:
            raise InvalidPromoCode("The discount is a whole number of at least 1", field="value")
        if self.kind == PERCENT:
            if self.value > 100:
                raise InvalidPromoCode("A percent discount is at most 100", field="value")
            if self.currency is not None:
                raise InvalidPromoCode("A percent code has no currency", field="currency")
        elif not isinstance(self.currency, str) or not CURRENCY_RE.match(self.currency):
            raise InvalidPromoCode(
                "An amount code needs a three-letter ISO 4217 currency", field="currency"
            )
        if self.max_redemptions is not None and (
            not _is_int(self.max_redemptions) or self.max_redemptions < 1
        ):
            raise InvalidPromoCode(
                "The redemption limit is at least 1 (or none)", field="max_redemptions"
            )
        if not _is_int(self.per_student_limit) or self.per_student_limit < 1:
            raise InvalidPromoCode(
                "Each student may use a code at least once", field="per_student_limit"
            )
        if self.expires_at is not None:
            _require_aware(self.expires_at, "expires_at")


def normalize_promo_code(code: str) -> str:
    """Codes are typed by people: compare them trimmed and upper-cased."""
    return code.strip().upper()


def percent_discount(price_minor: int, percent: int) -> int:
    """``percent`` of ``price_minor``, rounded half up to the minor unit (integer arithmetic).

    The *discount* is rounded, so a half unit goes to the student: 15% of 1001 is 150.15 → 150,
    50% of 999 is 499.5 → 500 (the student pays 499).
    """
    return (price_minor * percent * 2 + 100) // 200


def price_with_promo(
    price_minor: int,
    currency: str,
    promo: PromoCode,
    course_slug: str,
    now: datetime,
    redemptions_so_far: int,
    student_redemptions: int,
) -> int:
    """The price to charge after ``promo``, in minor units of ``currency``; never below 0.

    Checks, in this order (the first that fails is reported): the code is for this course
    (:class:`PromoNotForCourse`), not expired at ``now`` (``now >= expires_at`` is expired,
    :class:`PromoExpired`), not at its redemption limit (``redemptions_so_far >= max_redemptions``,
    :class:`PromoExhausted`), not used up by this student (``student_redemptions >=
    per_student_limit``, :class:`PromoAlreadyUsed`), and for an amount code, in the course's
    currency (:class:`PromoCurrencyMismatch`).

    A result of 0 (100% off, or an amount at least the price) means the caller activates the
    enrollment without a payment.
    """
    _require_aware(now, "now")
    if promo.course_slug is not None and promo.course_slug != course_slug:
        raise PromoNotForCourse(f"The code {promo.code} is not valid for this course", field="code")
    if promo.expires_at is not None and now >= promo.expires_at:
        raise PromoExpired(f"The code {promo.code} has expired", field="code")
    if promo.max_redemptions is not None and redemptions_so_far >= promo.max_redemptions:
        raise PromoExhausted(f"The code {promo.code} has been used up", field="code")
    if student_redemptions >= promo.per_student_limit:
        raise PromoAlreadyUsed(f"You have already used the code {promo.code}", field="code")
    if promo.kind == PERCENT:
        discount = percent_discount(price_minor, promo.value)
    else:
        if promo.currency != currency:
            raise PromoCurrencyMismatch(
                f"The code {promo.code} is in {promo.currency}, the course is priced in {currency}",
                field="code",
            )
        discount = promo.value
    return max(0, price_minor - discount)
