"""Courses for students: the catalogue, enrolling, paying at checkout, and their enrollments.

The enrollment service owns seats, prices and states; payments owns Stripe. These pages only
show what enrollment answers and pass the student's choices on. Fulfilment never depends on
the browser: the checkout's "done" page only displays what the webhook → bus path decided.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from services.web import clients, security
from services.web.pages import checkout as payment_steps
from services.web.pages.forms import Form

bp = Blueprint("course_pages", __name__)

PENDING = payment_steps.PENDING
ACTIVE = "active"

STATUS_LABELS = {
    PENDING: "Awaiting payment",
    ACTIVE: "Active",
    "completed": "Completed",
    "expired": "Hold expired",
    "cancelled": "Cancelled",
    "refunded": "Refunded",
}

PASSED_ON = (401, 403, 404)
"""Refusals that are not about the form: the error pages (or a new sign-in) handle them."""


@bp.app_template_filter("enrollment_status")
def enrollment_status(status: str | None) -> str:
    return STATUS_LABELS.get(status or "", (status or "").replace("_", " ").capitalize())


def _open_cycles(course: dict) -> list[dict]:
    return [c for c in course.get("cycles") or course.get("next_cycles") or []]


def render_course(course: dict, form: Form | None = None, chosen: str | None = None, status=200):
    return render_template(
        "course.html",
        course=course,
        cycles=_open_cycles(course),
        form=form or Form(("promo_code",)),
        chosen=chosen,
    ), status


@bp.get("/courses")
def catalogue():
    return render_template("courses.html", courses=clients.enrollment.courses())


CYCLE_START = re.compile(r"\d{4}-\d{2}-\d{2}")
PROMO_CODE = re.compile(r"[A-Za-z0-9_-]{1,40}")
"""What a course page link may carry to preselect a cycle and prefill its promo code: a visitor
sent to sign in before enrolling comes back to the choice they made, and nothing else rides in."""


def _carried_choice(cycle: str | None, code: str | None) -> tuple[str | None, str]:
    """The cycle and promo code a link carries, each kept only if it looks like one."""
    cycle = (cycle or "").strip()
    code = (code or "").strip()
    return (
        cycle if CYCLE_START.fullmatch(cycle) else None,
        code.upper() if PROMO_CODE.fullmatch(code) else "",
    )


@bp.get("/courses/<slug>")
def course(slug: str):
    found = clients.enrollment.course(slug)
    cycle, code = _carried_choice(request.args.get("cycle"), request.args.get("code"))
    if cycle not in {c.get("start") for c in _open_cycles(found)}:
        return render_course(found)
    return render_course(found, Form(("promo_code",), {"promo_code": code}), cycle)


def _sign_in_first(next_path: str) -> Response:
    """To sign in, and back to ``next_path``; the sign-in page says why (security.sign_in_reason)."""
    return redirect(security.login_url(next_path))


@bp.post("/courses/<slug>/enroll")
def enroll(slug: str):
    if not security.current_user():
        cycle, code = _carried_choice(
            request.form.get("cycle_start"), request.form.get("promo_code")
        )
        choice = {"cycle": cycle, "code": code or None}
        return _sign_in_first(
            url_for(".course", slug=slug, **{k: v for k, v in choice.items() if v})
        )
    form = Form.posted("cycle_start", "promo_code")
    form.fields = ("promo_code",)
    try:
        enrollment = clients.enrollment.enroll(
            security.access_token(),
            slug,
            form["cycle_start"] or None,
            form["promo_code"].upper() or None,
        )
    except clients.ServiceError as error:
        if error.status in PASSED_ON:
            raise
        form.take(error)
        return render_course(
            clients.enrollment.course(slug), form, form["cycle_start"], error.status
        )
    if enrollment.get("status") == ACTIVE:
        flash("Your promotion code covers the whole price: no payment needed.", "success")
        return redirect(url_for(".checkout_done", enrollment_id=enrollment["id"]))
    return redirect(url_for(".checkout", enrollment_id=enrollment["id"]))


@bp.post("/courses/<slug>/cycles/<start>/waitlist")
def join_waitlist(slug: str, start: str):
    if not security.current_user():
        return _sign_in_first(url_for(".course", slug=slug))
    try:
        entry = clients.enrollment.join_waitlist(security.access_token(), slug, start)
    except clients.ServiceError as error:
        if error.status in PASSED_ON:
            raise
        form = Form(("promo_code",))
        form.take(error)
        return render_course(clients.enrollment.course(slug), form, start, error.status)
    position = entry.get("position")
    where = f" You're number {position} in line." if position else ""
    flash(f"You're on the waitlist.{where} We'll email you if a seat opens.", "success")
    return redirect(url_for(".course", slug=slug))


def _enrollment(enrollment_id: str) -> dict:
    return clients.enrollment.enrollment(security.access_token(), enrollment_id)


@bp.get("/checkout/<enrollment_id>")
@security.login_required
def checkout(enrollment_id: str):
    enrollment = _enrollment(enrollment_id)
    if enrollment.get("status") == ACTIVE:
        return redirect(url_for(".checkout_done", enrollment_id=enrollment_id))
    return render_template(
        "checkout.html",
        enrollment=enrollment,
        **payment_steps.page_context(payment_steps.pending_payment(enrollment)),
    )


@bp.post("/checkout/<enrollment_id>/card")
def checkout_card(enrollment_id: str):
    return payment_steps.card_step(
        lambda: _enrollment(enrollment_id), "This enrollment can't be paid any more."
    )


@bp.get("/checkout/<enrollment_id>/done")
@security.login_required
def checkout_done(enrollment_id: str):
    return render_template("checkout_done.html", enrollment=_enrollment(enrollment_id))


@bp.get("/checkout/<enrollment_id>/status")
def checkout_status(enrollment_id: str):
    return payment_steps.status_answer(lambda: _enrollment(enrollment_id), enrollment_id)


def _later_cycles(enrollments: list[dict]) -> dict[str, list[dict]]:
    """For each enrollment that may defer, the open cycles that start after its own."""
    courses: dict[str, dict | None] = {}
    options: dict[str, list[dict]] = {}
    for item in enrollments:
        if "defer" not in (item.get("allowed_actions") or []):
            continue
        slug = item.get("course_slug") or ""
        if slug not in courses:
            try:
                courses[slug] = clients.enrollment.course(slug)
            except clients.ServiceError:
                courses[slug] = None
        cycles = _open_cycles(courses[slug] or {})
        options[item["id"]] = [
            c
            for c in cycles
            if c.get("status", "open") == "open"
            and str(c.get("start", "")) > str(item.get("cycle_start", ""))
        ]
    return options


def render_my_enrollments(problems: dict[str, str] | None = None, status: int = 200):
    enrollments = clients.enrollment.my_enrollments(security.access_token())
    return render_template(
        "my_enrollments.html",
        enrollments=enrollments,
        later_cycles=_later_cycles(enrollments),
        problems=problems or {},
    ), status


@bp.get("/my/enrollments")
@security.login_required
def my_enrollments():
    return render_my_enrollments()


def _act_on_enrollment(enrollment_id: str, action: Any, success: str):
    if not security.current_user():
        return redirect(security.login_url(url_for(".my_enrollments")))
    try:
        action(security.access_token())
    except clients.ServiceError as error:
        if error.status in PASSED_ON:
            raise
        messages = [m for ms in error.errors.values() for m in ms]
        message = messages[0] if messages else error.detail
        return render_my_enrollments({enrollment_id: message}, error.status)
    flash(success, "success")
    return redirect(url_for(".my_enrollments"))


@bp.post("/my/enrollments/<enrollment_id>/defer")
def defer(enrollment_id: str):
    cycle_start = request.form.get("cycle_start", "").strip()
    if not cycle_start:
        abort(400, description="Choose the cycle to move to.")
    return _act_on_enrollment(
        enrollment_id,
        lambda token: clients.enrollment.defer(token, enrollment_id, cycle_start),
        "Your enrollment moved to the later cycle.",
    )


@bp.get("/my/enrollments/<enrollment_id>/refund")
@security.login_required
def refund_confirm(enrollment_id: str):
    """Ask before the money goes back: a refund ends the enrollment and gives the seat away.

    A page of its own (not a script's dialog), so it works without JavaScript too.
    """
    return render_template("refund_confirm.html", enrollment=_enrollment(enrollment_id))


@bp.post("/my/enrollments/<enrollment_id>/refund")
def refund(enrollment_id: str):
    return _act_on_enrollment(
        enrollment_id,
        lambda token: clients.enrollment.request_refund(token, enrollment_id),
        "Your refund is requested. We'll email you when it's on its way.",
    )
