"""Tutoring's plan tracking API: day checks (also by signed email links) and proposed plan
versions. Request in, use case, response out."""

from __future__ import annotations

from typing import Any

from services.tutoring import schemas, schemas_tracking
from services.tutoring.use_cases import day_checks, proposals
from shared import auth
from shared.http import Blueprint, current_uow

blp = Blueprint(
    "tutoring-tracking",
    __name__,
    url_prefix="/api",
    description="Checking off study plan days, and proposed new plan versions.",
)


# --- day checks ----------------------------------------------------------------------------------


@blp.route("/plans/<plan_id>/days/<day>/check", methods=["PUT"])
@blp.arguments(schemas_tracking.DayCheckSchema)
@blp.response(200, schemas_tracking.DayCheckedSchema)
@blp.alt_response(403, description="Not the plan's student.")
@blp.alt_response(404, description="No such plan.")
@blp.alt_response(
    422, description="`day` is not a day of the plan, has not come yet, or has no work."
)
@auth.require("student")
def check_day(body: dict[str, Any], plan_id: str, day: str) -> dict[str, Any]:
    """Mark a day done, partly done or missed (today or before; again replaces it)."""
    return day_checks.check_day(
        current_uow(), auth.current_principal(), plan_id, day, body["status"]
    )


@blp.route("/plans/<plan_id>/days/<day>/check", methods=["DELETE"])
@blp.response(204)
@blp.alt_response(403, description="Not the plan's student.")
@blp.alt_response(404, description="No such plan.")
@blp.alt_response(422, description="`day` is not a date.")
@auth.require("student")
def clear_day(plan_id: str, day: str) -> None:
    """Take a day's answer back (nothing to take back is fine)."""
    day_checks.clear_day(current_uow(), auth.current_principal(), plan_id, day)


@blp.route("/plans/<plan_id>/checks", methods=["GET"])
@blp.response(200, schemas_tracking.PlanDayCheckSchema(many=True))
@blp.alt_response(403, description="Someone else's plan.")
@blp.alt_response(404, description="No such plan.")
@auth.require()
def list_checks(plan_id: str) -> list[dict[str, Any]]:
    """The student's answers, by day (the student, their tutor or an admin)."""
    return day_checks.list_checks(current_uow(), auth.current_principal(), plan_id)


@blp.route("/plan-checks", methods=["POST"])
@blp.arguments(schemas_tracking.CheckLinkSchema)
@blp.response(200, schemas_tracking.CheckLinkViewSchema)
@blp.alt_response(404, description="Not a link we sent (`token`).")
@blp.alt_response(410, description="The link expired (`token`).")
@blp.alt_response(422, description="The day cannot be checked any more (`day`).")
@auth.public()
def use_check_link(body: dict[str, Any]) -> dict[str, Any]:
    """Record the answer of a one-click link from the weekly email (the token is the
    authority: no sign-in)."""
    return day_checks.use_check_link(current_uow(), body["token"])


@blp.route("/plan-checks/<token>", methods=["GET"])
@blp.response(200, schemas_tracking.CheckLinkViewSchema)
@blp.alt_response(404, description="Not a link we sent (`token`).")
@blp.alt_response(410, description="The link expired (`token`).")
@blp.alt_response(422, description="The day cannot be checked any more (`day`).")
@auth.public()
def open_check_link(token: str) -> dict[str, Any]:
    """What the link would record, changing nothing (mail scanners follow links)."""
    return day_checks.open_check_link(current_uow(), token)


# --- proposals -----------------------------------------------------------------------------------


@blp.route("/plans/<plan_id>/proposals", methods=["POST"])
@blp.arguments(schemas_tracking.ProposalCreateSchema)
@blp.response(201, schemas_tracking.ProposalSchema)
@blp.alt_response(403, description="Not the plan's student or tutor.")
@blp.alt_response(404, description="No such plan.")
@blp.alt_response(409, description="Another proposal was made at the same moment.")
@blp.alt_response(422, description="No result with per-area scores yet (`kind`).")
@auth.require("student", "tutor")
def propose(body: dict[str, Any], plan_id: str) -> dict[str, Any]:
    """Propose a new version: the hours from tomorrow shared out by the latest per-area
    scores. It supersedes the open proposal of the same kind; nothing changes until the
    tutor accepts it."""
    return proposals.propose_rebalance(
        current_uow(), auth.current_principal(), plan_id, body["kind"]
    )


@blp.route("/plans/<plan_id>/proposals", methods=["GET"])
@blp.response(200, schemas_tracking.ProposalSchema(many=True))
@blp.alt_response(403, description="Someone else's plan.")
@blp.alt_response(404, description="No such plan.")
@auth.require()
def list_proposals(plan_id: str) -> list[dict[str, Any]]:
    """The plan's proposals, newest first."""
    return proposals.list_proposals(current_uow(), auth.current_principal(), plan_id)


@blp.route("/plans/<plan_id>/proposals/<proposal_id>/accept", methods=["POST"])
@blp.arguments(schemas.EmptySchema)
@blp.response(200, schemas.PlanSchema)
@blp.alt_response(403, description="Not the one who accepts (the plan's tutor).")
@blp.alt_response(404, description="No such plan or proposal.")
@blp.alt_response(409, description="Not open any more, does not fit, or the plan changed since.")
@auth.require("student", "tutor")
def accept(_body: dict[str, Any], plan_id: str, proposal_id: str) -> dict[str, Any]:
    """Publish the proposal as the plan's next version; returns the new plan."""
    return proposals.accept(current_uow(), auth.current_principal(), plan_id, proposal_id)


@blp.route("/plans/<plan_id>/proposals/<proposal_id>/decline", methods=["POST"])
@blp.arguments(schemas.EmptySchema)
@blp.response(200, schemas_tracking.ProposalSchema)
@blp.alt_response(403, description="Not the plan's student or tutor.")
@blp.alt_response(404, description="No such plan or proposal.")
@blp.alt_response(409, description="Not open any more.")
@auth.require("student", "tutor")
def decline(_body: dict[str, Any], plan_id: str, proposal_id: str) -> dict[str, Any]:
    """Say no to a proposal (the plan stays as it is)."""
    return proposals.decline(current_uow(), auth.current_principal(), plan_id, proposal_id)
