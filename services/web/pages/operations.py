"""The admin's operations page: each service's outbox, dead letters (with replay), last events.

Each service answers for itself (``GET /api/admin/operations``, shared/operations.py); the page
asks them all at once and shows a service that does not answer as such, so one service being
down never hides the others (which is when an operator needs this page most).
"""

from __future__ import annotations

import contextvars
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from services.web import clients, security
from shared import config

bp = Blueprint("operations_pages", __name__, url_prefix="/admin")

LAST_EVENTS = 15


@dataclass(frozen=True)
class Section:
    """What the page knows of one service."""

    service: str
    state: str
    """``ok``, ``unreachable`` or ``no-data`` (the site itself keeps neither outbox nor inbox)."""
    report: dict[str, Any] | None = None
    reason: str = ""


def _look(service: str, token: str) -> Section:
    client = clients.BY_SERVICE[service]
    try:
        return Section(service, "ok", client.operations(token, LAST_EVENTS))
    except clients.ServiceUnavailable as error:
        return Section(service, "unreachable", reason=error.reason)
    except clients.ServiceError as error:
        if error.status in (401, 403):
            raise
        return Section(service, "unreachable", reason=f"HTTP {error.status}: {error.detail}")


def sections(token: str) -> list[Section]:
    """Every service's report, asked in parallel (one slow service costs one timeout, not six)."""
    names = [s for s in config.SERVICES if s in clients.BY_SERVICE]
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        # Each call runs in a copy of this request's context: it keeps the request and
        # correlation ids, so the services' log lines name the page view that asked.
        futures = [
            pool.submit(contextvars.copy_context().run, _look, name, token) for name in names
        ]
        found = [f.result() for f in futures]
    site = [Section(s, "no-data") for s in config.SERVICES if s not in clients.BY_SERVICE]
    return found + site


@bp.get("/operations")
@security.role_required("admin")
def operations():
    return render_template("admin_operations.html", sections=sections(security.access_token()))


@bp.post("/operations/<service>/replay")
@security.role_required("admin")
def replay(service: str):
    client = clients.BY_SERVICE.get(service)
    if client is None:
        abort(404, description="There is no such service.")
    message_id = request.form.get("message_id", "").strip()
    replay_all = request.form.get("all") == "1"
    if not message_id and not replay_all:
        flash("Choose a dead letter to replay.", "error")
        return redirect(url_for(".operations"))
    try:
        answer = client.replay_dead_letters(
            security.access_token(), None if replay_all else [message_id]
        )
    except clients.ServiceUnavailable:
        flash(f"{service} did not answer; nothing was replayed. Try again shortly.", "error")
    except clients.ServiceError as error:
        if error.status in (401, 403):
            raise
        flash(f"{service} refused the replay: {error.detail}", "error")
    else:
        count = answer.get("replayed", 0)
        if count:
            plural = "" if count == 1 else "s"
            flash(f"Replayed {count} dead letter{plural} of {service}.", "success")
        else:
            flash(f"Nothing to replay: that dead letter of {service} is gone already.", "info")
    return redirect(url_for(".operations", _anchor=f"service-{service}"))
