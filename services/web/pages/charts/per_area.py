"""First vs latest percent correct per area, as paired bars."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

from services.web.pages.charts.wording import as_number, score_text

BAR_HEIGHT, BAR_GAP, LABEL_W, BAR_W = 14, 4, 150, 250


def area_bars(
    areas: Sequence[Mapping], *, chart_id: str, table_id: str, labels: Mapping[str, str]
) -> Markup:
    """First vs latest percent per area as paired bars, each with its number in text.

    The first result's bar is hatched and the latest solid, and each is also named in words
    ("first 52", "latest 64"), so nothing depends on telling the two fills apart.
    """
    rows = [a for a in areas if as_number(a.get("latest")) is not None]
    row_h = 2 * BAR_HEIGHT + BAR_GAP + 14
    height = 24 + row_h * max(len(rows), 1)
    width = LABEL_W + BAR_W + 90
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    summary = "; ".join(
        f"{labels.get(str(a.get('area')), str(a.get('area')))}: first "
        f"{score_text(as_number(a.get('first')))}, latest {score_text(as_number(a.get('latest')))}"
        for a in rows
    )
    out = [
        f'<svg class="chart area-chart" id="{escape(chart_id)}" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-labelledby="{escape(title_id)} {escape(desc_id)}" '
        f'aria-describedby="{escape(table_id)}" xmlns="http://www.w3.org/2000/svg" '
        f'font-family="system-ui, sans-serif" font-size="13">',
        f'<title id="{escape(title_id)}">Percent correct per area, first and latest</title>',
        f'<desc id="{escape(desc_id)}">{escape(summary or "No per-area scores yet.")}</desc>',
        f'<defs><pattern id="{escape(chart_id)}-hatch" width="6" height="6" '
        'patternUnits="userSpaceOnUse"><rect width="6" height="6" fill="#ffffff"/>'
        '<path d="M-1,1 l2,-2 M0,6 l6,-6 M5,7 l2,-2" stroke="#17385f" stroke-width="1.5"/>'
        "</pattern></defs>",
        f'<g class="legend" fill="#0b1f38" font-size="12">'
        f'<rect x="{LABEL_W}" y="4" width="14" height="12" fill="url(#{escape(chart_id)}-hatch)" '
        f'stroke="#17385f"/><text x="{LABEL_W + 20}" y="14">First</text>'
        f'<rect x="{LABEL_W + 70}" y="4" width="14" height="12" fill="#0f766e" stroke="#0b1f38"/>'
        f'<text x="{LABEL_W + 90}" y="14">Latest</text></g>',
    ]
    for n, area in enumerate(rows):
        top = 24 + n * row_h
        name = labels.get(str(area.get("area")), str(area.get("area")))
        out.append(
            f'<text class="area-name" x="{LABEL_W - 8}" y="{top + BAR_HEIGHT + 4}" '
            f'text-anchor="end" fill="#0b1f38" font-weight="600">{escape(name)}</text>'
        )
        for k, (which, value) in enumerate(
            (("first", area.get("first")), ("latest", area.get("latest")))
        ):
            number = as_number(value)
            if number is None:
                continue
            y = top + k * (BAR_HEIGHT + BAR_GAP)
            w = BAR_W * min(max(number, 0.0), 100.0) / 100
            fill = f"url(#{escape(chart_id)}-hatch)" if which == "first" else "#0f766e"
            out.append(
                f'<rect class="bar bar-{which}" x="{LABEL_W}" y="{y}" width="{w:.1f}" '
                f'height="{BAR_HEIGHT}" fill="{fill}" stroke="#17385f"/>'
                f'<text class="bar-value" x="{LABEL_W + w + 6:.1f}" y="{y + BAR_HEIGHT - 2}" '
                f'fill="#0b1f38" font-size="12">{which} {score_text(number)}%</text>'
            )
    out.append("</svg>")
    return Markup("".join(out))
