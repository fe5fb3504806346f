"""One-click day checks from the weekly email: ``/plan/check/<token>``.

The digest gives each past working day three links (done, partly, missed); each carries a
signed token naming the plan, the day and the answer, and that token is the only credential
(no sign-in, so the link works from any phone). Mail scanners and link previews follow GET
links, so GET only shows what the link would record with one confirm button; the POST from
that button records it. A bad or expired link gets a page that says so and where to check the
day instead.
"""

from __future__ import annotations

from flask import Blueprint, render_template

from services.web import clients
from services.web.pages.progress_view import DAY_STATUSES
from shared import config

bp = Blueprint("plan_check_pages", __name__)


def _link_problem(error: clients.ServiceError):
    """A page that says why a link does nothing (410 expired, 404 not ours, 422 too late)."""
    if error.status == 410:
        days = config.env_int("CHECK_LINK_DAYS", 14)
        page = render_template("plan_check.html", state="expired", detail=error.detail, days=days)
        return page, 410
    if error.status == 422:  # a real link, but that day can't be checked any more
        detail = error.first("day") or error.detail
        return render_template("plan_check.html", state="refused", detail=detail), 422
    if error.status in (400, 404):
        return render_template("plan_check.html", state="invalid", detail=error.detail), 404
    raise error


@bp.get("/plan/check/<token>")
def confirm(token: str):
    """What the link would record; nothing changes until the button is pressed."""
    try:
        check = clients.tutoring.plan_check(token)
    except clients.ServiceError as error:
        return _link_problem(error)
    return render_template(
        "plan_check.html", state="confirm", check=check, token=token, statuses=DAY_STATUSES
    )


@bp.post("/plan/check/<token>")
def record(token: str):
    try:
        check = clients.tutoring.record_plan_check(token)
    except clients.ServiceError as error:
        return _link_problem(error)
    return render_template("plan_check.html", state="recorded", check=check, statuses=DAY_STATUSES)
