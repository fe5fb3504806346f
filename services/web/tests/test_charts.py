"""The progress charts are pure functions from the progress answer to SVG text."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from services.web.pages.charts import (
    ESTIMATE_DASH,
    PASSING_DASH,
    RIGHT,
    TARGET_DASH,
    WIDTH,
    area_bars,
    marker_shapes,
    score_chart,
    score_text,
    series_points,
)

SVG = "{http://www.w3.org/2000/svg}"
SERIES = {
    "scale": "percent",
    "low": 0,
    "high": 100,
    "passing_score": 60,
    "target": 70,
    "points": [
        {"taken_on": "2026-01-05", "score": 52, "form_name": "NBME CBSSA"},
        {"taken_on": "2026-02-02", "score": 57, "form_name": "UWSA 1"},
        {"taken_on": "2026-03-01", "score": 58.5, "form_name": "NBME CBSSA"},
        {"taken_on": "2026-03-03", "score": 59, "form_name": "Free 120"},
    ],
    "estimate": {"on": "2026-04-20", "score": 66.4, "per_week": 1.1, "points": 4, "method": "x"},
}


def chart(series: dict | None = None, **changes) -> ET.Element:
    svg = score_chart(
        {**SERIES, **(series or {}), **changes},
        exam_date="2026-04-20",
        chart_id="chart-percent",
        table_id="chart-percent-numbers",
    )
    return ET.fromstring(str(svg))


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def by_class(root: ET.Element, css: str) -> list[ET.Element]:
    return [e for e in root.iter() if css in (e.get("class") or "").split()]


def test_the_chart_is_valid_svg_scaled_by_its_viewbox_to_any_width():
    root = chart()

    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox") == "0 0 480 280"
    assert root.get("width") == "100%"
    assert root.get("height") is None  # the box's width decides; CSS keeps the aspect ratio
    assert "style" not in str(score_chart(SERIES, exam_date=None, chart_id="c", table_id="t"))


def test_it_is_an_image_with_a_title_a_description_and_the_table_that_holds_its_numbers():
    root = chart()

    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "chart-percent-title chart-percent-desc"
    assert root.get("aria-describedby") == "chart-percent-numbers"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title.get("id") == "chart-percent-title" and title.text == "Percent correct over time"
    assert desc.get("id") == "chart-percent-desc"
    assert "4 results from 5 Jan 2026 to 3 Mar 2026; latest 59 (Free 120)." in desc.text
    assert "Passing 60. Target 70. Estimate 66.4 on 20 Apr 2026." in desc.text


def test_every_point_has_a_marker_and_its_value_as_text():
    root = chart()

    markers = by_class(root, "marker")
    values = [("".join(t.itertext())) for t in by_class(root, "value-label")]
    assert len(markers) == 4
    assert values == ["52", "57", "58.5", "59"]


def test_each_form_has_its_own_marker_shape_so_forms_differ_without_colour():
    root = chart()

    shapes = [m.get("class").split()[1] for m in by_class(root, "marker")]
    assert shapes == ["marker-circle", "marker-square", "marker-circle", "marker-triangle"]
    assert {m.tag for m in by_class(root, "marker")} == {
        f"{SVG}circle",
        f"{SVG}rect",
        f"{SVG}polygon",
    }
    assert marker_shapes(series_points(SERIES)) == {
        "NBME CBSSA": "circle",
        "UWSA 1": "square",
        "Free 120": "triangle",
    }


def test_passing_target_and_estimate_are_labelled_lines_each_with_its_own_dash_pattern():
    root = chart()

    [passing] = by_class(root, "passing-line")
    [target] = by_class(root, "target-line")
    [estimate] = by_class(root, "estimate-line")
    dashes = {line.get("stroke-dasharray") for line in (passing, target, estimate)}
    assert dashes == {PASSING_DASH, TARGET_DASH, ESTIMATE_DASH}  # three different patterns
    labels = texts(root)
    assert "Passing 60" in labels and "Target 70" in labels and "Estimate 66.4" in labels
    # Passing is below target: its line is lower on the page (larger y).
    assert float(passing.get("y1")) > float(target.get("y1"))


def test_the_estimate_runs_from_the_latest_result_to_exam_day():
    root = chart()

    [estimate] = by_class(root, "estimate-line")
    [latest_value] = [t for t in by_class(root, "value-label") if t.text == "59"]
    assert float(estimate.get("x2")) == WIDTH - RIGHT  # the right edge of the plot: exam day
    assert float(estimate.get("x1")) == float(latest_value.get("x"))  # from the latest result
    assert "Exam 20 Apr" in texts(root)


def test_no_estimate_is_drawn_when_the_api_gives_none():
    root = chart(estimate=None)

    assert by_class(root, "estimate-line") == []
    assert not any(t.startswith("Estimate") for t in texts(root))
    assert "Estimate" not in root.find(f"{SVG}desc").text


def test_axes_are_labelled_with_the_scale_and_the_dates():
    labels = texts(chart())

    assert "Percent correct" in labels and "Date taken" in labels
    assert "5 Jan" in labels
    assert any(re.fullmatch(r"\d+", t) for t in labels)  # y ticks


def test_a_three_digit_scale_zooms_to_the_scores_and_keeps_its_lines():
    series = {
        "scale": "three_digit",
        "low": 1,
        "high": 300,
        "passing_score": 214,
        "target": 245,
        "points": [
            {"taken_on": "2026-01-05", "score": 205, "form_name": "NBME CCSSA"},
            {"taken_on": "2026-02-05", "score": 221, "form_name": "UWSA 2"},
        ],
        "estimate": None,
    }
    root = chart(series)

    ticks = [int(t) for t in texts(root) if re.fullmatch(r"\d+", t)]
    assert min(ticks) >= 150 and max(ticks) <= 300  # not 1 to 300: the scores would be a dot
    assert "Passing 214" in texts(root) and "Target 245" in texts(root)
    assert root.find(f"{SVG}title").text == "Three-digit score over time"


def test_a_single_result_and_a_missing_target_still_draw():
    root = chart(points=SERIES["points"][:1], target=None, estimate=None)

    assert len(by_class(root, "marker")) == 1
    assert by_class(root, "target-line") == [] and by_class(root, "score-line") == []
    assert "Passing 60" in texts(root)


def test_colour_never_carries_meaning_alone():
    """The lines are told apart by dash and label, the forms by shape: drawing the whole chart
    in one colour loses nothing a test can see."""
    svg = str(score_chart(SERIES, exam_date="2026-04-20", chart_id="c", table_id="t"))
    mono = re.sub(r'(fill|stroke)="#[0-9a-f]{6}"', r'\1="#000000"', svg)
    root = ET.fromstring(mono)

    assert len({m.get("class") for m in by_class(root, "marker")}) == 3
    assert len({e.get("stroke-dasharray") for e in root.iter() if e.get("stroke-dasharray")}) == 3
    assert {"Passing 60", "Target 70", "Estimate 66.4"} <= set(texts(root))


def test_text_from_the_api_is_escaped():
    series = {**SERIES, "points": [{"taken_on": "2026-01-05", "score": 50, "form_name": "<b>&"}]}

    svg = str(score_chart(series, exam_date=None, chart_id="c", table_id="t"))

    assert "<b>" not in svg
    ET.fromstring(svg)


def test_area_bars_show_first_and_latest_with_their_numbers_in_text():
    svg = area_bars(
        [
            {"area": "renal", "first": 48, "latest": 61},
            {"area": "anatomy", "first": 70, "latest": 66},
        ],
        chart_id="chart-areas",
        table_id="chart-areas-numbers",
        labels={"renal": "Renal", "anatomy": "Anatomy"},
    )
    root = ET.fromstring(str(svg))

    assert root.get("role") == "img" and root.get("aria-describedby") == "chart-areas-numbers"
    assert len(by_class(root, "bar-first")) == 2 and len(by_class(root, "bar-latest")) == 2
    labels = texts(root)
    assert {"Renal", "Anatomy", "first 48%", "latest 61%", "first 70%", "latest 66%"} <= set(labels)
    assert "First" in labels and "Latest" in labels  # the legend names the fills
    assert "Renal: first 48, latest 61" in root.find(f"{SVG}desc").text


def test_scores_are_written_as_people_write_them():
    assert score_text(64.0) == "64"
    assert score_text(64.5) == "64.5"
    assert score_text("231") == "231"
    assert score_text(None) == ""


def test_a_falling_estimate_does_not_rescale_the_axis_and_its_line_is_cut_at_the_edge():
    from services.web.pages.charts import estimate_outside, y_axis

    series = {
        "scale": "percent", "low": 0, "high": 100, "passing_score": 60, "target": 70,
        "points": [
            {"taken_on": "2026-12-01", "score": 58, "form_name": "NBME"},
            {"taken_on": "2026-12-15", "score": 52, "form_name": "NBME"},
        ],
        "estimate": {"on": "2027-02-06", "score": 21.2134, "per_week": -3.391, "points": 2,
                     "method": "A straight line."},
    }  # fmt: skip
    root = ET.fromstring(
        str(score_chart(series, exam_date="2027-02-06", chart_id="c", table_id="t"))
    )

    y_low, y_high, _ = y_axis(series)
    assert y_low > 30 and y_high >= 70  # chosen from the results, passing and target only
    [line] = [e for e in root.iter(f"{SVG}line") if e.get("class") == "estimate-line"]
    assert float(line.get("y2")) == 280 - 46  # stops at the bottom of the plot
    assert float(line.get("x2")) < WIDTH - RIGHT  # ... before exam day, where it leaves the axis
    assert not [e for e in root.iter(f"{SVG}circle") if e.get("class") == "estimate-end"]
    [label] = [e for e in root.iter(f"{SVG}text") if e.get("class") == "estimate-label"]
    assert label.text == "Estimate 21.2 \u2193"
    assert estimate_outside(series) == "below"


def test_estimates_have_one_decimal_whole_on_three_digit_and_a_real_minus():
    from services.web.pages.charts import change_text, estimate_text

    assert estimate_text(21.2134) == "21.2"
    assert estimate_text(64.0) == "64"
    assert estimate_text(231.6, "three_digit") == "232"
    assert change_text(-3.391) == "\u22123.4"
    assert change_text(0.8) == "+0.8"
    assert change_text(0.01) == "0"
