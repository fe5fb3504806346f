"""The reflection a student writes before a consultation after an attempt that did not pass.

Asked only when the consultation says ``reflection_asked`` (the intake counts an earlier
attempt): five short answers about the schedule, the resources, exam anxiety, timing and
anything else, which the tutor reads with the intake before the consultation. The student can
change it while the consultation is booked; the tutoring API enforces that and the limits.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from services.web import clients, security
from services.web.pages.forms import Form
from services.web.pages.tutoring import known_zone, zone_context

bp = Blueprint("reflection_pages", __name__)

QUESTIONS = (
    ("schedule", "Your schedule", "How did your study schedule go? What got in the way?"),
    ("resources", "Resources", "Which question banks, books and videos did you use, and how?"),
    ("exam_anxiety", "Exam anxiety", "How did nerves affect your preparation or the exam day?"),
    ("timing", "Timing", "Did you run short of time in blocks, or pace too fast?"),
    ("other", "Anything else", "Anything else your tutor should know."),
)
FIELDS = tuple(name for name, _, _ in QUESTIONS)
MAX_LENGTH = 2000


def _render(consultation: dict, form: Form, status: int = 200):
    return render_template(
        "reflection.html",
        consultation=consultation,
        form=form,
        questions=QUESTIONS,
        max_length=MAX_LENGTH,
        **zone_context(),
    ), status


@bp.route("/tutoring/consultations/<consultation_id>/reflection", methods=["GET", "POST"])
@security.role_required("student")
def reflection(consultation_id: str):
    token = security.access_token()
    consultation = clients.tutoring.consultation(token, consultation_id)
    if not consultation.get("reflection_asked"):
        abort(404, description="This consultation does not ask for a reflection.")
    if request.method == "GET":
        saved = consultation.get("reflection") or {}
        return _render(consultation, Form(FIELDS, {f: saved.get(f) or "" for f in FIELDS}))
    form = Form(FIELDS, {f: request.form.get(f, "").strip() for f in FIELDS})
    if not any(form.values.values()):
        form.summary.append("Answer at least one question; leave the others empty if you like.")
        return _render(consultation, form, 422)
    try:
        clients.tutoring.save_reflection(token, consultation_id, form.values)
    except clients.ServiceError as error:
        if error.status in (401, 403, 404):
            raise
        form.take(error)
        return _render(consultation, form, error.status)
    flash("Your reflection is saved; your tutor will read it before your consultation.", "success")
    return redirect(
        url_for(
            "tutoring_pages.my_tutoring",
            tz=known_zone(),
            _anchor=f"consultation-{consultation_id}",
        )
    )
