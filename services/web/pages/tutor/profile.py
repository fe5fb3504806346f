"""A tutor's public profile: bio, exams, time zone, rate and photo."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from services.web import clients, security
from services.web.pages import formatting
from services.web.pages.forms import Form
from services.web.pages.tutor.dashboard import bp, my_profile, refused, tutor_token
from services.web.pages.tutoring import zone_choices
from services.web.pages.tutoring_words import EXAMS

PROFILE_FIELDS = ("bio", "exams", "time_zone", "rate", "currency", "photo_url")
PROFILE_RENAMES = {"session_rate_minor": "rate"}


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
                clients.tutoring.save_profile(tutor_token(), fields)
            except clients.ServiceError as error:
                refused(error)
                form.take(error, renames=PROFILE_RENAMES)
                status = error.status
            else:
                flash("Your profile is saved.", "success")
                return redirect(url_for(".profile"))
    return render_template(
        "tutor_profile.html", form=form, zones=zone_choices(form["time_zone"] or "UTC")
    ), status
