"""Recording practice results, fixing a typo in one, and setting a target per scale.

The student records their own results; the tutor can record one for a student (from the
tutor's progress page). Forms are grouped by exam with each form's scale in its label, so a
percent and a three-digit score are never confused; per-area scores are asked only for the
areas of the student's plan. The tutoring API checks every rule (scale, dates, areas) and names
the field it refuses, which the form shows next to that field; the page only refuses what
cannot even be sent (a score that is not a number).
"""

from __future__ import annotations

from itertools import groupby
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request

from services.web import clients, security
from services.web.pages import progress_view as view
from services.web.pages.charts import result_text, score_text
from services.web.pages.forms import Form
from services.web.pages.progress import render_progress, tutor_viewer
from services.web.pages.tutoring import area_label, exam_label, known_zone, zone_context

bp = Blueprint("result_pages", __name__)

RESULT_FIELDS = ("form_id", "taken_on", "score", "area_scores", "note")


def scale_text(form: dict) -> str:
    """A form's scale as a person reads it: ``percent 0-100, passing 60``."""
    scale = form.get("scale")
    if scale == "pass_fail":
        return "pass or fail: enter 1 for pass, 0 for fail"
    low, high = score_text(form.get("scale_min")), score_text(form.get("scale_max"))
    what = "percent" if scale == "percent" else "score"
    text = f"{what} {low} to {high}"
    if form.get("passing_score") is not None:
        text += f", passing {score_text(form.get('passing_score'))}"
    return text


def form_groups(forms: list[dict], exam: str | None) -> list[tuple[str, list[dict]]]:
    """Active forms for the plan's exam, in name order: the API refuses a form for another exam,
    so offering one would only lead to an error (all exams only when the plan names none)."""
    ordered = sorted(
        (f for f in forms if f.get("active", True) and (not exam or f.get("exam") == exam)),
        key=lambda f: (f.get("exam") != exam, str(f.get("exam")), str(f.get("name"))),
    )
    return [
        (exam_label(key), list(group)) for key, group in groupby(ordered, lambda f: f.get("exam"))
    ]


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", "."))
    except ValueError:
        return None


def _area_field(area: str) -> str:
    return f"area-{area}"


def result_form(viewer: view.Viewer) -> Form:
    areas = view.plan_areas(viewer.plan)
    return Form(
        (*RESULT_FIELDS, *(_area_field(a) for a in areas)),
        {"taken_on": viewer.today.isoformat()},
    )


def named_areas(form: Form, areas: list[str]) -> set[str]:
    """The plan areas an ``area_scores`` refusal names (the API puts the area in its message,
    as ``'renal'`` or ``Renal``), so their inputs are marked invalid too."""
    messages = " ".join(form.errors.get("area_scores", []))
    return {
        a
        for a in areas
        if f"'{a}'" in messages or f"“{a}”" in messages or area_label(a) in messages
    }


def render_result_form(viewer: view.Viewer, form: Form, status: int = 200):
    forms = clients.tutoring.assessment_forms(viewer.token)
    context: dict[str, Any] = zone_context() if viewer.role == "student" else {"zone": viewer.zone}
    return render_template(
        "result_new.html",
        viewer=viewer,
        plan=viewer.plan,
        form=form,
        groups=form_groups(forms, viewer.plan.get("exam")),
        scale_text=scale_text,
        plan_areas=view.plan_areas(viewer.plan),
        refused_areas=named_areas(form, view.plan_areas(viewer.plan)),
        **context,
    ), status


