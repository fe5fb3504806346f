"""Staff administration: users and invitations, courses and cycles, promo codes, payments.

Prices are typed in major units ("1499.00") and sent in minor units; the services validate
every rule, the forms only catch what cannot even be sent (a price that is not a number).
"""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from services.web import clients, security
from services.web.pages import formatting
from services.web.pages.forms import Form

bp = Blueprint("admin_pages", __name__, url_prefix="/admin")

INVITABLE_ROLES = (
    ("tutor", "Tutor"),
    ("marketing", "Marketing"),
    ("admin", "Administrator"),
)


@bp.route("/users", methods=["GET", "POST"])
@security.role_required("admin")
def users():
    form = Form(("email", "name", "role"), {"role": "tutor"})
    status = 200
    if request.method == "POST":
        form = Form.posted("email", "name", "role")
        form.require("email", "Enter the person's email address.")
        form.require("name", "Enter the person's name.")
        if form["role"] not in dict(INVITABLE_ROLES):
            form.add("role", "Choose tutor, marketing or admin.")
        status = 422
        if form.ok:
            try:
                clients.identity.invite(
                    security.access_token(), form["email"], form["name"], form["role"]
                )
            except clients.ServiceError as error:
                if error.status in (401, 403):
                    raise
                form.take(error)
                status = error.status
            else:
                flash(f"Invitation sent to {form['email']}.", "success")
                return redirect(url_for(".users"))
    people = clients.identity.list_users(security.access_token())
    return render_template(
        "admin_users.html", users=people, form=form, roles=INVITABLE_ROLES
    ), status


COURSE_INTS = (
    ("cycle_length_days", "Enter the cycle length in days."),
    ("cadence_days", "Enter how many days apart cycles start."),
    ("seats_per_cycle", "Enter the seats per cycle."),
    ("access_days", "Enter the access length in days."),
    ("refund_window_days", "Enter the refund window in days (0 for none)."),
)
COURSE_FIELDS = (
    "slug",
    "title",
    "description",
    "price",
    "currency",
    *(name for name, _ in COURSE_INTS),
    "anchor_date",
    "published",
)
COURSE_RENAMES = {"price_minor": "price"}
"""The service speaks minor units; the form asks for the price as people write it."""


def _whole_number(form: Form, name: str, message: str, *, optional: bool = False) -> int | None:
    text = form[name]
    if not text and optional:
        return None
    if not text.isdigit():
        form.add(name, message)
        return None
    return int(text)


def _course_fields(form: Form, *, creating: bool) -> dict[str, Any]:
    """What the service needs from the course form; problems go on the form's fields."""
    fields: dict[str, Any] = {}
    if creating:
        form.require("slug", "Enter a slug such as usmle-step-1-prep.")
        fields["slug"] = form["slug"].lower()
    form.require("title", "Enter the course title.")
    fields["title"] = form["title"]
    fields["description"] = form["description"]
    currency = form["currency"].upper()
    if len(currency) != 3 or not currency.isalpha():
        form.add("currency", "Enter a three-letter currency code such as USD.")
    fields["currency"] = currency
    price = formatting.to_minor(form["price"], currency)
    if price is None:
        places = formatting.exponent(currency)
        form.add("price", f"Enter the price as a number with at most {places} decimals.")
    fields["price_minor"] = price
    for name, message in COURSE_INTS:
        fields[name] = _whole_number(form, name, message)
    try:
        fields["anchor_date"] = date.fromisoformat(form["anchor_date"]).isoformat()
    except ValueError:
        form.add("anchor_date", "Enter the date of the first cycle's start.")
    fields["published"] = form["published"] == "on"
    return fields


def _course_form(course: dict | None = None) -> Form:
    form = Form(COURSE_FIELDS, {"currency": "USD", "published": ""})
    if course:
        form.values = {
            name: str(course.get(name) if course.get(name) is not None else "")
            for name in COURSE_FIELDS
        }
        form.values["price"] = formatting.major_units(course.get("price_minor"), course["currency"])
        form.values["published"] = "on" if course.get("published") else ""
    return form


def _refused(error: clients.ServiceError) -> None:
    if error.status in (401, 403, 404):
        raise error


@bp.route("/courses", methods=["GET", "POST"])
@security.role_required("admin")
def courses():
    form = _course_form()
    status = 200
    if request.method == "POST":
        form = Form.posted(*COURSE_FIELDS)
        fields = _course_fields(form, creating=True)
        status = 422
        if form.ok:
            try:
                clients.enrollment.create_course(security.access_token(), fields)
            except clients.ServiceError as error:
                _refused(error)
                form.take(error, renames=COURSE_RENAMES)
                status = error.status
            else:
                flash(_created_message(fields), "success")
                return redirect(url_for(".courses"))
    listing = clients.enrollment.admin_courses(security.access_token())
    return render_template("admin_courses.html", courses=listing, form=form), status


def _created_message(fields: dict) -> str:
    """Say whether students can see the new course: a draft is easy to mistake for a live one."""
    if fields["published"]:
        return f"Course {fields['title']} created and published: it is in the catalogue."
    return (
        f"Course {fields['title']} created as a draft: students can't see it yet. "
        "To publish it, open it from the courses list, tick Published and save."
    )


