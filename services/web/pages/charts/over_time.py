"""One scale's results over time: points by form, passing and target lines, and the estimate.

``score_chart`` draws the chart; ``y_axis`` and ``estimate_outside`` let the page say in words
what the drawing cuts off (an estimate beyond the shown range).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

from services.web.pages.charts.wording import (
    as_day,
    as_number,
    estimate_text,
    long_date,
    score_text,
    short_date,
)

WIDTH, HEIGHT = 480, 280
LEFT, RIGHT, TOP, BOTTOM = 46, 124, 18, 46
"""The plot's margins: y ticks on the left, line labels on the right, dates below."""

MARKERS = ("circle", "square", "triangle", "diamond", "cross", "star")
"""One shape per form, in order of first appearance (more forms than shapes reuse them)."""
MARKER_SYMBOLS = {
    "circle": "●",
    "square": "■",
    "triangle": "▲",
    "diamond": "◆",
    "cross": "✚",
    "star": "★",
}
"""The shapes as text, for the legend beside a chart."""

PASSING_DASH = "8 5"
TARGET_DASH = "2 4"
ESTIMATE_DASH = "10 4 2 4"
"""Dash patterns that differ from each other, so the lines are told apart without colour."""

SCALE_NAMES = {"percent": "Percent correct", "three_digit": "Three-digit score"}


@dataclass(frozen=True)
class _Point:
    taken_on: date
    score: float
    form_name: str


def series_points(series: Mapping) -> list[_Point]:
    points = []
    for raw in series.get("points") or []:
        day, score = as_day(raw.get("taken_on")), as_number(raw.get("score"))
        if day is not None and score is not None:
            points.append(_Point(day, score, str(raw.get("form_name") or "Result")))
    return sorted(points, key=lambda p: p.taken_on)


def marker_shapes(points: Sequence[_Point]) -> dict[str, str]:
    """Each form's marker shape, in the order the forms first appear."""
    shapes: dict[str, str] = {}
    for point in points:
        if point.form_name not in shapes:
            shapes[point.form_name] = MARKERS[len(shapes) % len(MARKERS)]
    return shapes


def _nice_step(span: float) -> float:
    raw = span / 5
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def _y_range(values: Sequence[float], low: float, high: float) -> tuple[float, float, float]:
    """The shown range: the scale zoomed to what is drawn, on round ticks, inside the scale."""
    lo, hi = min(values), max(values)
    pad = max((hi - lo) * 0.15, (high - low) * 0.05, 1.0)
    lo, hi = max(low, lo - pad), min(high, hi + pad)
    step = _nice_step(hi - lo)
    lo = max(low, math.floor(lo / step) * step)
    hi = min(high, math.ceil(hi / step) * step)
    if hi <= lo:
        hi = lo + step
    return lo, hi, step


def _marker(shape: str, x: float, y: float) -> str:
    r = 6.0
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r - 0.5:.1f}"'
    if shape == "square":
        return f'<rect x="{x - r + 1:.1f}" y="{y - r + 1:.1f}" width="{2 * r - 2:.1f}" height="{2 * r - 2:.1f}"'
    corners = {
        "triangle": [(0, -r - 1), (r, r - 1), (-r, r - 1)],
        "diamond": [(0, -r - 1), (r + 1, 0), (0, r + 1), (-r - 1, 0)],
        "cross": [
            (-r, -2),
            (-2, -2),
            (-2, -r),
            (2, -r),
            (2, -2),
            (r, -2),
            (r, 2),
            (2, 2),
            (2, r),
            (-2, r),
            (-2, 2),
            (-r, 2),
        ],
        "star": [
            (r * math.sin(a), -r * math.cos(a))
            if i % 2 == 0
            else (r * 0.45 * math.sin(a), -r * 0.45 * math.cos(a))
            for i, a in enumerate(math.pi * k / 5 for k in range(10))
        ],
    }[shape]
    path = " ".join(f"{x + dx:.1f},{y + dy:.1f}" for dx, dy in corners)
    return f'<polygon points="{path}"'


