"""Admin: the catalogue of practice assessments results are recorded against.

Forms are data, not code (the migration seeds the usual NBME, UWorld and Free 120 forms and
the official attempts): an admin adds a form when a new one appears, corrects a passing mark,
or deactivates a form nobody should pick any more (results against it stay). The tutoring API
checks the rules (passing and target inside the scale, no change of scale once results exist)
and names the field it refuses; the page shows that message next to the field.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from services.web import clients, security
from services.web.pages.charts import score_text
from services.web.pages.forms import Form
from services.web.pages.tutoring_words import EXAMS

bp = Blueprint("assessment_form_pages", __name__, url_prefix="/admin/assessment-forms")

SCALES = (
    ("percent", "Percent correct"),
    ("three_digit", "Three-digit score"),
    ("pass_fail", "Pass or fail (0 = fail, 1 = pass)"),
)
NUMBERS = (
    ("scale_min", "Enter the lowest score of the scale, such as 0.", True),
    ("scale_max", "Enter the highest score of the scale, such as 100.", True),
    ("passing_score", "Enter the passing score as a number, or leave it empty.", False),
    ("default_target", "Enter the usual target as a number, or leave it empty.", False),
)
FIELDS = ("id", "name", "exam", "scale", *(n for n, _, _ in NUMBERS), "official", "active")


def _token() -> str:
    return security.access_token()


NUMBER_FIELDS = tuple(n for n, _, _ in NUMBERS)
NEW_FORM = {"exam": "step1", "scale": "percent", "scale_min": "0", "scale_max": "100"}


def _form_of(record: dict) -> Form:
    """A saved form as the edit form's values (numbers as people write them)."""
    values = {name: str(record.get(name) or "") for name in FIELDS}
    values.update({name: score_text(record.get(name)) for name in NUMBER_FIELDS})
    values["official"] = "on" if record.get("official") else ""
    values["active"] = "on" if record.get("active", True) else ""
    return Form(FIELDS, values)


def _fields(form: Form) -> dict[str, Any]:
    """What the admin typed, as the API's JSON; problems go next to their fields."""
    form.require("name", "Enter the form's name, such as “NBME 30”.")
    if form["exam"] not in dict(EXAMS):
        form.add("exam", "Choose the exam this form prepares for.")
    if form["scale"] not in dict(SCALES):
        form.add("scale", "Choose the form's scale.")
    fields: dict[str, Any] = {
        "name": form["name"],
        "exam": form["exam"],
        "scale": form["scale"],
        "official": form["official"] == "on",
        "active": form["active"] == "on",
    }
    for name, message, required in NUMBERS:
        text = form[name]
        if not text:
            if required:
                form.add(name, message)
            fields[name] = None
            continue
        try:
            fields[name] = float(text)
        except ValueError:
            form.add(name, message)
    return fields


def _render(forms: list[dict], form: Form, status: int = 200):
    return render_template(
        "admin_assessment_forms.html", forms=forms, form=form, scales=SCALES, status=status
    ), status


def _take(form: Form, error: clients.ServiceError) -> None:
    if error.status in (401, 403, 404):
        raise error
    if error.status == 409 and not error.errors:
        form.add("scale", error.detail)  # the only conflict: results exist on the old scale
    else:
        form.take(error)


@bp.route("", methods=["GET", "POST"])
@security.role_required("admin")
def forms():
    if request.method == "GET":
        return _render(
            clients.tutoring.admin_assessment_forms(_token()),
            Form(
                FIELDS,
                {
                    "exam": "step1",
                    "scale": "percent",
                    "scale_min": "0",
                    "scale_max": "100",
                    "active": "on",
                },
            ),
        )
    form = Form.posted(*FIELDS)
    form.values["active"] = "on"
    fields = _fields(form)
    if form["id"]:
        fields["id"] = form["id"]
    if form.ok:
        try:
            created = clients.tutoring.create_assessment_form(_token(), fields)
        except clients.ServiceError as error:
            _take(form, error)
        else:
            flash(f"{created.get('name', 'The form')} is added.", "success")
            return redirect(url_for(".forms"))
    return _render(
        clients.tutoring.admin_assessment_forms(_token()), form, 422 if form.ok is False else 200
    )


def _one(form_id: str) -> dict:
    for record in clients.tutoring.admin_assessment_forms(_token()):
        if record.get("id") == form_id:
            return record
    abort(404, description="There is no assessment form with that id.")


@bp.route("/<form_id>", methods=["GET", "POST"])
@security.role_required("admin")
def edit(form_id: str):
    record = _one(form_id)
    if request.method == "GET":
        return render_template(
            "admin_assessment_form.html", record=record, form=_form_of(record), scales=SCALES
        )
    form = Form.posted(*FIELDS)
    fields = _fields(form)
    changed = {k: v for k, v in fields.items() if record.get(k) != v}
    if form.ok and changed:
        try:
            clients.tutoring.update_assessment_form(_token(), form_id, changed)
        except clients.ServiceError as error:
            _take(form, error)
    if not form.ok:
        return render_template(
            "admin_assessment_form.html", record=record, form=form, scales=SCALES
        ), 422
    flash(
        f"{fields['name']} is saved." if changed else "Nothing changed.",
        "success" if changed else "info",
    )
    return redirect(url_for(".forms"))


@bp.post("/<form_id>/active")
@security.role_required("admin")
def set_active(form_id: str):
    active = request.form.get("active") == "1"
    try:
        saved = clients.tutoring.update_assessment_form(_token(), form_id, {"active": active})
    except clients.ServiceError as error:
        if error.status in (401, 403, 404):
            raise
        flash(error.detail, "error")
        return redirect(url_for(".forms"))
    name = saved.get("name", "The form")
    flash(
        f"{name} is {'active again' if active else 'deactivated: nobody can pick it for a new result'}.",
        "success",
    )
    return redirect(url_for(".forms"))
