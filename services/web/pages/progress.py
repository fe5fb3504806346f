"""Progress: results over time per scale, the estimate for exam day, and per-area change.

The student sees their own (``/tutoring/progress``); their tutor sees the same page for any of
their students' plans (``/tutor/plans/<plan_id>/progress``) with the tutor's actions added:
record a result for the student, propose a rebalance, accept or decline proposals. The
numbers and the estimate come from the tutoring API; this module only arranges them, and the
charts (``pages/charts/``) draw them as SVG with the same numbers in a table beside them.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request

from services.web import clients, security
from services.web.pages import charts
from services.web.pages import progress_view as view
from services.web.pages.study_plan import decide, propose, proposed_message
from services.web.pages.tutor import my_profile, tutor_zone
from services.web.pages.tutoring import known_zone, zone_context

bp = Blueprint("progress_pages", __name__)

RESULT_ROLES = {"student": "Student", "tutor": "Tutor"}


def progress_context(viewer: view.Viewer) -> dict[str, Any]:
    progress = clients.tutoring.progress(viewer.token, viewer.plan_id)
    proposals = clients.tutoring.proposals(viewer.token, viewer.plan_id)
    checks = clients.tutoring.checks(viewer.token, viewer.plan_id)
    return {
        "viewer": viewer,
        "plan": viewer.plan,
        "progress": progress,
        "series": view.chart_series(progress),
        "area_chart": view.area_chart(progress),
        "results": list(reversed(progress.get("results") or [])),
        "weeks_left": view.weeks_left(progress.get("exam_date"), viewer.today),
        "adherence": view.adherence_summary(progress.get("adherence"), checks, viewer.today),
        "proposals": proposals,
        "open_proposals": view.open_proposals(proposals),
        "proposal_rows": view.proposal_rows,
        "proposal_statuses": view.PROPOSAL_STATUSES,
        "proposal_kinds": view.PROPOSAL_KINDS,
        "roles": view.ROLES,
        "result_roles": RESULT_ROLES,
        "marker_symbols": charts.MARKER_SYMBOLS,
    }


def render_progress(
    viewer: view.Viewer,
    *,
    target_errors: dict[str, str] | None = None,
    typed_targets: dict[str, str] | None = None,
    proposal_errors: dict[str, str] | None = None,
    propose_error: str | None = None,
    result_errors: dict[str, str] | None = None,
    status: int = 200,
):
    zone = zone_context() if viewer.role == "student" else {"zone": viewer.zone}
    if not viewer.plan_id:
        return render_template("progress.html", viewer=viewer, plan=None, **zone)
    return render_template(
        "progress.html",
        target_errors=target_errors or {},
        typed_targets=typed_targets or {},
        proposal_errors=proposal_errors or {},
        propose_error=propose_error,
        result_errors=result_errors or {},
        **progress_context(viewer),
        **zone,
    ), status


def tutor_viewer(plan_id: str) -> view.Viewer:
    """The tutor, in their profile's zone, looking at one of their students' plans."""
    token = security.access_token()
    return view.Viewer("tutor", token, tutor_zone(my_profile()), view.tutor_plan(token, plan_id))


def _progress_or_target(viewer: view.Viewer):
    """GET shows the page; POST saves a target. The target form posts to the page itself, so a
    refused target comes back at the page's own address with the error on top and by the box
    (``/tutoring/progress/targets`` stays for older forms)."""
    if request.method == "POST":
        from services.web.pages.results import set_target  # results imports this module

        return set_target(viewer)
    return render_progress(viewer)


@bp.route("/tutoring/progress", methods=["GET", "POST"])
@security.role_required("student")
def student_progress():
    return _progress_or_target(view.student_viewer(known_zone()))


@bp.route("/tutor/plans/<plan_id>/progress", methods=["GET", "POST"])
@security.role_required("tutor")
def tutor_progress(plan_id: str):
    return _progress_or_target(tutor_viewer(plan_id))


@bp.post("/tutor/plans/<plan_id>/proposals")
@security.role_required("tutor")
def tutor_propose(plan_id: str):
    viewer = tutor_viewer(plan_id)
    proposal, refusal, status = propose(viewer)
    if refusal:
        return render_progress(viewer, propose_error=refusal, status=status)
    proposal = proposal or {}
    if not proposal.get("fits"):
        flash(
            f"This rebalance does not fit: {view.readable(proposal.get('message'))}".strip(), "info"
        )
    elif proposal.get("can_accept"):
        flash(
            "The rebalance is ready below: look at the hours and accept or decline it.", "success"
        )
    else:
        flash(proposed_message(proposal).replace("Your rebalance", "The rebalance"), "success")
    return redirect(viewer.url("progress", _anchor="proposals"))


@bp.post("/tutor/plans/<plan_id>/proposals/<proposal_id>/<decision>")
@security.role_required("tutor")
def tutor_decide(plan_id: str, proposal_id: str, decision: str):
    viewer = tutor_viewer(plan_id)
    refusal, message, status = decide(viewer, proposal_id, decision)
    if refusal:
        return render_progress(viewer, proposal_errors={proposal_id: refusal}, status=status)
    flash(message, "success")
    return redirect(viewer.url("progress", _anchor="proposals"))
