"""Tutors' own pages: the dashboard, profile, weekly availability, consultations and sessions.

Everything is shown in the tutor's own time zone (from their profile), since that is the clock
they keep their hours by; the tutoring service stores UTC and applies every rule. Availability
is edited as a whole (weekly windows and date overrides go back in one PUT), so the page first
reads what is saved and changes only what the form names.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from services.web import clients, security
from services.web.pages import formatting
from services.web.pages.forms import Form
from services.web.pages.tutoring import area_label, by_time, plan_weeks, zone_choices
from services.web.pages.tutoring_words import AREAS, EDITABLE_KINDS, EXAMS, FIXED_KINDS

bp = Blueprint("tutor_pages", __name__, url_prefix="/tutor")

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WINDOWS_PER_DAY = 2
PROFILE_FIELDS = ("bio", "exams", "time_zone", "rate", "currency", "photo_url")
PROFILE_RENAMES = {"session_rate_minor": "rate"}
ASSESSMENT_FIELDS = ("strengths", "weaknesses", "goals")
ACTIONS = {
    "complete": "Marked as completed.",
    "no-show": "Marked as a no-show.",
    "cancel": "The consultation is cancelled; the student gets an email.",
}


def _token() -> str:
    return security.access_token()


def _refused(error: clients.ServiceError) -> None:
    if error.status in (401, 403, 404):
        raise error


def my_profile() -> dict | None:
    """The signed-in tutor's public profile (their tutor id is their user id), if they have one."""
    user = security.current_user() or {}
    try:
        return clients.tutoring.tutor(str(user.get("id")))
    except clients.ServiceError as error:
        if error.status == 404:
            return None
        raise


def tutor_zone(profile: dict | None) -> str:
    zone = (profile or {}).get("time_zone") or ""
    return formatting.canonical_zone(zone) if formatting.zone_or_none(zone) else "UTC"


@bp.get("")
@security.role_required("tutor")
def dashboard():
    profile = my_profile()
    consultations = clients.tutoring.consultations(_token())
    sessions = clients.tutoring.sessions(_token())
    return render_template(
        "tutor_dashboard.html",
        profile=profile,
        zone=tutor_zone(profile),
        plans=clients.tutoring.tutoring_plans(_token()),
        sessions=_latest(by_time(sessions)),
        consultations=_latest(by_time(consultations)),
    )


RECENT = 20
"""Past and cancelled meetings the dashboard lists (latest first); upcoming ones are all shown."""


def _latest(split: dict[str, list[dict]]) -> dict[str, list[dict]]:
    return {**split, "past": split["past"][:RECENT], "cancelled": split["cancelled"][:RECENT]}


# --------------------------------------------------------------------------- profile


def _profile_form(profile: dict | None) -> Form:
    profile = profile or {}
    currency = profile.get("currency") or "USD"
    return Form(
        PROFILE_FIELDS,
        {
            "bio": profile.get("bio") or "",
            "exams": ",".join(profile.get("exams") or []),
            "time_zone": profile.get("time_zone") or "UTC",
            "rate": formatting.major_units(profile.get("session_rate_minor"), currency),
            "currency": currency,
            "photo_url": profile.get("photo_url") or "",
        },
    )


@bp.route("/profile", methods=["GET", "POST"])
@security.role_required("tutor")
def profile():
    form = _profile_form(my_profile())
    status = 200
    if request.method == "POST":
        form = Form.posted(*PROFILE_FIELDS)
        exams = [e for e in request.form.getlist("exams") if e in dict(EXAMS)]
        form.values["exams"] = ",".join(exams)
        form.require("bio", "Tell students about your teaching in a few sentences.")
        if not exams:
            form.add("exams", "Choose the exams you tutor for.")
        if formatting.zone_or_none(form["time_zone"]) is None:
            form.add("time_zone", "Choose your time zone.")
        currency = form["currency"].upper()
        if len(currency) != 3 or not currency.isalpha():
            form.add("currency", "Enter a three-letter currency code such as USD.")
        rate = formatting.to_minor(form["rate"], currency)
        if rate is None:
            form.add("rate", "Enter your rate per session as a number, such as 120.")
        status = 422
        if form.ok:
            fields = {
                "bio": form["bio"],
                "exams": exams,
                "time_zone": form["time_zone"],
                "session_rate_minor": rate,
                "currency": currency,
                "photo_url": form["photo_url"] or None,
            }
            try:
                clients.tutoring.save_profile(_token(), fields)
            except clients.ServiceError as error:
                _refused(error)
                form.take(error, renames=PROFILE_RENAMES)
                status = error.status
            else:
                flash("Your profile is saved.", "success")
                return redirect(url_for(".profile"))
    return render_template(
        "tutor_profile.html", form=form, zones=zone_choices(form["time_zone"] or "UTC")
    ), status


