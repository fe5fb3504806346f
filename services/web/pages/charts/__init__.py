"""Progress charts as inline SVG, drawn on the server: no script, no CDN, nothing to load.

``score_chart`` draws one scale's results over time; ``area_bars`` draws first vs latest per
area. Both are pure functions of the tutoring API's progress answer, so they are tested as
text. Every mark means something without colour: points of different forms have different
marker shapes, every line has a dash pattern of its own *and* a text label ("Passing 60",
"Target 70", "Estimate 66"), and every point carries its value as text. Each chart is a
``role="img"`` with a ``<title>``/``<desc>`` and ``aria-describedby`` naming the table of the
same numbers next to it (the page renders that table; the chart only points at it).

The drawing is sized by its viewBox and scales to the width of its box (100 %), so the same
picture serves a 375 px phone and a desktop. The site's Content-Security-Policy forbids inline
``style`` attributes, so everything here uses SVG presentation attributes and classes only.

One module per kind of chart, ``over_time`` and ``per_area``, with the words for their numbers
(``wording``) apart, since pages and filters use those without any chart.
"""

from __future__ import annotations

from services.web.pages.charts.over_time import (
    ESTIMATE_DASH,
    MARKER_SYMBOLS,
    PASSING_DASH,
    RIGHT,
    SCALE_NAMES,
    TARGET_DASH,
    WIDTH,
    estimate_outside,
    marker_shapes,
    score_chart,
    series_points,
    y_axis,
)
from services.web.pages.charts.per_area import area_bars
from services.web.pages.charts.wording import change_text, estimate_text, result_text, score_text

__all__ = [
    "ESTIMATE_DASH",
    "MARKER_SYMBOLS",
    "PASSING_DASH",
    "RIGHT",
    "SCALE_NAMES",
    "TARGET_DASH",
    "WIDTH",
    "area_bars",
    "change_text",
    "estimate_outside",
    "estimate_text",
    "marker_shapes",
    "result_text",
    "score_chart",
    "score_text",
    "series_points",
    "y_axis",
]
