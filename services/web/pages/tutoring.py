"""Tutoring for students: the tutors, a free consultation, their study plan, and paid sessions.

The tutoring service owns tutors, slots, consultations, plans, packages of hours and sessions;
these pages show what it answers in the reader's own time zone and pass their choices on. A
package is paid through the same card checkout as an enrollment (``pages/checkout.py``); the
hours are credited when the payment webhook reaches tutoring, never by the browser. The zone comes from the
browser (``static/timezone.js`` adds ``?tz=``), or from a select when scripts are off; a page
without a usable zone shows UTC and says so.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for

from services.web import clients, security
from services.web.pages import checkout as payment_steps
from services.web.pages import formatting, slot_picker
from services.web.pages.forms import Form
from services.web.pages.tutoring_words import (
    AREAS,
    COMMON_ZONES,
    CONSULTATION_STATUSES,
    DAY_KINDS,
    EXAMS,
    SESSION_STATUSES,
)
from shared.calendar import FEED_CONTENT_TYPE

bp = Blueprint("tutoring_pages", __name__)


INTAKE_FIELDS = ("exam", "exam_date", "attempts", "weekly_hours", "weak_areas")
INTAKE_RENAMES = {f"intake.{name}": name for name in INTAKE_FIELDS}

PASSED_ON = (401, 403, 404)
"""Refusals that are not about the form: the error pages (or a new sign-in) handle them."""


@bp.app_template_filter("area")
def area_label(slug: str | None) -> str:
    return AREAS.get(slug or "", (slug or "").replace("-", " ").capitalize())


@bp.app_template_filter("exam")
def exam_label(slug: str | None) -> str:
    return dict(EXAMS).get(slug or "", (slug or "").upper())


@bp.app_template_filter("consultation_status")
def consultation_status(status: str | None) -> str:
    return CONSULTATION_STATUSES.get(status or "", (status or "").replace("_", " ").capitalize())


@bp.app_template_filter("session_status")
def session_status(status: str | None) -> str:
    return SESSION_STATUSES.get(status or "", (status or "").replace("_", " ").capitalize())


@bp.app_template_filter("hours")
def hours(value: float | int | None) -> str:
    """``1.5`` → ``1.5 h``, ``2.0`` → ``2 h``."""
    number = float(value or 0)
    return f"{number:g} h"


@bp.record_once
def tutoring_globals(state: Any) -> None:
    # Globals, not a context processor: macros imported without context see them too.
    state.app.jinja_env.globals.update(
        day_kinds=DAY_KINDS, areas=AREAS, exams=EXAMS, meeting_started=started
    )


ZONE_COOKIE = formatting.ZONE_COOKIE
known_zone = formatting.known_zone
viewer_zone = formatting.reader_zone


def zone_choices(zone: str) -> list[str]:
    return sorted({*COMMON_ZONES, formatting.canonical_zone(zone)}, key=lambda z: (z != "UTC", z))


def zone_context() -> dict[str, Any]:
    """What every zone-aware page needs: the zone, whether the script should detect it, choices."""
    zone = viewer_zone()
    return {"zone": zone, "detect_zone": known_zone() is None, "zones": zone_choices(zone)}


def plan_weeks(plan: dict) -> list[dict]:
    """The plan as calendar weeks (Monday first): each a row of seven days, None outside it."""
    days: dict[date, dict] = {}
    for entry in plan.get("days") or []:
        try:
            days[date.fromisoformat(str(entry["day"])[:10])] = entry
        except (KeyError, ValueError):
            continue
    if not days:
        return []
    monday = min(days) - timedelta(days=min(days).weekday())
    weeks = []
    while monday <= max(days):
        cells = [
            {"date": monday + timedelta(days=n), "entry": days.get(monday + timedelta(days=n))}
            for n in range(7)
        ]
        weeks.append({"monday": monday, "days": cells})
        monday += timedelta(days=7)
    return weeks


def sorted_by_start(consultations: list[dict], *, latest_first: bool = False) -> list[dict]:
    return sorted(consultations, key=lambda c: str(c.get("starts_at")), reverse=latest_first)


def started(meeting: dict, now: datetime | None = None) -> bool:
    """Whether a consultation or session has begun (its start is now or earlier).

    Only then does tutoring accept its outcome (completed, a no-show, the lesson note), so the
    pages offer those buttons only then; an unreadable start counts as not begun.
    """
    start = formatting.parse_moment(meeting.get("starts_at"))
    return start is not None and start <= (now or datetime.now(UTC))


def by_time(meetings: list[dict], now: datetime | None = None) -> dict[str, list[dict]]:
    """Meetings as a person looks for them: by time, not by state.

    ``upcoming`` (not cancelled, not begun; soonest first), ``past`` (begun, not cancelled,
    whether or not the tutor has recorded it yet; latest first) and ``cancelled`` (latest
    first). A cancelled meeting is never "past" just because it is over, nor a held one
    "upcoming" because of its state.
    """
    now = now or datetime.now(UTC)
    kept = [m for m in meetings if m.get("status") != "cancelled"]
    return {
        "upcoming": sorted_by_start([m for m in kept if not started(m, now)]),
        "past": sorted_by_start([m for m in kept if started(m, now)], latest_first=True),
        "cancelled": sorted_by_start(
            [m for m in meetings if m.get("status") == "cancelled"], latest_first=True
        ),
    }


def _refused(error: clients.ServiceError) -> None:
    if error.status in PASSED_ON:
        raise error


@bp.get("/tutoring")
def tutors():
    return render_template("tutors.html", tutors=clients.tutoring.tutors())


def week_of_slots(
    slots: list[dict], zone_name: str, tutor: dict | None = None
) -> slot_picker.PickerWeek | None:
    """The slot picker's week for this page: the ``week`` or ``day`` the reader asked for.

    The tutor's ``horizon_days`` (how far ahead tutoring books) marks the last week's later
    days as not open yet; without it the last open time stands for the horizon.
    """
    horizon = (tutor or {}).get("horizon_days")
    return slot_picker.pick_week(
        slots,
        zone_name,
        request.args.get("week"),
        request.args.get("day"),
        horizon_days=horizon if isinstance(horizon, int) and horizon > 0 else None,
    )


def best_deal(options: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The package with the largest discount tutoring offers, to mention beside the choices."""
    discounted = [o for o in options if o.get("discount_percent")]
    return max(discounted, key=lambda o: o["discount_percent"]) if discounted else None