# --------------------------------------------------------------------------- availability


def _windows(prefix: str, form: Form) -> list[dict[str, str]]:
    """Up to two start/end pairs named ``<prefix>_<n>_start``; a half-filled pair is an error."""
    windows = []
    for n in range(WINDOWS_PER_DAY):
        start = request.form.get(f"{prefix}_{n}_start", "").strip()
        end = request.form.get(f"{prefix}_{n}_end", "").strip()
        if start and end:
            windows.append({"start": start, "end": end})
        elif start or end:
            form.add(f"{prefix}_{n}", "Enter both the start and the end of the window.")
    return windows


def _render_availability(availability: dict, form: Form | None = None, status: int = 200):
    profile = my_profile()
    zone = tutor_zone(profile)
    weekly = availability.get("weekly") or []
    by_day = {
        day: [w for w in weekly if w.get("weekday") == day][:WINDOWS_PER_DAY] for day in range(7)
    }
    overrides = sorted(availability.get("overrides") or [], key=lambda o: str(o.get("day")))
    time_off = sorted(availability.get("time_off") or [], key=lambda t: str(t.get("starts_at")))
    return render_template(
        "tutor_availability.html",
        weekdays=WEEKDAYS,
        by_day=by_day,
        slots_per_day=WINDOWS_PER_DAY,
        overrides=overrides,
        time_off=time_off,
        zone=zone,
        form=form or Form(()),
    ), status


def _save_availability(availability: dict, success: str, form: Form):
    body = {
        "weekly": availability.get("weekly") or [],
        "overrides": availability.get("overrides") or [],
    }
    try:
        clients.tutoring.save_availability(_token(), body)
    except clients.ServiceError as error:
        _refused(error)
        form.take(error)
        return _render_availability(availability, form, error.status)
    flash(success, "success")
    return redirect(url_for(".availability"))


@bp.get("/availability")
@security.role_required("tutor")
def availability():
    return _render_availability(clients.tutoring.availability(_token()))


@bp.post("/availability/weekly")
@security.role_required("tutor")
def save_weekly():
    current = clients.tutoring.availability(_token())
    form = Form(())
    weekly = []
    for day in range(7):
        weekly += [{"weekday": day, **w} for w in _windows(f"w{day}", form)]
    changed = {**current, "weekly": weekly}
    if not form.ok:
        return _render_availability(changed, form, 422)
    return _save_availability(changed, "Your weekly hours are saved.", form)


@bp.post("/availability/overrides")
@security.role_required("tutor")
def add_override():
    current = clients.tutoring.availability(_token())
    form = Form(())
    day = request.form.get("day", "").strip()
    try:
        day = datetime.strptime(day, "%Y-%m-%d").date().isoformat()
    except ValueError:
        form.add("day", "Choose the date these hours replace.")
    windows = _windows("o", form)
    if not form.ok:
        return _render_availability(current, form, 422)
    overrides = [o for o in current.get("overrides") or [] if o.get("day") != day]
    overrides.append({"day": day, "windows": windows})
    what = "no hours" if not windows else "these hours"
    return _save_availability(
        {**current, "overrides": overrides},
        f"{formatting.format_date(day)} now has {what} instead of your weekly ones.",
        form,
    )


@bp.post("/availability/overrides/<day>/remove")
@security.role_required("tutor")
def remove_override(day: str):
    current = clients.tutoring.availability(_token())
    overrides = [o for o in current.get("overrides") or [] if o.get("day") != day]
    return _save_availability(
        {**current, "overrides": overrides},
        f"{formatting.format_date(day)} follows your weekly hours again.",
        Form(()),
    )


def _utc(local: str, zone: str) -> str | None:
    """A ``datetime-local`` value read on the tutor's clock, as a UTC ISO timestamp."""
    try:
        moment = datetime.fromisoformat(local)
    except ValueError:
        return None
    where = formatting.zone_or_none(zone)
    return moment.replace(tzinfo=where).astimezone(UTC).isoformat()


