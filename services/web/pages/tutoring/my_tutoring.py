"""My tutoring: a student's credit, sessions, consultations, study plan and calendar feed."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Response, abort, render_template

from services.web import clients, security
from services.web.pages import formatting
from services.web.pages.tutoring.base import bp, by_time, plan_weeks, zone_context
from shared.calendar import FEED_CONTENT_TYPE


def calendar_links(token: str) -> dict[str, str] | None:
    """The student's calendar feed, as https (to copy) and webcal:// (to subscribe in one click)."""
    try:
        url = clients.tutoring.calendar(token).get("url")
    except clients.ServiceError as error:
        _refused_unless_missing(error)
        return None
    if not url:
        return None
    webcal = "webcal://" + url.split("://", 1)[1] if "://" in url else url
    return {"url": url, "webcal": webcal}


def _refused_unless_missing(error: clients.ServiceError) -> None:
    if error.status in (401, 403):
        raise error


def my_plan(token: str) -> dict | None:
    try:
        return clients.tutoring.my_plan(token)
    except clients.ServiceError as error:
        _refused_unless_missing(error)
        return None


def inside_cutoff(session: dict, now: datetime | None = None) -> bool:
    """Whether cancelling this session now would forfeit the hour: tutoring says until when
    it is free (``can_cancel_until``); a session without that moment is treated as late."""
    until = formatting.parse_moment(session.get("can_cancel_until"))
    return until is None or (now or datetime.now(UTC)) >= until


def render_my_tutoring(problems: dict[str, str] | None = None, status: int = 200):
    token = security.access_token()
    consultations = clients.tutoring.consultations(token)
    sessions = clients.tutoring.sessions(token)
    plan = my_plan(token)
    return render_template(
        "my_tutoring.html",
        credits=[c for c in clients.tutoring.credits(token) if c.get("hours_available")],
        sessions=by_time(sessions),
        inside_cutoff=inside_cutoff,
        consultations=by_time(consultations),
        plan=plan,
        weeks=plan_weeks(plan) if plan else [],
        calendar=calendar_links(token),
        problems=problems or {},
        **zone_context(),
    ), status


@bp.get("/my/tutoring")
@security.role_required("student")
def my_tutoring():
    return render_my_tutoring()


@bp.get("/calendar/<feed_token>.ics")
def calendar_feed(feed_token: str) -> Response:
    """The student's calendar feed at the site's public address (the secret is the token)."""
    body = clients.tutoring.calendar_feed(feed_token)
    if body is None:
        abort(404)
    response = Response(body, content_type=FEED_CONTENT_TYPE)
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
