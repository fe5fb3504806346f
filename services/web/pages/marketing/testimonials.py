"""Testimonial moderation: approve, reject or edit a story, and order the public wall."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for

from services.web import clients, security
from services.web.pages import formatting
from services.web.pages.forms import Form
from services.web.pages.marketing.console import STAFF, bp, refused, staff_token

TESTIMONIAL_TABS = (("pending", "Pending"), ("approved", "Approved"), ("rejected", "Rejected"))
REJECTION_REASONS = (
    ("spam", "Spam or advertising"),
    ("offensive", "Offensive or abusive"),
    ("personal_data", "Contains someone's personal data"),
    ("not_about_us", "Not about Preceptor"),
    ("duplicate", "Duplicate of another story"),
    ("author_request", "The author asked us to withdraw it"),
)
"""Why a story may be rejected; never its rating (negative reviews are not suppressed)."""


@bp.app_template_filter("rejection_reason")
def rejection_reason(reason: str | None) -> str:
    return dict(REJECTION_REASONS).get(reason or "", (reason or "").replace("_", " "))


def wall_order(approved: list[dict]) -> list[dict]:
    """Approved stories in the wall's order: featured first, then by position, newest first."""

    def key(record: dict) -> tuple[Any, ...]:
        moment = formatting.parse_moment(record.get("approved_at") or record.get("moderated_at"))
        newest = -moment.timestamp() if moment else 0
        position = record.get("position")
        return (not record.get("featured"), position is None, position or 0, newest)

    return sorted(approved, key=key)


def _tab() -> str:
    tab = request.args.get("status") or "pending"
    return tab if tab in dict(TESTIMONIAL_TABS) else "pending"


@bp.get("/testimonials")
@security.role_required(*STAFF)
def testimonials():
    tab = _tab()
    listing = clients.testimonials.admin_list(staff_token(), tab)
    if tab == "approved":
        listing = wall_order(listing)
    return render_template(
        "marketing_testimonials.html",
        tab=tab,
        tabs=TESTIMONIAL_TABS,
        testimonials=listing,
        reasons=REJECTION_REASONS,
    )


def _back(tab: str | None = None, anchor: str | None = None):
    return redirect(url_for(".testimonials", status=tab or _tab(), _anchor=anchor))


def _moderate(call, done: str, tab: str, testimonial_id: str):
    """Run one moderation call; a refusal (e.g. no consent: 409) is flashed in plain words."""
    try:
        call()
    except clients.ServiceError as error:
        if error.status in (401, 403):
            raise
        messages = [m for ms in error.errors.values() for m in ms]
        flash(messages[0] if messages else error.detail, "error")
    else:
        flash(done, "success")
    return _back(tab, f"t-{testimonial_id}")


@bp.post("/testimonials/<testimonial_id>/approve")
@security.role_required(*STAFF)
def approve(testimonial_id: str):
    return _moderate(
        lambda: clients.testimonials.approve(staff_token(), testimonial_id),
        "Approved: it is on the public wall now.",
        request.form.get("tab") or "pending",
        testimonial_id,
    )


@bp.post("/testimonials/<testimonial_id>/reject")
@security.role_required(*STAFF)
def reject(testimonial_id: str):
    reason = request.form.get("reason", "")
    note = request.form.get("note", "").strip() or None
    if reason not in dict(REJECTION_REASONS):
        return _testimonial_page(testimonial_id, reject=_reject_error(), status=422)
    return _moderate(
        lambda: clients.testimonials.reject(staff_token(), testimonial_id, reason, note),
        "Rejected. The author's story stays off the wall.",
        request.form.get("tab") or "pending",
        testimonial_id,
    )


def _reject_error() -> Form:
    form = Form.posted("reason", "note")
    form.add("reason", "Choose why it is rejected.")
    return form


@bp.post("/testimonials/<testimonial_id>/<any(feature, unfeature):action>")
@security.role_required(*STAFF)
def feature(testimonial_id: str, action: str):
    featured = action == "feature"
    return _moderate(
        lambda: clients.testimonials.feature(staff_token(), testimonial_id, featured),
        "Featured at the top of the wall." if featured else "No longer featured.",
        "approved",
        testimonial_id,
    )


@bp.post("/testimonials/<testimonial_id>/move/<any(up, down):direction>")
@security.role_required(*STAFF)
def move(testimonial_id: str, direction: str):
    """Swap one story with its neighbour on the wall and send the whole new order."""
    token = staff_token()
    ordered = [r["id"] for r in wall_order(clients.testimonials.admin_list(token, "approved"))]
    if testimonial_id not in ordered:
        abort(404, description="That testimonial is not on the wall.")
    index = ordered.index(testimonial_id)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(ordered):
        ordered[index], ordered[other] = ordered[other], ordered[index]
        return _moderate(
            lambda: clients.testimonials.reorder_wall(token, ordered),
            "Wall order saved.",
            "approved",
            testimonial_id,
        )
    return _back("approved", f"t-{testimonial_id}")


EDIT_FIELDS = ("display_name", "story", "note")


def _testimonial_page(
    testimonial_id: str,
    *,
    edit: Form | None = None,
    reject: Form | None = None,
    status: int = 200,
):
    record = clients.testimonials.admin_get(staff_token(), testimonial_id)
    if edit is None:
        edit = Form(
            EDIT_FIELDS,
            {"display_name": record.get("display_name") or "", "story": record.get("story") or ""},
        )
    return render_template(
        "marketing_testimonial.html",
        t=record,
        edit=edit,
        reject=reject or Form(("reason", "note")),
        reasons=REJECTION_REASONS,
    ), status


@bp.route("/testimonials/<testimonial_id>", methods=["GET", "POST"])
@security.role_required(*STAFF)
def testimonial(testimonial_id: str):
    """One story in full, its revision history, and the editor (a note is required)."""
    if request.method == "GET":
        return _testimonial_page(testimonial_id)
    form = Form.posted(*EDIT_FIELDS)
    form.values["story"] = request.form.get("story", "").strip()
    form.require("display_name", "Enter the name shown with the story.")
    form.require("story", "The story cannot be empty.")
    form.require("note", "Say why you are changing the author's words.")
    if form.ok:
        try:
            clients.testimonials.edit(staff_token(), testimonial_id, dict(form.values))
        except clients.ServiceError as error:
            refused(error)
            form.take(error)
            return _testimonial_page(testimonial_id, edit=form, status=error.status)
        flash("Saved. The original and this revision are kept.", "success")
        return redirect(url_for(".testimonial", testimonial_id=testimonial_id))
    return _testimonial_page(testimonial_id, edit=form, status=422)
