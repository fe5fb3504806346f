"""Tutoring's progress API: the assessment form catalogue, results on a plan, targets, the
progress page, the tutor's dashboard, and the reflection before a consultation."""

from __future__ import annotations

from typing import Any

from services.tutoring import schemas
from services.tutoring import schemas_progress as s
from services.tutoring.use_cases import assessment_forms, progress_view, reflection, results
from shared import auth
from shared.http import Blueprint, current_uow

progress_blp = Blueprint(
    "tutoring-progress",
    __name__,
    url_prefix="/api",
    description=(
        "Practice assessment forms, results on a study plan, targets, progress and readiness, "
        "the tutor's dashboard, and the reflection after a failed attempt."
    ),
)
progress_admin_blp = Blueprint(
    "tutoring-progress-admin",
    __name__,
    url_prefix="/api/admin",
    description="The assessment form catalogue, for admins.",
)

_uow = current_uow


# --- assessment forms ----------------------------------------------------------------------------


@progress_blp.route("/assessment-forms", methods=["GET"])
@progress_blp.response(200, s.AssessmentFormSchema(many=True))
@progress_blp.alt_response(401, description="No valid access token.")
@auth.require()
def active_forms() -> list[dict[str, Any]]:
    """The forms a result may be recorded on (active ones), by exam."""
    return assessment_forms.active_forms(_uow())


@progress_admin_blp.route("/assessment-forms", methods=["GET"])
@progress_admin_blp.response(200, s.AssessmentFormSchema(many=True))
@progress_admin_blp.alt_response(403, description="Not an admin.")
@auth.require("admin")
def all_forms() -> list[dict[str, Any]]:
    """Every form, retired ones too."""
    return assessment_forms.all_forms(_uow())


@progress_admin_blp.route("/assessment-forms", methods=["POST"])
@progress_admin_blp.arguments(s.AssessmentFormCreateSchema)
@progress_admin_blp.response(201, s.AssessmentFormSchema)
@progress_admin_blp.alt_response(403, description="Not an admin.")
@progress_admin_blp.alt_response(409, description="The `id` or `name` is taken.")
@progress_admin_blp.alt_response(
    422, description="A passing mark or target outside the scale, a scale that is no range."
)
@auth.require("admin")
def create_form(body: dict[str, Any]) -> dict[str, Any]:
    """Add a form to the catalogue (its id is made from the name when not given)."""
    return assessment_forms.create_form(_uow(), body)


@progress_admin_blp.route("/assessment-forms/<form_id>", methods=["PUT"])
@progress_admin_blp.arguments(s.AssessmentFormUpdateSchema)
@progress_admin_blp.response(200, s.AssessmentFormSchema)
@progress_admin_blp.alt_response(403, description="Not an admin.")
@progress_admin_blp.alt_response(404, description="No such form.")
@progress_admin_blp.alt_response(
    409, description="Results use the form, so its scale stays; or the `name` is taken."
)
@progress_admin_blp.alt_response(422, description="A passing mark or target outside the scale.")
@auth.require("admin")
def update_form(body: dict[str, Any], form_id: str) -> dict[str, Any]:
    """Change some fields of a form (deactivate it with `active: false`)."""
    return assessment_forms.update_form(_uow(), form_id, body)


# --- results and targets -------------------------------------------------------------------------


@progress_blp.route("/plans/<plan_id>/results", methods=["POST"])
@progress_blp.arguments(s.ResultCreateSchema)
@progress_blp.response(201, s.ResultSchema)
@progress_blp.alt_response(403, description="Not the plan's student or tutor.")
@progress_blp.alt_response(404, description="No such plan.")
@progress_blp.alt_response(
    422,
    description=(
        "A form not for this plan (`form_id`), a score off the form's scale (`score`), a date "
        "in the future or before the plan (`taken_on`), an area not in the plan (`area_scores`)."
    ),
)
@auth.require("student", "tutor")
def record_result(body: dict[str, Any], plan_id: str) -> dict[str, Any]:
    """Record a practice assessment result on the plan (the student or their tutor)."""
    return results.record_result(_uow(), auth.current_principal(), plan_id, body)


