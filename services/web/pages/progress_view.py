"""What the plan and progress pages share: whose plan is shown to whom, in which zone, and the
tutoring API's answers shaped for templates (weeks with their checks, proposals as before →
after rows, charts per scale).

The same pages serve a student (their newest plan, the zone their browser names) and their
tutor (a plan by id, the zone of the tutor's profile); ``Viewer`` carries that difference so
templates ask ``viewer.url("record")`` instead of branching on the role everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import abort, url_for

from services.web import clients, security
from services.web.pages import charts, formatting
from services.web.pages.tutoring_words import AREAS, CHECKABLE_KINDS

DAY_STATUSES = {"done": "Done", "partial": "Partly done", "missed": "Missed"}
"""What a student answers for a working day, as the API names it and as people read it."""

PROPOSAL_STATUSES = {
    "proposed": "Waiting for a decision",
    "accepted": "Accepted",
    "declined": "Declined",
    "superseded": "Replaced by a newer proposal",
}
PROPOSAL_KINDS = {"rebalance": "Rebalance after a result", "recovery": "Catch up missed hours"}
ROLES = {"student": "the student", "tutor": "the tutor", "system": "Preceptor"}

ENDPOINTS = {
    "student": {
        "plan": "plan_pages.student_plan",
        "progress": "progress_pages.student_progress",
        "record": "result_pages.student_new",
        "delete_result": "result_pages.student_delete",
        "target": "progress_pages.student_progress",
        "propose": "plan_pages.student_propose",
        "decide": "plan_pages.student_decide",
    },
    "tutor": {
        "plan": "progress_pages.tutor_progress",
        "progress": "progress_pages.tutor_progress",
        "record": "result_pages.tutor_new",
        "delete_result": "result_pages.tutor_delete",
        "target": "progress_pages.tutor_progress",
        "propose": "progress_pages.tutor_propose",
        "decide": "progress_pages.tutor_decide",
    },
}


@dataclass(frozen=True)
class Viewer:
    """Who looks at which plan, and in which zone their "today" and times are."""

    role: str
    token: str
    zone: str
    plan: dict = field(default_factory=dict)
    zone_known: bool = True
    """False when a student's browser has not named its zone yet: links then carry no ``tz``
    (the next page asks the browser) rather than ``tz=UTC``."""

    @property
    def plan_id(self) -> str:
        return str(self.plan.get("plan_id") or self.plan.get("id") or "")

    @property
    def own(self) -> bool:
        """Whether the reader is the plan's student (the page says "your" rather than "the")."""
        return self.role == "student"

    @property
    def today(self) -> date:
        return today_in(self.zone)

    def url(self, what: str, **values: Any) -> str:
        """The page or action ``what`` for this viewer (students keep their zone in the URL)."""
        endpoint = ENDPOINTS[self.role][what]
        if self.role == "student":
            return url_for(endpoint, tz=self.zone if self.zone_known else None, **values)
        return url_for(endpoint, plan_id=self.plan_id, **values)


def today_in(zone: str) -> date:
    """The reader's date: a day is "past" or "today" on their own clock, not the server's."""
    return datetime.now(formatting.zone_or_none(zone) or UTC).date()


def passed_on(error: clients.ServiceError) -> None:
    """Refusals no form field can fix go to the error pages (or a new sign-in)."""
    if error.status in (401, 403, 404):
        raise error


def student_plan(token: str) -> dict | None:
    """The student's newest plan, or None before their tutor has built one."""
    try:
        return clients.tutoring.my_plan(token)
    except clients.ServiceError as error:
        if error.status in (401, 403):
            raise
        return None


def tutor_plan(token: str, plan_id: str) -> dict:
    """A plan of one of the tutor's students (the API answers 403 for anyone else's)."""
    return clients.tutoring.plan(token, plan_id)


def student_viewer(zone: str | None) -> Viewer:
    """The student and their newest plan; ``zone`` None when their browser has not said it."""
    token = security.access_token()
    plan = student_plan(token)
    return Viewer("student", token, zone or "UTC", plan or {}, zone_known=zone is not None)


def plan_areas(plan: dict) -> list[str]:
    """The plan's study areas (slugs), in the order the intake lists them."""
    named = [a for a in (plan.get("hours_by_area") or {}) if a in AREAS]
    return sorted(named, key=lambda a: list(AREAS).index(a))


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def plan_weeks(plan: dict, checks: list[dict], today: date) -> list[dict]:
    """The plan as Monday-first weeks of its own days, each with its check and whether it can
    be checked now (a working day on or before today, on the reader's clock)."""
    by_day = {str(c.get("day"))[:10]: c for c in checks or []}
    weeks: dict[date, list[dict]] = {}
    for entry in plan.get("days") or []:
        day = _day(entry.get("day"))
        if day is None:
            continue
        kind = entry.get("kind")
        check = by_day.get(day.isoformat())
        row = {
            "date": day,
            "iso": day.isoformat(),
            "kind": kind,
            "blocks": entry.get("blocks") or [],
            "hours": sum(float(b.get("hours") or 0) for b in entry.get("blocks") or []),
            "today": day == today,
            "past": day < today,
            "checkable": kind in CHECKABLE_KINDS and day <= today,
            "check": check,
            "status": (check or {}).get("status"),
        }
        weeks.setdefault(day - timedelta(days=day.weekday()), []).append(row)
    return [
        {
            "monday": monday,
            "days": sorted(days, key=lambda r: r["date"]),
            "current": any(r["today"] for r in days),
        }
        for monday, days in sorted(weeks.items())
    ]