def _spread(
    labels: list[tuple[float, str, str]], gap: float = 15.0
) -> list[tuple[float, str, str]]:
    """Right-margin labels moved apart vertically so none overlaps another (y, text, class)."""
    placed: list[tuple[float, str, str]] = []
    for y, text, css in sorted(labels):
        if placed and y - placed[-1][0] < gap:
            y = placed[-1][0] + gap
        placed.append((y, text, css))
    overflow = placed[-1][0] - (HEIGHT - BOTTOM) if placed else 0
    if overflow > 0:
        placed = [(y - overflow, text, css) for y, text, css in placed]
    return placed


def describe(series: Mapping, exam_date: date | None) -> str:
    """The chart in one paragraph, for people who cannot see it (its ``<desc>``)."""
    points = series_points(series)
    parts = []
    if points:
        first, last = points[0], points[-1]
        parts.append(
            f"{len(points)} result{'s' if len(points) != 1 else ''} from "
            f"{long_date(first.taken_on)} to {long_date(last.taken_on)}; latest "
            f"{score_text(last.score)} ({last.form_name})."
        )
    else:
        parts.append("No results yet.")
    passing, target = as_number(series.get("passing_score")), as_number(series.get("target"))
    if passing is not None:
        parts.append(f"Passing {score_text(passing)}.")
    if target is not None:
        parts.append(f"Target {score_text(target)}.")
    estimate = series.get("estimate") or None
    if estimate and as_number(estimate.get("score")) is not None:
        on = as_day(estimate.get("on")) or exam_date
        when = f" on {long_date(on)}" if on else ""
        scale = series.get("scale")
        parts.append(f"Estimate {estimate_text(estimate.get('score'), scale)}{when}.")
    parts.append("The table after the chart lists the same numbers.")
    return " ".join(parts)


def _scale_bounds(series: Mapping) -> tuple[float, float]:
    low, high = as_number(series.get("low")), as_number(series.get("high"))
    low = 0.0 if low is None else low
    high = 100.0 if high is None or high <= low else high
    return low, high


def y_axis(series: Mapping) -> tuple[float, float, float]:
    """The chart's y range and tick step, chosen from the results, passing and target only."""
    low, high = _scale_bounds(series)
    values = [p.score for p in series_points(series)]
    values += [
        v
        for v in (as_number(series.get("passing_score")), as_number(series.get("target")))
        if v is not None
    ]
    return _y_range(values or [low, high], low, high)


def estimate_outside(series: Mapping) -> str | None:
    """``"below"``/``"above"`` when the estimate lies beyond the chart's y range (the page says
    so in words, since the line is cut at the edge), else None."""
    estimate = series.get("estimate") or None
    score = as_number(estimate.get("score")) if estimate else None
    if score is None or not series_points(series):
        return None
    y_low, y_high, _ = y_axis(series)
    return "below" if score < y_low else "above" if score > y_high else None