def _admin_course(slug: str) -> dict:
    for course in clients.enrollment.admin_courses(security.access_token()):
        if course.get("slug") == slug:
            return course
    abort(404, description="There is no course with that slug.")


def _course_cycles(course: dict) -> list[dict]:
    cycles = course.get("cycles") or course.get("next_cycles")
    if cycles is None and course.get("published"):
        with contextlib.suppress(clients.ServiceError):
            public = clients.enrollment.course(course["slug"])
            cycles = public.get("cycles") or public.get("next_cycles")
    return cycles or []


@bp.route("/courses/<slug>", methods=["GET", "POST"])
@security.role_required("admin")
def course(slug: str):
    current = _admin_course(slug)
    form = _course_form(current)
    status = 200
    if request.method == "POST":
        form = Form.posted(*COURSE_FIELDS)
        form.values["slug"] = slug
        fields = _course_fields(form, creating=False)
        status = 422
        if form.ok:
            try:
                clients.enrollment.update_course(security.access_token(), slug, fields)
            except clients.ServiceError as error:
                _refused(error)
                form.take(error, renames=COURSE_RENAMES)
                status = error.status
            else:
                flash(f"Course {fields['title']} saved.", "success")
                return redirect(url_for(".course", slug=slug))
    return render_template(
        "admin_course.html", course=current, cycles=_course_cycles(current), form=form
    ), status


@bp.get("/courses/<slug>/cycles/<start>")
@security.role_required("admin")
def roster(slug: str, start: str):
    answer = clients.enrollment.roster(security.access_token(), slug, start)
    if isinstance(answer, list):
        answer = {"enrollments": answer}
    entries = answer.get("enrollments") or answer.get("students") or []
    return render_template(
        "admin_roster.html", slug=slug, start=start, roster=answer, entries=entries
    )


PROMO_FIELDS = (
    "code",
    "kind",
    "value",
    "currency",
    "course_slug",
    "max_redemptions",
    "per_student_limit",
    "expires_at",
)
PROMO_KINDS = (("percent", "Percent off"), ("amount", "Amount off"))


def _promo_fields(form: Form) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    form.require("code", "Enter the code people will type.")
    fields["code"] = form["code"].upper()
    kind = form["kind"]
    if kind not in dict(PROMO_KINDS):
        form.add("kind", "Choose percent or amount.")
    fields["kind"] = kind
    if kind == "amount":
        currency = form["currency"].upper()
        if len(currency) != 3 or not currency.isalpha():
            form.add("currency", "An amount needs a three-letter currency such as USD.")
        fields["currency"] = currency
        value = formatting.to_minor(form["value"], currency)
        if value is None:
            form.add("value", "Enter the amount off, such as 50 or 49.99.")
        fields["value"] = value
    else:
        fields["value"] = _whole_number(form, "value", "Enter the percent off, 1 to 100.")
    if form["course_slug"]:
        fields["course_slug"] = form["course_slug"]
    limit = _whole_number(form, "max_redemptions", "Enter a whole number.", optional=True)
    if limit is not None:
        fields["max_redemptions"] = limit
    per_student = _whole_number(form, "per_student_limit", "Enter a whole number.", optional=True)
    fields["per_student_limit"] = per_student or 1
    if form["expires_at"]:
        try:
            # Typed on the admin's own clock, as the list shows it; kept in UTC.
            where = formatting.zone_or_none(formatting.reader_zone()) or UTC
            typed = datetime.fromisoformat(form["expires_at"])
            expires = typed.replace(tzinfo=where).astimezone(UTC)
        except ValueError:
            form.add("expires_at", "Enter a date and time.")
        else:
            fields["expires_at"] = expires.isoformat()
    return fields


@bp.route("/promo-codes", methods=["GET", "POST"])
@security.role_required("admin")
def promo_codes():
    form = Form(PROMO_FIELDS, {"kind": "percent", "currency": "USD", "per_student_limit": "1"})
    status = 200
    if request.method == "POST":
        form = Form.posted(*PROMO_FIELDS)
        fields = _promo_fields(form)
        status = 422
        if form.ok:
            try:
                clients.enrollment.create_promo_code(security.access_token(), fields)
            except clients.ServiceError as error:
                _refused(error)
                form.take(error)
                status = error.status
            else:
                flash(f"Promo code {fields['code']} created.", "success")
                return redirect(url_for(".promo_codes"))
    token = security.access_token()
    return render_template(
        "admin_promo_codes.html",
        codes=clients.enrollment.promo_codes(token),
        courses=clients.enrollment.admin_courses(token),
        kinds=PROMO_KINDS,
        form=form,
    ), status


@bp.get("/payments")
@security.role_required("admin")
def payments():
    ledger = clients.payments.ledger(security.access_token()) or {}
    return render_template(
        "admin_payments.html",
        payments=ledger.get("payments") or [],
        refunds=ledger.get("refunds") or [],
        disputes=ledger.get("disputes") or [],
        flagged_events=ledger.get("flagged_events") or [],
    )


@bp.get("/tutors")
@security.role_required("admin")
def tutors():
    """Every tutor with their profile and booking settings (new tutors are invited in Users)."""
    listing = clients.tutoring.admin_tutors(security.access_token()) or []
    return render_template("admin_tutors.html", tutors=listing)
