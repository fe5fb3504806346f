"""The tutoring pages' blueprint and what they all share: labels, the reader's zone, meetings by time.

The zone comes from the browser (``static/timezone.js`` adds ``?tz=``), or from a select when
scripts are off; a page without a usable zone shows UTC and says so. Other areas' pages (the
progress loop, marketing, the tutor's pages) read their zone through ``zone_context`` too.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Blueprint

from services.web import clients
from services.web.pages import formatting
from services.web.pages.tutoring_words import (
    AREAS,
    COMMON_ZONES,
    CONSULTATION_STATUSES,
    DAY_KINDS,
    EXAMS,
    SESSION_STATUSES,
)

bp = Blueprint("tutoring_pages", __name__)


PASSED_ON = (401, 403, 404)
"""Refusals that are not about the form: the error pages (or a new sign-in) handle them."""


@bp.app_template_filter("area")
def area_label(slug: str | None) -> str:
    return AREAS.get(slug or "", (slug or "").replace("-", " ").capitalize())


@bp.app_template_filter("exam")
def exam_label(slug: str | None) -> str:
    return dict(EXAMS).get(slug or "", (slug or "").upper())


@bp.app_template_filter("consultation_status")
def consultation_status(status: str | None) -> str:
    return CONSULTATION_STATUSES.get(status or "", (status or "").replace("_", " ").capitalize())


@bp.app_template_filter("session_status")
def session_status(status: str | None) -> str:
    return SESSION_STATUSES.get(status or "", (status or "").replace("_", " ").capitalize())


@bp.app_template_filter("hours")
def hours(value: float | int | None) -> str:
    """``1.5`` → ``1.5 h``, ``2.0`` → ``2 h``."""
    number = float(value or 0)
    return f"{number:g} h"


@bp.record_once
def tutoring_globals(state: Any) -> None:
    # Globals, not a context processor: macros imported without context see them too.
    state.app.jinja_env.globals.update(
        day_kinds=DAY_KINDS, areas=AREAS, exams=EXAMS, meeting_started=started
    )


ZONE_COOKIE = formatting.ZONE_COOKIE
known_zone = formatting.known_zone
viewer_zone = formatting.reader_zone


def zone_choices(zone: str) -> list[str]:
    return sorted({*COMMON_ZONES, formatting.canonical_zone(zone)}, key=lambda z: (z != "UTC", z))


def zone_context() -> dict[str, Any]:
    """What every zone-aware page needs: the zone, whether the script should detect it, choices."""
    zone = viewer_zone()
    return {"zone": zone, "detect_zone": known_zone() is None, "zones": zone_choices(zone)}


def plan_weeks(plan: dict) -> list[dict]:
    """The plan as calendar weeks (Monday first): each a row of seven days, None outside it."""
    days: dict[date, dict] = {}
    for entry in plan.get("days") or []:
        try:
            days[date.fromisoformat(str(entry["day"])[:10])] = entry
        except (KeyError, ValueError):
            continue
    if not days:
        return []
    monday = min(days) - timedelta(days=min(days).weekday())
    weeks = []
    while monday <= max(days):
        cells = [
            {"date": monday + timedelta(days=n), "entry": days.get(monday + timedelta(days=n))}
            for n in range(7)
        ]
        weeks.append({"monday": monday, "days": cells})
        monday += timedelta(days=7)
    return weeks


def sorted_by_start(consultations: list[dict], *, latest_first: bool = False) -> list[dict]:
    return sorted(consultations, key=lambda c: str(c.get("starts_at")), reverse=latest_first)


def started(meeting: dict, now: datetime | None = None) -> bool:
    """Whether a consultation or session has begun (its start is now or earlier).

    Only then does tutoring accept its outcome (completed, a no-show, the lesson note), so the
    pages offer those buttons only then; an unreadable start counts as not begun.
    """
    start = formatting.parse_moment(meeting.get("starts_at"))
    return start is not None and start <= (now or datetime.now(UTC))


def by_time(meetings: list[dict], now: datetime | None = None) -> dict[str, list[dict]]:
    """Meetings as a person looks for them: by time, not by state.

    ``upcoming`` (not cancelled, not begun; soonest first), ``past`` (begun, not cancelled,
    whether or not the tutor has recorded it yet; latest first) and ``cancelled`` (latest
    first). A cancelled meeting is never "past" just because it is over, nor a held one
    "upcoming" because of its state.
    """
    now = now or datetime.now(UTC)
    kept = [m for m in meetings if m.get("status") != "cancelled"]
    return {
        "upcoming": sorted_by_start([m for m in kept if not started(m, now)]),
        "past": sorted_by_start([m for m in kept if started(m, now)], latest_first=True),
        "cancelled": sorted_by_start(
            [m for m in meetings if m.get("status") == "cancelled"], latest_first=True
        ),
    }


def refused(error: clients.ServiceError) -> None:
    if error.status in PASSED_ON:
        raise error
