"""A tutor's hours: weekly windows, date overrides and time off, all read on the tutor's clock.

Availability is edited as a whole (weekly windows and date overrides go back in one PUT), so
the page first reads what is saved and changes only what the form names.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import flash, redirect, render_template, request, url_for

from services.web import clients, security
from services.web.pages import formatting
from services.web.pages.forms import Form
from services.web.pages.tutor.dashboard import bp, my_profile, refused, tutor_token, tutor_zone

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WINDOWS_PER_DAY = 2


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
        clients.tutoring.save_availability(tutor_token(), body)
    except clients.ServiceError as error:
        refused(error)
        form.take(error)
        return _render_availability(availability, form, error.status)
    flash(success, "success")
    return redirect(url_for(".availability"))


@bp.get("/availability")
@security.role_required("tutor")
def availability():
    return _render_availability(clients.tutoring.availability(tutor_token()))


@bp.post("/availability/weekly")
@security.role_required("tutor")
def save_weekly():
    current = clients.tutoring.availability(tutor_token())
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
    current = clients.tutoring.availability(tutor_token())
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
    current = clients.tutoring.availability(tutor_token())
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
            clients.tutoring.add_time_off(tutor_token(), starts_at, ends_at)
        except clients.ServiceError as error:
            refused(error)
            form.take(error)
        else:
            flash("Your time off is saved; students can't book it.", "success")
            return redirect(url_for(".availability"))
    return _render_availability(clients.tutoring.availability(tutor_token()), form, 422)


@bp.post("/time-off/<time_off_id>/remove")
@security.role_required("tutor")
def remove_time_off(time_off_id: str):
    clients.tutoring.remove_time_off(tutor_token(), time_off_id)
    flash("That time off is removed.", "success")
    return redirect(url_for(".availability"))
