"""Listing pages render each item on its own, so one item that cannot be shown is left out.

A listing (the catalogue, the tutors, the testimonial wall) is one page for everyone: an item
a service answered but the page cannot render (a missing field, a value of an unexpected
kind) is logged and skipped, never a 500 for the whole page. Templates call
``cards("cards/course.html", courses, what="courses")`` and loop over the rendered cards.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import render_template
from markupsafe import Markup

from shared.listing import build_each


def cards(template: str, items: Iterable[Any] | None, *, what: str, **context: Any) -> list[Markup]:
    """Each item rendered by ``template`` (which sees it as ``item``), bad ones left out."""
    return build_each(
        list(items or []),
        lambda item: Markup(render_template(template, item=item, **context)),
        what=what,
        name=lambda item: item.get("slug") or item.get("id") if isinstance(item, dict) else None,
    )
