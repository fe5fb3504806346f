"""A student's free consultation: booking it with the intake questions, and calling it off."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from services.web import clients, security
from services.web.pages import formatting
from services.web.pages.forms import Form
from services.web.pages.tutoring.base import bp, known_zone, refused, viewer_zone, zone_context
from services.web.pages.tutoring.my_tutoring import render_my_tutoring
from services.web.pages.tutoring_words import AREAS, EXAMS

INTAKE_FIELDS = ("exam", "exam_date", "attempts", "weekly_hours", "weak_areas")
INTAKE_RENAMES = {f"intake.{name}": name for name in INTAKE_FIELDS}


def _booking_form(tutor_id: str, starts_at: str, form: Form, chosen: list[str], status: int = 200):
    return render_template(
        "tutoring_book.html",
        tutor=clients.tutoring.tutor(tutor_id),
        starts_at=starts_at,
        form=form,
        chosen=chosen,
        conflict=None,
        **zone_context(),
    ), status


def _whole(form: Form, name: str, message: str) -> int | None:
    text = form[name]
    if not text.isdigit():
        form.add(name, message)
        return None
    return int(text)


@bp.route("/tutoring/<tutor_id>/book", methods=["GET", "POST"])
@security.role_required("student")
def book(tutor_id: str):
    starts_at = request.values.get("starts_at", "").strip()
    if formatting.parse_moment(starts_at) is None:
        flash("Choose a time for your consultation first.", "info")
        return redirect(url_for(".tutor", tutor_id=tutor_id, tz=known_zone()))
    if request.method == "GET":
        return _booking_form(tutor_id, starts_at, Form(INTAKE_FIELDS, {"exam": "step1"}), [])
    form = Form.posted(*INTAKE_FIELDS)
    chosen = [a for a in request.form.getlist("weak_areas") if a in AREAS]
    if form["exam"] not in dict(EXAMS):
        form.add("exam", "Choose the exam you are preparing for.")
    form.require("exam_date", "Enter the date of your exam.")
    attempts = _whole(form, "attempts", "Enter how many times you have sat it (0 if never).")
    weekly = _whole(form, "weekly_hours", "Enter the hours a week you can study, such as 25.")
    if not form.ok:
        return _booking_form(tutor_id, starts_at, form, chosen, 422)
    booking = {
        "tutor_id": tutor_id,
        "starts_at": starts_at,
        "time_zone": viewer_zone(),
        "intake": {
            "exam": form["exam"],
            "exam_date": form["exam_date"],
            "attempts": attempts,
            "weekly_hours": weekly,
            "weak_areas": chosen,
        },
    }
    try:
        consultation = clients.tutoring.book(security.access_token(), booking)
    except clients.ServiceError as error:
        refused(error)
        if error.status == 409:
            page = render_template(
                "tutoring_book.html",
                tutor=clients.tutoring.tutor(tutor_id),
                starts_at=starts_at,
                form=form,
                chosen=chosen,
                conflict=error,
                **zone_context(),
            )
            return page, 409
        form.take(error, renames=INTAKE_RENAMES)
        return _booking_form(tutor_id, starts_at, form, chosen, error.status)
    return redirect(url_for(".booked", consultation_id=consultation["id"], tz=known_zone()))


@bp.get("/my/tutoring/consultations/<consultation_id>/booked")
@security.login_required
def booked(consultation_id: str):
    consultation = clients.tutoring.consultation(security.access_token(), consultation_id)
    return render_template("tutoring_booked.html", consultation=consultation, **zone_context())


@bp.get("/my/tutoring/consultations/<consultation_id>/cancel")
@security.role_required("student")
def cancel_confirm(consultation_id: str):
    """Ask before calling the consultation off: the time goes back to other students.

    A page of its own (not a script's dialog), so it works without JavaScript too.
    """
    context = zone_context()
    consultation = clients.tutoring.consultation(security.access_token(), consultation_id)
    back = url_for(".my_tutoring", tz=known_zone())
    return render_template(
        "consultation_cancel.html",
        consultation=consultation,
        other_name=consultation.get("tutor_name") or "your tutor",
        consequence="The time is freed for other students; you can book another one later.",
        action_url=url_for(".cancel", consultation_id=consultation_id, tz=known_zone()),
        back_url=back,
        back_label="My tutoring",
        **context,
    )


@bp.post("/my/tutoring/consultations/<consultation_id>/cancel")
@security.role_required("student")
def cancel(consultation_id: str):
    reason = request.form.get("reason", "").strip()
    try:
        clients.tutoring.act(security.access_token(), consultation_id, "cancel", {"reason": reason})
    except clients.ServiceError as error:
        refused(error)
        messages = [m for ms in error.errors.values() for m in ms]
        return render_my_tutoring(
            {consultation_id: messages[0] if messages else error.detail}, error.status
        )
    flash("Your consultation is cancelled. You can book another time whenever you like.", "success")
    return redirect(url_for(".my_tutoring", tz=known_zone()))
