"""A tutor's paid sessions: completing one with its lesson note, or cancelling it."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for

from services.web import clients, security
from services.web.pages.forms import Form
from services.web.pages.tutor.dashboard import bp, my_profile, refused, tutor_token, tutor_zone

SESSION_FIELDS = ("lesson_note", "reason")


def render_session(session_id: str, form: Form | None = None, status: int = 200):
    return render_template(
        "tutor_session.html",
        booking=clients.tutoring.tutoring_session(tutor_token(), session_id),
        zone=tutor_zone(my_profile()),
        form=form or Form(SESSION_FIELDS),
    ), status


@bp.get("/sessions/<session_id>")
@security.role_required("tutor")
def session(session_id: str):
    return render_session(session_id)


@bp.post("/sessions/<session_id>/complete")
@security.role_required("tutor")
def complete_session(session_id: str):
    form = Form.posted(*SESSION_FIELDS)
    form.require("lesson_note", "Write the lesson note the student will receive.")
    if not form.ok:
        return render_session(session_id, form, 422)
    try:
        clients.tutoring.act_on_session(
            tutor_token(), session_id, "complete", {"lesson_note": form["lesson_note"]}
        )
    except clients.ServiceError as error:
        refused(error)
        form.take(error)
        return render_session(session_id, form, error.status)
    flash("Session completed; the lesson note is on its way to the student.", "success")
    return redirect(url_for(".session", session_id=session_id))


@bp.post("/sessions/<session_id>/cancel")
@security.role_required("tutor")
def cancel_session(session_id: str):
    form = Form.posted(*SESSION_FIELDS)
    try:
        clients.tutoring.act_on_session(
            tutor_token(), session_id, "cancel", {"reason": form["reason"]}
        )
    except clients.ServiceError as error:
        refused(error)
        form.take(error)
        return render_session(session_id, form, error.status)
    flash("The session is cancelled; the student gets the hour back and an email.", "success")
    return redirect(url_for(".session", session_id=session_id))