@bp.post("/time-off")
@security.role_required("tutor")
def add_time_off():
    zone = tutor_zone(my_profile())
    form = Form(("time_off",))
    starts_at = _utc(request.form.get("starts_at", "").strip(), zone)
    ends_at = _utc(request.form.get("ends_at", "").strip(), zone)
    if starts_at is None or ends_at is None:
        form.add("time_off", "Enter when your time off starts and ends.")
    else:
        try:
            clients.tutoring.add_time_off(_token(), starts_at, ends_at)
        except clients.ServiceError as error:
            _refused(error)
            form.take(error)
        else:
            flash("Your time off is saved; students can't book it.", "success")
            return redirect(url_for(".availability"))
    return _render_availability(clients.tutoring.availability(_token()), form, 422)


@bp.post("/time-off/<time_off_id>/remove")
@security.role_required("tutor")
def remove_time_off(time_off_id: str):
    clients.tutoring.remove_time_off(_token(), time_off_id)
    flash("That time off is removed.", "success")
    return redirect(url_for(".availability"))


# --------------------------------------------------------------------------- consultations


def _consultation(consultation_id: str) -> dict:
    return clients.tutoring.consultation(_token(), consultation_id)


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
        plan = clients.tutoring.plan(_token(), consultation["plan_id"])
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
        clients.tutoring.act(_token(), consultation_id, action, body)
    except clients.ServiceError as error:
        _refused(error)
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
            clients.tutoring.act(_token(), consultation_id, "complete", {})
        clients.tutoring.save_assessment(
            _token(), consultation_id, {f: form[f] for f in ASSESSMENT_FIELDS}
        )
    except clients.ServiceError as error:
        _refused(error)
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
        clients.tutoring.generate_plan(_token(), consultation_id)
    except clients.ServiceError as error:
        _refused(error)
        return _refusal_with_saved_assessment(consultation_id, error)
    flash("Study plan generated. Review it below and adjust any day.", "success")
    return redirect(url_for(".consultation", consultation_id=consultation_id, _anchor="plan"))


@bp.post("/consultations/<consultation_id>/plan/edit")
@security.role_required("tutor")
def edit_plan(consultation_id: str):
    plan_id = _consultation(consultation_id).get("plan_id")
    if not plan_id:
        abort(404, description="This consultation has no study plan yet.")
    plan = clients.tutoring.plan(_token(), plan_id)
    changes, problems = plan_changes(plan, request.form)
    if problems:
        return render_consultation(consultation_id, plan_problems=problems, status=422)
    if not changes:
        flash("Nothing changed in the plan.", "info")
        return redirect(url_for(".consultation", consultation_id=consultation_id, _anchor="plan"))
    try:
        saved = clients.tutoring.edit_plan(_token(), plan_id, changes)
    except clients.ServiceError as error:
        _refused(error)
        messages = [m for ms in error.errors.values() for m in ms] or [error.detail]
        return render_consultation(consultation_id, plan_problems=messages, status=error.status)
    flash(f"Plan saved as version {saved.get('version', '')}.".replace(" .", "."), "success")
    return redirect(url_for(".consultation", consultation_id=consultation_id, _anchor="plan"))


# --------------------------------------------------------------------------- sessions

SESSION_FIELDS = ("lesson_note", "reason")


def render_session(session_id: str, form: Form | None = None, status: int = 200):
    return render_template(
        "tutor_session.html",
        booking=clients.tutoring.tutoring_session(_token(), session_id),
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
            _token(), session_id, "complete", {"lesson_note": form["lesson_note"]}
        )
    except clients.ServiceError as error:
        _refused(error)
        form.take(error)
        return render_session(session_id, form, error.status)
    flash("Session completed; the lesson note is on its way to the student.", "success")
    return redirect(url_for(".session", session_id=session_id))


@bp.post("/sessions/<session_id>/cancel")
@security.role_required("tutor")
def cancel_session(session_id: str):
    form = Form.posted(*SESSION_FIELDS)
    try:
        clients.tutoring.act_on_session(_token(), session_id, "cancel", {"reason": form["reason"]})
    except clients.ServiceError as error:
        _refused(error)
        form.take(error)
        return render_session(session_id, form, error.status)
    flash("The session is cancelled; the student gets the hour back and an email.", "success")
    return redirect(url_for(".session", session_id=session_id))
