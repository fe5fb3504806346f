"""Scores, estimates, changes and dates as people read them, in the charts, their tables and pages.

Also Jinja filters (``score``, ``estimate``, ``result``, ``change``: ``pages/__init__.py``).
"""

from __future__ import annotations

import math
from datetime import date


def as_day(value: object) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except (TypeError, ValueError):
        return None


def as_number(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def score_text(value: object) -> str:
    """``64.0`` → ``64``, ``64.5`` → ``64.5``: scores as people write them ("" for none)."""
    number = as_number(value)
    if number is None:
        return ""
    return f"{number:.2f}".rstrip("0").rstrip(".")


MINUS = "\u2212"
"""The minus sign people read (U+2212), not the hyphen a keyboard types."""


def result_text(value: object, scale: object = None) -> str:
    """A result as people read it: ``Pass``/``Fail`` on a pass/fail form, else the score."""
    if scale == "pass_fail":
        number = as_number(value)
        return "" if number is None else ("Pass" if number >= 1 else "Fail")
    return score_text(value)


def estimate_text(value: object, scale: object = None) -> str:
    """An estimate as precise as it deserves: whole numbers on the three-digit scale, one
    decimal otherwise (``21.21`` → ``21.2``); a straight line through a few results is not
    more exact than that."""
    number = as_number(value)
    if number is None:
        return ""
    text = f"{number:.0f}" if scale == "three_digit" else f"{number:.1f}".removesuffix(".0")
    return text.replace("-", MINUS)


def change_text(value: object, scale: object = None) -> str:
    """A change per week with its sign: ``+2.5``, ``\u22123.4``, ``0``."""
    number = as_number(value)
    if number is None:
        return ""
    text = estimate_text(abs(number), scale)
    if text in ("0", ""):
        return "0"
    return ("+" if number > 0 else MINUS) + text


def short_date(day: date) -> str:
    return f"{day.day} {day:%b}"


def long_date(day: date) -> str:
    return f"{day.day} {day:%b %Y}"