@progress_blp.route("/plans/<plan_id>/results", methods=["GET"])
@progress_blp.response(200, s.ResultSchema(many=True))
@progress_blp.alt_response(403, description="Someone else's plan.")
@progress_blp.alt_response(404, description="No such plan.")
@auth.require()
def list_results(plan_id: str) -> list[dict[str, Any]]:
    """The plan's results, oldest first."""
    return results.list_results(_uow(), auth.current_principal(), plan_id)


@progress_blp.route("/plans/<plan_id>/results/<result_id>", methods=["DELETE"])
@progress_blp.response(204)
@progress_blp.alt_response(403, description="Neither who recorded it nor the tutor.")
@progress_blp.alt_response(404, description="No such plan or result.")
@auth.require("student", "tutor")
def delete_result(plan_id: str, result_id: str) -> None:
    """Take a mistyped result back (whoever recorded it, or the tutor)."""
    results.delete_result(_uow(), auth.current_principal(), plan_id, result_id)


@progress_blp.route("/plans/<plan_id>/targets", methods=["PUT"])
@progress_blp.arguments(s.TargetSchema)
@progress_blp.response(200, s.ProgressSchema)
@progress_blp.alt_response(403, description="Not the plan's student or tutor.")
@progress_blp.alt_response(404, description="No such plan.")
@progress_blp.alt_response(422, description="A `scale` with no forms, a `score` off the scale.")
@auth.require("student", "tutor")
def set_target(body: dict[str, Any], plan_id: str) -> dict[str, Any]:
    """Set (or clear, with `score: null`) the student's target on a scale; returns progress."""
    principal = auth.current_principal()
    results.set_target(_uow(), principal, plan_id, body["scale"], body["score"])
    return progress_view.plan_progress(_uow(), principal, plan_id)


# --- progress and the tutor's dashboard ----------------------------------------------------------


@progress_blp.route("/plans/tutoring", methods=["GET"])
@progress_blp.response(200, s.DashboardRowSchema(many=True))
@progress_blp.alt_response(403, description="Not a tutor.")
@auth.require("tutor")
def tutor_dashboard() -> list[dict[str, Any]]:
    """My students' plans, newest first: missing results, readiness, open proposals."""
    return progress_view.tutor_dashboard(_uow(), auth.current_principal())


@progress_blp.route("/plans/<plan_id>/progress", methods=["GET"])
@progress_blp.response(200, s.ProgressSchema)
@progress_blp.alt_response(403, description="Someone else's plan.")
@progress_blp.alt_response(404, description="No such plan.")
@auth.require()
def plan_progress(plan_id: str) -> dict[str, Any]:
    """Results charted per scale with the estimate, per-area change, missing checkpoints,
    readiness and the last week's adherence (the plan's student, its tutor or an admin)."""
    return progress_view.plan_progress(_uow(), auth.current_principal(), plan_id)


# --- reflection ----------------------------------------------------------------------------------


@progress_blp.route("/consultations/<consultation_id>/reflection", methods=["PUT"])
@progress_blp.arguments(s.ReflectionUpdateSchema)
@progress_blp.response(200, schemas.ConsultationSchema)
@progress_blp.alt_response(403, description="Not its student.")
@progress_blp.alt_response(404, description="No such consultation.")
@progress_blp.alt_response(409, description="The consultation is not booked any more.")
@progress_blp.alt_response(422, description="Every answer blank (`schedule`).")
@auth.require("student")
def write_reflection(body: dict[str, Any], consultation_id: str) -> dict[str, Any]:
    """What went wrong last time (schedule, resources, exam anxiety, timing, other), written
    before the consultation so the tutor reads it with the intake."""
    return reflection.write_reflection(_uow(), auth.current_principal(), consultation_id, body)