def record(viewer: view.Viewer):
    """The result form: GET shows it, POST records the result or shows what to fix."""
    view.require_plan(viewer)
    if request.method == "GET":
        return render_result_form(viewer, result_form(viewer))
    areas = view.plan_areas(viewer.plan)
    form = Form.posted(*RESULT_FIELDS, *(_area_field(a) for a in areas))
    form.require("form_id", "Choose the assessment you took.")
    form.require("taken_on", "Enter the date you took it.")
    score = _number(form["score"])
    if score is None:
        form.add("score", "Enter your score as a number, such as 64 or 231.")
    area_scores: dict[str, float] = {}
    for area in areas:
        typed = form[_area_field(area)]
        if not typed:
            continue
        value = _number(typed.rstrip("%").strip())
        if value is None:
            form.add(_area_field(area), "Enter a percent, such as 58.")
        else:
            area_scores[area] = value
    if not form.ok:
        return render_result_form(viewer, form, 422)
    body: dict[str, Any] = {
        "form_id": form["form_id"],
        "taken_on": form["taken_on"],
        "score": score,
    }
    if area_scores:
        body["area_scores"] = area_scores
    if form["note"]:
        body["note"] = request.form.get("note", "").strip()  # keep the note's own lines
    try:
        result = clients.tutoring.record_result(viewer.token, viewer.plan_id, body)
    except clients.ServiceError as error:
        view.passed_on(error)
        renames = {f"area_scores.{a}": _area_field(a) for a in areas}
        form.take(error, renames=renames)
        return render_result_form(viewer, form, error.status)
    flash(recorded_message(result), "success")
    return redirect(viewer.url("progress"))


def recorded_message(result: dict) -> str:
    score = result_text(result.get("score"), result.get("scale"))
    text = f"Result recorded: {score} on {result.get('form_name', 'the form')}."
    if result.get("below_passing"):
        text += " It is below the passing mark; your progress page shows what you can do next."
    return text


def delete(viewer: view.Viewer, result_id: str):
    view.require_plan(viewer)
    try:
        clients.tutoring.delete_result(viewer.token, viewer.plan_id, result_id)
    except clients.ServiceError as error:
        if error.status in (401, 404):
            raise
        message = error.first("result") or error.detail
        return render_progress(viewer, result_errors={result_id: message}, status=error.status)
    flash("The result is deleted.", "success")
    return redirect(viewer.url("progress", _anchor="results"))


def set_target(viewer: view.Viewer):
    view.require_plan(viewer)
    scale = request.form.get("scale", "")
    typed = request.form.get("target", "").strip()
    score = _number(typed) if typed else None  # empty: back to the forms' usual target
    if typed and score is None:
        return render_progress(
            viewer,
            target_errors={scale: "Enter the target as a number, such as 70."},
            typed_targets={scale: typed},
            status=422,
        )
    try:
        clients.tutoring.set_target(viewer.token, viewer.plan_id, scale, score)
    except clients.ServiceError as error:
        view.passed_on(error)
        message = error.first("score") or error.first("scale") or error.detail
        return render_progress(
            viewer,
            target_errors={scale: message},
            typed_targets={scale: typed},
            status=error.status,
        )
    saved = f"Target saved: {score_text(score)}." if typed else "Back to the usual target."
    flash(saved, "success")
    return redirect(viewer.url("progress", _anchor=f"scale-{scale}"))


def _student() -> view.Viewer:
    return view.student_viewer(known_zone())


@bp.route("/tutoring/plan/results/new", methods=["GET", "POST"])
@security.role_required("student")
def student_new():
    return record(_student())


@bp.route("/tutor/plans/<plan_id>/results/new", methods=["GET", "POST"])
@security.role_required("tutor")
def tutor_new(plan_id: str):
    return record(tutor_viewer(plan_id))


@bp.post("/tutoring/progress/results/<result_id>/delete")
@security.role_required("student")
def student_delete(result_id: str):
    return delete(_student(), result_id)


@bp.post("/tutor/plans/<plan_id>/results/<result_id>/delete")
@security.role_required("tutor")
def tutor_delete(plan_id: str, result_id: str):
    return delete(tutor_viewer(plan_id), result_id)


@bp.post("/tutoring/progress/targets")
@security.role_required("student")
def student_target():
    return set_target(_student())


@bp.post("/tutor/plans/<plan_id>/targets")
@security.role_required("tutor")
def tutor_target(plan_id: str):
    return set_target(tutor_viewer(plan_id))
