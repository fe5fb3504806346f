"""Packages of hours: choosing one on a tutor's page and paying for it.

A package is paid through the same card checkout as an enrollment (``pages/checkout.py``); the
hours are credited when the payment webhook reaches tutoring, never by the browser.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from services.web import clients, security
from services.web.pages import checkout as payment_steps
from services.web.pages.tutoring.base import bp, known_zone, refused
from services.web.pages.tutoring.tutors import choose_hours_message


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
        refused(error)
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
