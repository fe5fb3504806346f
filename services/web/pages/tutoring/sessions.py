"""Paid sessions: booking one with credit, then cancelling or moving it from My tutoring."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from services.web import clients, security
from services.web.pages import formatting
from services.web.pages.tutoring.base import bp, known_zone, refused, viewer_zone, zone_context
from services.web.pages.tutoring.my_tutoring import render_my_tutoring
from services.web.pages.tutoring.tutors import hours_with, week_of_slots


def _session_form(tutor_id: str, starts_at: str, conflict: str | None = None, status: int = 200):
    tutor = clients.tutoring.tutor(tutor_id)
    credit = hours_with(security.access_token(), tutor_id)
    return render_template(
        "session_book.html",
        tutor=tutor,
        starts_at=starts_at,
        credit=credit,
        conflict=conflict,
        **zone_context(),
    ), status


@bp.route("/tutoring/<tutor_id>/sessions/book", methods=["GET", "POST"])
@security.role_required("student")
def book_session(tutor_id: str):
    starts_at = request.values.get("starts_at", "").strip()
    if formatting.parse_moment(starts_at) is None:
        flash("Choose a time for your session first.", "info")
        return redirect(url_for(".tutor", tutor_id=tutor_id, tz=known_zone(), _anchor="sessions"))
    if request.method == "GET":
        return _session_form(tutor_id, starts_at)
    try:
        session = clients.tutoring.book_session(
            security.access_token(), tutor_id, starts_at, viewer_zone()
        )
    except clients.ServiceError as error:
        refused(error)
        messages = [m for ms in error.errors.values() for m in ms]
        return _session_form(
            tutor_id, starts_at, messages[0] if messages else error.detail, error.status
        )
    return redirect(url_for(".session_booked", session_id=session["id"], tz=known_zone()))


@bp.get("/my/tutoring/sessions/<session_id>/booked")
@security.role_required("student")
def session_booked(session_id: str):
    session = clients.tutoring.tutoring_session(security.access_token(), session_id)
    return render_template("session_booked.html", booking=session, **zone_context())


@bp.post("/my/tutoring/sessions/<session_id>/cancel")
@security.role_required("student")
def cancel_session(session_id: str):
    reason = request.form.get("reason", "").strip()
    try:
        session = clients.tutoring.act_on_session(
            security.access_token(), session_id, "cancel", {"reason": reason}
        )
    except clients.ServiceError as error:
        refused(error)
        messages = [m for ms in error.errors.values() for m in ms]
        return render_my_tutoring(
            {session_id: messages[0] if messages else error.detail}, error.status
        )
    if session.get("credit_returned"):
        flash("Your session is cancelled and the hour is back in your credit.", "success")
    else:
        flash(
            "Your session is cancelled. It was less than 24 hours away, so the hour is used.",
            "info",
        )
    return redirect(url_for(".my_tutoring", tz=known_zone()))


def _reschedule_page(session: dict, problem: str | None = None, status: int = 200):
    context = zone_context()
    slots = clients.tutoring.slots(session["tutor_id"], context["zone"], kind="session")
    return render_template(
        "session_reschedule.html",
        booking=session,
        week=week_of_slots(slots, context["zone"]),
        problem=problem,
        **context,
    ), status


@bp.route("/my/tutoring/sessions/<session_id>/reschedule", methods=["GET", "POST"])
@security.role_required("student")
def reschedule_session(session_id: str):
    token = security.access_token()
    session = clients.tutoring.tutoring_session(token, session_id)
    if session.get("status") != "booked":
        abort(404, description="Only a booked session can be moved.")
    if request.method == "GET":
        return _reschedule_page(session)
    starts_at = request.form.get("starts_at", "").strip()
    if formatting.parse_moment(starts_at) is None:
        return _reschedule_page(session, "Choose the new time for your session.", 422)
    try:
        moved = clients.tutoring.act_on_session(
            token, session_id, "reschedule", {"starts_at": starts_at}
        )
    except clients.ServiceError as error:
        refused(error)
        messages = [m for ms in error.errors.values() for m in ms]
        return _reschedule_page(session, messages[0] if messages else error.detail, error.status)
    when = formatting.format_datetime(moved.get("starts_at"), viewer_zone())
    flash(f"Your session is moved to {when}. Your calendar updates by itself.", "success")
    return redirect(url_for(".my_tutoring", tz=known_zone()))