def score_chart(
    series: Mapping,
    *,
    exam_date: date | str | None,
    chart_id: str,
    table_id: str,
    title: str | None = None,
) -> Markup:
    """One scale's results over time as an accessible SVG.

    ``series`` is one entry of the progress answer's ``series``: ``{scale, low, high,
    passing_score, target, points: [{taken_on, score, form_name}], estimate: {on, score} |
    null}``. The estimate is drawn only when given (two or more results on distinct dates).
    """
    exam = as_day(exam_date)
    points = series_points(series)
    passing, target = as_number(series.get("passing_score")), as_number(series.get("target"))
    estimate = series.get("estimate") or None
    estimate_score = as_number(estimate.get("score")) if estimate else None
    estimate_on = (as_day(estimate.get("on")) or exam) if estimate else None
    if estimate_score is None or estimate_on is None or not points:
        estimate_score = estimate_on = None

    # The axis fits the results, passing and target, not the estimate (``y_axis``): a line
    # falling far would otherwise squeeze the real results into a strip. The estimate line is
    # cut at the axis and its value is written in the margin and under the chart.
    y_low, y_high, step = y_axis(series)
    days = [p.taken_on for p in points] + [d for d in (estimate_on, exam) if d is not None]
    start = min(days) if days else date.today()
    end = max(days) if days else start
    span = max((end - start).days, 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x_of(day: date) -> float:
        return LEFT + plot_w * (day - start).days / span

    def y_of(value: float) -> float:
        clamped = min(max(value, y_low), y_high)
        return TOP + plot_h * (1 - (clamped - y_low) / (y_high - y_low))

    name = title or SCALE_NAMES.get(str(series.get("scale")), "Score")
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    out = [
        f'<svg class="chart score-chart" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" preserveAspectRatio="xMidYMid meet" role="img" '
        f'aria-labelledby="{escape(title_id)} {escape(desc_id)}" '
        f'aria-describedby="{escape(table_id)}" xmlns="http://www.w3.org/2000/svg" '
        f'font-family="system-ui, sans-serif" font-size="13">',
        f'<title id="{escape(title_id)}">{escape(name)} over time</title>',
        f'<desc id="{escape(desc_id)}">{escape(describe(series, exam))}</desc>',
    ]
    # Grid and y ticks.
    out.append('<g class="chart-grid" stroke="#d9e1eb" stroke-width="1">')
    tick = y_low
    ticks = []
    while tick <= y_high + 1e-9:
        ticks.append(tick)
        out.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y_of(tick):.1f}" y2="{y_of(tick):.1f}"/>'
        )
        tick += step
    out.append("</g>")
    out.append('<g class="chart-axis" fill="#5b6b7f" font-size="12" text-anchor="end">')
    for tick in ticks:
        out.append(f'<text x="{LEFT - 6}" y="{y_of(tick) + 4:.1f}">{score_text(tick)}</text>')
    out.append("</g>")
    # Axes and their labels.
    out.append(
        f'<g class="chart-axis" stroke="#5b6b7f" stroke-width="1.2">'
        f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{TOP + plot_h}"/>'
        f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{TOP + plot_h}" y2="{TOP + plot_h}"/></g>'
    )
    out.append(
        f'<text class="axis-label" x="12" y="{TOP + plot_h / 2:.1f}" fill="#5b6b7f" '
        f'font-size="12" text-anchor="middle" transform="rotate(-90 12 {TOP + plot_h / 2:.1f})">'
        f"{escape(name)}</text>"
    )
    out.append(
        f'<text class="axis-label" x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 6}" fill="#5b6b7f" '
        f'font-size="12" text-anchor="middle">Date taken</text>'
    )
    out.extend(_date_ticks(points, start, end, exam, x_of, TOP + plot_h))
    # Passing and target: lines across the plot, labelled in the right margin.
    labels: list[tuple[float, str, str]] = []
    if passing is not None and y_low <= passing <= y_high:
        out.append(
            f'<line class="passing-line" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y_of(passing):.1f}" '
            f'y2="{y_of(passing):.1f}" stroke="#b42318" stroke-width="2" '
            f'stroke-dasharray="{PASSING_DASH}"/>'
        )
        labels.append((y_of(passing) + 4, f"Passing {score_text(passing)}", "passing-label"))
    if target is not None and y_low <= target <= y_high:
        out.append(
            f'<line class="target-line" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y_of(target):.1f}" '
            f'y2="{y_of(target):.1f}" stroke="#067647" stroke-width="2.5" '
            f'stroke-dasharray="{TARGET_DASH}" stroke-linecap="round"/>'
        )
        labels.append((y_of(target) + 4, f"Target {score_text(target)}", "target-label"))
    # The results: a solid line through the points, then the points and their values.
    if len(points) > 1:
        path = " ".join(f"{x_of(p.taken_on):.1f},{y_of(p.score):.1f}" for p in points)
        out.append(
            f'<polyline class="score-line" points="{path}" fill="none" stroke="#17385f" '
            f'stroke-width="2"/>'
        )
    if estimate_score is not None and estimate_on is not None:
        out.extend(
            _estimate_line(points[-1], estimate_on, estimate_score, y_low, y_high, x_of, y_of)
        )
        label = f"Estimate {estimate_text(estimate_score, series.get('scale'))}"
        if estimate_score < y_low:
            label += " \u2193"  # below the part of the scale shown
        elif estimate_score > y_high:
            label += " \u2191"
        labels.append((y_of(estimate_score) + 4, label, "estimate-label"))
    shapes = marker_shapes(points)
    previous: tuple[float, float] | None = None
    for point in points:
        x, y = x_of(point.taken_on), y_of(point.score)
        shape = shapes[point.form_name]
        out.append(
            f'{_marker(shape, x, y)} class="marker marker-{shape}" fill="#0f766e" '
            f'stroke="#0b1f38" stroke-width="1.2"/>'
        )
        above = y - 10
        if previous and abs(x - previous[0]) < 44 and abs(above - previous[1]) < 16:
            above = y + 21  # too close to the last value: write this one below its marker
        above = max(above, TOP + 10)
        out.append(
            f'<text class="value-label" x="{x:.1f}" y="{above:.1f}" text-anchor="middle" '
            f'fill="#0b1f38" font-weight="600">{score_text(point.score)}</text>'
        )
        previous = (x, above)
    out.append('<g class="line-labels" font-weight="600" font-size="12" fill="#0b1f38">')
    for y, text, css in _spread(labels):
        out.append(f'<text class="{css}" x="{LEFT + plot_w + 8}" y="{y:.1f}">{escape(text)}</text>')
    out.append("</g>")
    out.append("</svg>")
    return Markup("".join(out))