def proposal_rows(proposal: dict) -> dict[str, list[dict]]:
    """Before → after hours per area: the changed ones (biggest change first) for the table,
    the unchanged ones apart (a plan has up to 22 areas; most keep their hours)."""
    before = proposal.get("hours_before") or {}
    after = proposal.get("hours_after") or {}
    rows = []
    for area in {*before, *after}:
        old, new = float(before.get(area) or 0), float(after.get(area) or 0)
        rows.append({"area": area, "before": old, "after": new, "change": new - old})
    rows.sort(key=lambda r: (-abs(r["change"]), r["area"]))
    return {
        "changed": [r for r in rows if abs(r["change"]) >= 0.05],
        "unchanged": [r for r in rows if abs(r["change"]) < 0.05],
    }


_ISO_DAY = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def _area_slugs() -> re.Pattern[str]:
    """Any area slug tutoring knows, as a whole word (longest first, so no prefix wins)."""
    names = "|".join(re.escape(a) for a in sorted(AREAS, key=len, reverse=True))
    return re.compile(r"(?<![\w-])(" + names + r")(?![\w-])") if names else re.compile(r"(?!)")


def readable(message: str | None) -> str:
    """A proposal's message as people read it: area names, not the service's ids ("renal",
    "hematology-oncology"), and dates as the pages write them ("Fri 4 Dec 2026"). The hours
    themselves are in the before → after table built from ``hours_before``/``hours_after``."""
    text = _ISO_DAY.sub(lambda m: formatting.format_date(m.group(0)), message or "")
    return _area_slugs().sub(lambda m: AREAS[m.group(1)], text)


def open_proposals(proposals: list[dict]) -> list[dict]:
    return [p for p in proposals if p.get("status") == "proposed"]


def chart_series(progress: dict) -> list[dict]:
    """Each scale with its chart (pass/fail results are only listed, never charted)."""
    shown = []
    for n, series in enumerate(progress.get("series") or []):
        scale = str(series.get("scale") or "")
        chart_id, table_id = f"chart-{scale or n}", f"chart-{scale or n}-numbers"
        charted = scale != "pass_fail" and bool(series.get("points"))
        shown.append(
            {
                **series,
                "chart_id": chart_id,
                "table_id": table_id,
                "name": charts.SCALE_NAMES.get(scale, "Pass or fail"),
                "chart": charts.score_chart(
                    series,
                    exam_date=progress.get("exam_date"),
                    chart_id=chart_id,
                    table_id=table_id,
                )
                if charted
                else None,
                "shapes": charts.marker_shapes(charts.series_points(series)) if charted else {},
                "estimate_outside": charts.estimate_outside(series) if charted else None,
            }
        )
    return shown


def area_chart(progress: dict) -> Any:
    areas = progress.get("areas") or []
    if not areas:
        return None
    return charts.area_bars(
        areas, chart_id="chart-areas", table_id="chart-areas-numbers", labels=AREAS
    )


def adherence_summary(
    adherence: dict | None, checks: list[dict] | None = None, today: date | None = None
) -> dict | None:
    """The last 7 days as hours that add up: planned = done + missed + not yet checked.

    The API counts a partly done day half in ``done_hours`` and half in ``missed_hours`` and
    gives the whole of those days again as ``partial_hours``; showing all three side by side
    counted those hours twice. Here partly done days are a count of days (the API's
    ``partial_days`` if it gives one, else counted from the checks of the same seven days) and
    a note, never a third pile of hours.
    """
    if not adherence:
        return None
    planned = float(adherence.get("planned_hours") or 0)
    done = float(adherence.get("done_hours") or 0)
    missed = float(adherence.get("missed_hours") or 0)
    partial_hours = float(adherence.get("partial_hours") or 0)
    partial_days = adherence.get("partial_days")
    since = _day(adherence.get("since"))
    if partial_days is None and checks is not None and since is not None and today is not None:
        partial_days = sum(
            1
            for c in checks
            if c.get("status") == "partial" and since <= (_day(c.get("day")) or today) < today
        )
    return {
        "since": adherence.get("since"),
        "planned": planned,
        "done": done,
        "missed": missed,
        "unchecked": max(round(planned - done - missed, 2), 0.0),
        "unchecked_days": int(adherence.get("unchecked_days") or 0),
        "partial_days": None if partial_days is None else int(partial_days),
        "has_partial": partial_hours > 0 or bool(partial_days),
    }


def weeks_left(exam_date: Any, today: date) -> int | None:
    day = _day(exam_date)
    return None if day is None else max((day - today).days, 0) // 7


def require_plan(viewer: Viewer) -> None:
    if not viewer.plan_id:
        abort(404, description="Your tutor builds your plan after your consultation.")