def choose_hours_message(options: list[dict[str, Any]]) -> str:
    """``Choose 1, 5 or 10 hours.``: the sizes tutoring sells, as a sentence."""
    sizes = [str(o["hours"]) for o in options]
    if len(sizes) > 1:
        sizes = [", ".join(sizes[:-1]) + " or " + sizes[-1]]
    return f"Choose {sizes[0] if sizes else 'a number of'} hours."


def hours_with(token: str, tutor_id: str) -> int:
    """The student's hours of credit with one tutor."""
    for credit in clients.tutoring.credits(token):
        if credit.get("tutor_id") == tutor_id:
            return int(credit.get("hours_available") or 0)
    return 0


def consulted(token: str, tutor_id: str) -> bool:
    """Whether the student has had their free consultation with this tutor (sessions need one)."""
    return any(
        c.get("tutor_id") == tutor_id and c.get("status") == "completed"
        for c in clients.tutoring.consultations(token)
    )


@bp.get("/tutoring/<tutor_id>")
def tutor(tutor_id: str):
    context = zone_context()
    tutor = clients.tutoring.tutor(tutor_id)
    sessions: dict[str, Any] | None = None
    if security.has_role("student"):
        token = security.access_token()
        if consulted(token, tutor_id):
            credit = hours_with(token, tutor_id)
            slots = clients.tutoring.slots(tutor_id, context["zone"], kind="session")
            options = tutor.get("package_options") or []
            sessions = {
                "credit": credit,
                "options": options,
                "deal": best_deal(options),
                "week": week_of_slots(slots, context["zone"], tutor),
            }
    week = None
    if sessions is None:
        slots = clients.tutoring.slots(tutor_id, context["zone"])
        week = week_of_slots(slots, context["zone"], tutor)
    return render_template(
        "tutor.html",
        tutor=tutor,
        week=week,
        sessions=sessions,
        **context,
    )


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
        _refused(error)
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


def calendar_links(token: str) -> dict[str, str] | None:
    """The student's calendar feed, as https (to copy) and webcal:// (to subscribe in one click)."""
    try:
        url = clients.tutoring.calendar(token).get("url")
    except clients.ServiceError as error:
        _refused_unless_missing(error)
        return None
    if not url:
        return None
    webcal = "webcal://" + url.split("://", 1)[1] if "://" in url else url
    return {"url": url, "webcal": webcal}


def _refused_unless_missing(error: clients.ServiceError) -> None:
    if error.status in (401, 403):
        raise error