def _estimate_line(last, on, score, y_low, y_high, x_of, y_of) -> list[str]:
    """The dash-dot line from the latest result towards the estimate, cut where it leaves the
    axis range (the end marker only when the estimate itself is inside it)."""
    x1, y1 = x_of(last.taken_on), last.score
    x2, y2 = x_of(on), score
    inside = y_low <= score <= y_high
    if not inside and y2 != y1:
        edge = y_low if score < y_low else y_high
        fraction = (edge - y1) / (y2 - y1)
        x2, y2 = x1 + (x2 - x1) * max(0.0, min(1.0, fraction)), edge
    out = [
        f'<line class="estimate-line" x1="{x1:.1f}" y1="{y_of(y1):.1f}" x2="{x2:.1f}" '
        f'y2="{y_of(y2):.1f}" stroke="#17385f" stroke-width="2" '
        f'stroke-dasharray="{ESTIMATE_DASH}"/>'
    ]
    if inside:
        out.append(
            f'<circle class="estimate-end" cx="{x2:.1f}" cy="{y_of(y2):.1f}" r="4" '
            f'fill="#ffffff" stroke="#17385f" stroke-width="2"/>'
        )
    return out


TICK_GAP = 84
"""Date labels at least this far apart: wide enough for "Exam 12 Jan" at a phone's larger text."""


def _date_ticks(points, start, end, exam, x_of, baseline) -> list[str]:
    """Dates under the axis: the first and last result, and exam day, where they fit."""
    chosen: list[tuple[date, str]] = []
    candidates = [(p.taken_on, "") for p in points]
    if exam is not None:
        candidates.append((exam, "Exam "))
    for day, prefix in sorted(candidates, key=lambda c: (c[0], c[1] == "")):
        if any(abs(x_of(day) - x_of(other)) < TICK_GAP for other, _ in chosen):
            if prefix:  # exam day wins over a result's date next to it
                chosen = [(d, p) for d, p in chosen if abs(x_of(day) - x_of(d)) >= TICK_GAP]
            else:
                continue
        chosen.append((day, prefix))
    if not chosen:
        chosen = [(start, ""), (end, "")] if start != end else [(start, "")]
    out = ['<g class="date-ticks" fill="#5b6b7f" font-size="12">']
    for day, prefix in chosen:
        x = x_of(day)
        anchor = "start" if x - LEFT < 24 else "end" if x > WIDTH - RIGHT - 24 else "middle"
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{baseline}" y2="{baseline + 5}" stroke="#5b6b7f"/>'
            f'<text x="{x:.1f}" y="{baseline + 18}" text-anchor="{anchor}">'
            f"{escape(prefix + short_date(day))}</text>"
        )
    out.append("</g>")
    return out
