"""A tutor's consultations: the outcome, the written assessment, and the study plan it leads to."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for

from services.web import clients, security
from services.web.pages import formatting
from services.web.pages.forms import Form
from services.web.pages.tutor.dashboard import bp, my_profile, refused, tutor_token, tutor_zone
from services.web.pages.tutoring import area_label, plan_weeks
from services.web.pages.tutoring_words import AREAS, EDITABLE_KINDS, FIXED_KINDS

ASSESSMENT_FIELDS = ("strengths", "weaknesses", "goals")
ACTIONS = {
    "complete": "Marked as completed.",
    "no-show": "Marked as a no-show.",
    "cancel": "The consultation is cancelled; the student gets an email.",
}


def _consultation(consultation_id: str) -> dict:
    return clients.tutoring.consultation(tutor_token(), consultation_id)


def blocks_text(blocks: list[dict] | None) -> str:
    """A day's blocks as the editor shows them: ``Anatomy 2, Renal 1.5``."""
    return ", ".join(
        f"{area_label(b.get('area'))} {float(b.get('hours') or 0):g}" for b in blocks or []
    )


def parse_blocks(text: str) -> list[dict] | None:
    """What a tutor typed (``Anatomy 2, renal 1.5h``) as blocks, or None if it can't be read.

    Names that are not areas (the checkpoint's "Self-assessment") pass through as typed; the
    service decides whether they are allowed.
    """
    label_to_area = {label.lower(): slug for slug, label in AREAS.items()}
    blocks = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, _, amount = part.rpartition(" ")
        try:
            hours = float(amount.lower().removesuffix("h"))
        except ValueError:
            return None
        name = name.strip()
        if not name or hours <= 0:
            return None
        area = label_to_area.get(name.lower()) or (name.lower() if name.lower() in AREAS else name)
        blocks.append({"area": area, "hours": hours})
    return blocks


def plan_changes(plan: dict, form: Any) -> tuple[list[dict], list[str]]:
    """The days whose kind or blocks the editor changed, and what could not be read."""
    changes, problems = [], []
    for entry in plan.get("days") or []:
        day = str(entry.get("day"))
        if entry.get("kind") in FIXED_KINDS:
            continue
        kind = form.get(f"kind-{day}", entry.get("kind"))
        typed = form.get(f"blocks-{day}", blocks_text(entry.get("blocks"))).strip()
        change: dict[str, Any] = {}
        if kind != entry.get("kind"):
            if kind not in EDITABLE_KINDS:
                problems.append(f"{formatting.format_date(day)}: choose a kind of day.")
                continue
            change["kind"] = kind
        if typed != blocks_text(entry.get("blocks")):
            blocks = parse_blocks(typed)
            if blocks is None:
                problems.append(
                    f"{formatting.format_date(day)}: write blocks as area and hours, "
                    "such as “Anatomy 2, Renal 1.5”."
                )
                continue
            change["blocks"] = blocks
        if change:
            changes.append({"day": day, **change})
    return changes, problems


def render_consultation(
    consultation_id: str,
    form: Form | None = None,
    plan_problems: list[str] | None = None,
    status: int = 200,
    typed: bool = False,
):
    """The consultation page; ``typed`` keeps the assessment form (with what the tutor typed)
    even where the consultation's state would not offer it, so a refusal never loses text."""
    consultation = _consultation(consultation_id)
    plan = None
    if consultation.get("plan_id"):
        plan = clients.tutoring.plan(tutor_token(), consultation["plan_id"])
    if form is None:
        form = saved_assessment(consultation)
    return render_template(
        "tutor_consultation.html",
        consultation=consultation,
        zone=tutor_zone(my_profile()),
        form=form,
        plan=plan,
        weeks=plan_weeks(plan) if plan else [],
        editable_kinds=EDITABLE_KINDS,
        blocks_text=blocks_text,
        plan_problems=plan_problems or [],
        typed=typed,
    ), status


def saved_assessment(consultation: dict) -> Form:
    """The assessment form as tutoring last saved it (empty before the first save)."""
    assessment = consultation.get("assessment") or {}
    return Form(ASSESSMENT_FIELDS, {f: assessment.get(f) or "" for f in ASSESSMENT_FIELDS})


def _refusal_with_saved_assessment(consultation_id: str, error: clients.ServiceError):
    """The page again with tutoring's refusal, and the assessment as saved (nothing was typed)."""
    form = saved_assessment(_consultation(consultation_id))
    form.take(error)
    return render_consultation(consultation_id, form, status=error.status)