def my_plan(token: str) -> dict | None:
    try:
        return clients.tutoring.my_plan(token)
    except clients.ServiceError as error:
        _refused_unless_missing(error)
        return None


def inside_cutoff(session: dict, now: datetime | None = None) -> bool:
    """Whether cancelling this session now would forfeit the hour: tutoring says until when
    it is free (``can_cancel_until``); a session without that moment is treated as late."""
    until = formatting.parse_moment(session.get("can_cancel_until"))
    return until is None or (now or datetime.now(UTC)) >= until


def render_my_tutoring(problems: dict[str, str] | None = None, status: int = 200):
    token = security.access_token()
    consultations = clients.tutoring.consultations(token)
    sessions = clients.tutoring.sessions(token)
    plan = my_plan(token)
    return render_template(
        "my_tutoring.html",
        credits=[c for c in clients.tutoring.credits(token) if c.get("hours_available")],
        sessions=by_time(sessions),
        inside_cutoff=inside_cutoff,
        consultations=by_time(consultations),
        plan=plan,
        weeks=plan_weeks(plan) if plan else [],
        calendar=calendar_links(token),
        problems=problems or {},
        **zone_context(),
    ), status


@bp.get("/my/tutoring")
@security.role_required("student")
def my_tutoring():
    return render_my_tutoring()


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
        _refused(error)
        messages = [m for ms in error.errors.values() for m in ms]
        return render_my_tutoring(
            {consultation_id: messages[0] if messages else error.detail}, error.status
        )
    flash("Your consultation is cancelled. You can book another time whenever you like.", "success")
    return redirect(url_for(".my_tutoring", tz=known_zone()))


# --------------------------------------------------------------------------- packages


def _package(package_id: str) -> dict:
    return clients.tutoring.package(security.access_token(), package_id)


@bp.post("/tutoring/<tutor_id>/packages")
@security.role_required("student")
def buy_hours(tutor_id: str):
    hours = request.form.get("hours", "")
    options = clients.tutoring.tutor(tutor_id).get("package_options") or []
    if not hours.isdigit() or int(hours) not in {o["hours"] for o in options}:
        flash(choose_hours_message(options), "error")
        return redirect(url_for(".tutor", tutor_id=tutor_id, tz=known_zone(), _anchor="hours"))
    try:
        package = clients.tutoring.buy_package(security.access_token(), tutor_id, int(hours))
    except clients.ServiceError as error:
        _refused(error)
        messages = [m for ms in error.errors.values() for m in ms]
        flash(messages[0] if messages else error.detail, "error")
        return redirect(url_for(".tutor", tutor_id=tutor_id, tz=known_zone(), _anchor="hours"))
    if package.get("status") == "paid":
        return redirect(url_for(".package_done", package_id=package["id"]))
    return redirect(url_for(".package_checkout", package_id=package["id"]))


@bp.get("/tutoring/packages/<package_id>/checkout")
@security.role_required("student")
def package_checkout(package_id: str):
    package = _package(package_id)
    if package.get("status") == "paid":
        return redirect(url_for(".package_done", package_id=package_id))
    return render_template(
        "package_checkout.html",
        package=package,
        **payment_steps.page_context(payment_steps.pending_payment(package)),
    )


@bp.post("/tutoring/packages/<package_id>/card")
def package_card(package_id: str):
    return payment_steps.card_step(
        lambda: _package(package_id), "This package can't be paid any more."
    )


@bp.get("/tutoring/packages/<package_id>/done")
@security.role_required("student")
def package_done(package_id: str):
    return render_template("package_done.html", package=_package(package_id))


@bp.get("/tutoring/packages/<package_id>/status")
def package_status(package_id: str):
    return payment_steps.status_answer(lambda: _package(package_id), package_id)


# --------------------------------------------------------------------------- sessions


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
        _refused(error)
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
        _refused(error)
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
        _refused(error)
        messages = [m for ms in error.errors.values() for m in ms]
        return _reschedule_page(session, messages[0] if messages else error.detail, error.status)
    when = formatting.format_datetime(moved.get("starts_at"), viewer_zone())
    flash(f"Your session is moved to {when}. Your calendar updates by itself.", "success")
    return redirect(url_for(".my_tutoring", tz=known_zone()))


@bp.get("/calendar/<feed_token>.ics")
def calendar_feed(feed_token: str) -> Response:
    """The student's calendar feed at the site's public address (the secret is the token)."""
    body = clients.tutoring.calendar_feed(feed_token)
    if body is None:
        abort(404)
    response = Response(body, content_type=FEED_CONTENT_TYPE)
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
