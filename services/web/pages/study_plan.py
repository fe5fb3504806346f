"""The student's study plan, day by day: check off working days, see and decide proposals.

A student answers for each working day up to today (done, partly, missed); the tutoring
service keeps the answers and, from them and from results, proposes new plan versions
(a rebalance the student asks for here, or a recovery its worker proposes after missed
hours). A proposal changes nothing until the person it names accepts it, so the page shows
the before → after hours and offers Accept/Decline only where the API says ``can_accept``.
The tutor decides on their progress page (``pages/progress.py``) with the same helpers.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request

from services.web import clients, security
from services.web.pages import progress_view as view
from services.web.pages.tutoring import known_zone, zone_context

bp = Blueprint("plan_pages", __name__)

DECISIONS = ("accept", "decline")
CHECK_ANSWERS = (*view.DAY_STATUSES, "clear")


def plan_page_context(viewer: view.Viewer) -> dict[str, Any]:
    """Everything the plan page shows, read fresh from tutoring."""
    plan_id = viewer.plan_id
    checks = clients.tutoring.checks(viewer.token, plan_id)
    proposals = clients.tutoring.proposals(viewer.token, plan_id)
    progress = clients.tutoring.progress(viewer.token, plan_id)
    return {
        "viewer": viewer,
        "plan": viewer.plan,
        "weeks": view.plan_weeks(viewer.plan, checks, viewer.today),
        "proposals": proposals,
        "open_proposals": view.open_proposals(proposals),
        "proposal_rows": view.proposal_rows,
        "progress": progress,
        "weeks_left": view.weeks_left(viewer.plan.get("exam_date"), viewer.today),
        "adherence": view.adherence_summary(progress.get("adherence"), checks, viewer.today),
        "day_statuses": view.DAY_STATUSES,
        "proposal_statuses": view.PROPOSAL_STATUSES,
        "proposal_kinds": view.PROPOSAL_KINDS,
        "roles": view.ROLES,
    }


def render_plan(
    viewer: view.Viewer,
    *,
    day_errors: dict[str, str] | None = None,
    proposal_errors: dict[str, str] | None = None,
    propose_error: str | None = None,
    status: int = 200,
):
    if not viewer.plan_id:
        return render_template("study_plan.html", viewer=viewer, plan=None, **zone_context())
    return render_template(
        "study_plan.html",
        day_errors=day_errors or {},
        proposal_errors=proposal_errors or {},
        propose_error=propose_error,
        **plan_page_context(viewer),
        **zone_context(),
    ), status


def _message(error: clients.ServiceError, *fields: str) -> str:
    """The API's message for one of ``fields`` (it names the field), else its detail."""
    for name in fields:
        if error.first(name):
            return error.first(name) or ""
    messages = [m for ms in error.errors.values() for m in ms]
    return messages[0] if messages else error.detail


def propose(viewer: view.Viewer) -> tuple[dict | None, str | None, int]:
    """Ask for a rebalance from tomorrow: the proposal, or the message saying why not."""
    try:
        return clients.tutoring.propose(viewer.token, viewer.plan_id, "rebalance"), None, 201
    except clients.ServiceError as error:
        view.passed_on(error)
        return None, _message(error, "kind"), error.status


def proposed_message(proposal: dict) -> str:
    if not proposal.get("fits"):
        return f"This rebalance does not fit: {view.readable(proposal.get('message'))}".strip()
    if proposal.get("can_accept"):
        return "Your rebalance is ready below: look at the hours and accept or decline it."
    who = view.ROLES.get(str(proposal.get("accepter_role")), "your tutor")
    who = "your tutor" if who == "the tutor" else who
    return f"Your rebalance is proposed; {who} decides on it. Nothing changes until then."


def decide(viewer: view.Viewer, proposal_id: str, decision: str) -> tuple[str | None, str, int]:
    """Accept or decline: (the refusal or None, the message for the next page, the status)."""
    if decision not in DECISIONS:
        abort(404)
    try:
        answer = clients.tutoring.decide_proposal(
            viewer.token, viewer.plan_id, proposal_id, decision
        )
    except clients.ServiceError as error:
        view.passed_on(error)
        return _message(error, "status", "proposal", "base_version"), "", error.status
    if decision == "decline":
        return None, "The proposal is declined; the plan stays as it was.", 200
    version = (answer or {}).get("version")
    return None, f"The new plan is in place{f' (version {version})' if version else ''}.", 200


@bp.get("/tutoring/plan")
@security.role_required("student")
def student_plan():
    return render_plan(view.student_viewer(known_zone()))


@bp.post("/tutoring/plan/days/<day>/check")
@security.role_required("student")
def check_day(day: str):
    viewer = view.student_viewer(known_zone())
    view.require_plan(viewer)
    answer = request.form.get("status", "")
    if answer not in CHECK_ANSWERS:
        return render_plan(
            viewer, day_errors={day: "Choose done, partly done or missed."}, status=422
        )
    try:
        if answer == "clear":
            clients.tutoring.clear_check(viewer.token, viewer.plan_id, day)
        else:
            clients.tutoring.check_day(viewer.token, viewer.plan_id, day, answer)
    except clients.ServiceError as error:
        view.passed_on(error)
        message = _message(error, "day", "status")
        return render_plan(viewer, day_errors={day: message}, status=error.status)
    return redirect(viewer.url("plan", _anchor=f"day-{day}"))


@bp.post("/tutoring/plan/proposals")
@security.role_required("student")
def student_propose():
    viewer = view.student_viewer(known_zone())
    view.require_plan(viewer)
    proposal, refusal, status = propose(viewer)
    if refusal:
        return render_plan(viewer, propose_error=refusal, status=status)
    flash(proposed_message(proposal or {}), "success" if (proposal or {}).get("fits") else "info")
    return redirect(viewer.url("plan", _anchor="proposals"))


@bp.post("/tutoring/plan/proposals/<proposal_id>/<decision>")
@security.role_required("student")
def student_decide(proposal_id: str, decision: str):
    viewer = view.student_viewer(known_zone())
    view.require_plan(viewer)
    refusal, message, status = decide(viewer, proposal_id, decision)
    if refusal:
        return render_plan(viewer, proposal_errors={proposal_id: refusal}, status=status)
    flash(message, "success")
    return redirect(viewer.url("plan", _anchor="proposals"))