@bp.get("/consultations/<consultation_id>")
@security.role_required("tutor")
def consultation(consultation_id: str):
    return render_consultation(consultation_id)


@bp.get("/consultations/<consultation_id>/cancel")
@security.role_required("tutor")
def cancel_confirm(consultation_id: str):
    """Ask before calling the consultation off: the student is told by email at once.

    A page of its own (not a script's dialog), so it works without JavaScript too.
    """
    consultation = _consultation(consultation_id)
    back = url_for(".consultation", consultation_id=consultation_id)
    return render_template(
        "consultation_cancel.html",
        consultation=consultation,
        zone=tutor_zone(my_profile()),
        other_name=consultation.get("student_name") or "the student",
        consequence="The student gets an email saying so, and the time is free again.",
        action_url=url_for(".act", consultation_id=consultation_id, action="cancel"),
        back_url=back,
        back_label="Back to the consultation",
    )


@bp.post("/consultations/<consultation_id>/<action>")
@security.role_required("tutor")
def act(consultation_id: str, action: str):
    if action not in ACTIONS:
        abort(404)
    body = {"reason": request.form.get("reason", "").strip()} if action == "cancel" else {}
    try:
        clients.tutoring.act(tutor_token(), consultation_id, action, body)
    except clients.ServiceError as error:
        refused(error)
        return _refusal_with_saved_assessment(consultation_id, error)
    flash(ACTIONS[action], "success")
    return redirect(url_for(".consultation", consultation_id=consultation_id))


@bp.post("/consultations/<consultation_id>/assessment")
@security.role_required("tutor")
def assessment(consultation_id: str):
    """Save what the tutor wrote; a held consultation still booked is marked completed first.

    Tutoring keeps an assessment only for a completed consultation, and a tutor writes it
    during or right after the meeting, so the one form does both (the same two calls the
    buttons make). Whatever tutoring refuses, the page comes back with exactly what was typed.
    """
    form = Form.posted(*ASSESSMENT_FIELDS)
    completing = _consultation(consultation_id).get("status") == "booked"
    try:
        if completing:
            clients.tutoring.act(tutor_token(), consultation_id, "complete", {})
        clients.tutoring.save_assessment(
            tutor_token(), consultation_id, {f: form[f] for f in ASSESSMENT_FIELDS}
        )
    except clients.ServiceError as error:
        refused(error)
        form.take(error)
        return render_consultation(consultation_id, form, status=error.status, typed=True)
    flash(
        "Marked as completed; assessment saved." if completing else "Assessment saved.", "success"
    )
    return redirect(url_for(".consultation", consultation_id=consultation_id))


@bp.post("/consultations/<consultation_id>/plan")
@security.role_required("tutor")
def generate_plan(consultation_id: str):
    try:
        clients.tutoring.generate_plan(tutor_token(), consultation_id)
    except clients.ServiceError as error:
        refused(error)
        return _refusal_with_saved_assessment(consultation_id, error)
    flash("Study plan generated. Review it below and adjust any day.", "success")
    return redirect(url_for(".consultation", consultation_id=consultation_id, _anchor="plan"))


@bp.post("/consultations/<consultation_id>/plan/edit")
@security.role_required("tutor")
def edit_plan(consultation_id: str):
    plan_id = _consultation(consultation_id).get("plan_id")
    if not plan_id:
        abort(404, description="This consultation has no study plan yet.")
    plan = clients.tutoring.plan(tutor_token(), plan_id)
    changes, problems = plan_changes(plan, request.form)
    if problems:
        return render_consultation(consultation_id, plan_problems=problems, status=422)
    if not changes:
        flash("Nothing changed in the plan.", "info")
        return redirect(url_for(".consultation", consultation_id=consultation_id, _anchor="plan"))
    try:
        saved = clients.tutoring.edit_plan(tutor_token(), plan_id, changes)
    except clients.ServiceError as error:
        refused(error)
        messages = [m for ms in error.errors.values() for m in ms] or [error.detail]
        return render_consultation(consultation_id, plan_problems=messages, status=error.status)
    flash(f"Plan saved as version {saved.get('version', '')}.".replace(" .", "."), "success")
    return redirect(url_for(".consultation", consultation_id=consultation_id, _anchor="plan"))
