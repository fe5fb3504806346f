"""Who receives campaigns: topics and audiences with their subscribers, and the suppression list."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from services.web import clients, security
from services.web.pages.forms import Form
from services.web.pages.marketing.console import STAFF, bp, refused, staff_token

SUBSCRIBER_STATUSES = {
    None: "All",
    "confirmed": "Confirmed",
    "pending": "Waiting to confirm",
    "unsubscribed": "Unsubscribed",
}


SUPPRESSION_REASONS = {
    "unsubscribed": "Unsubscribed",
    "hard_bounce": "Hard bounce",
    "complaint": "Spam complaint",
    "manual": "Added by hand",
}


@bp.app_template_filter("suppression_reason")
def suppression_reason(reason: str | None) -> str:
    return SUPPRESSION_REASONS.get(reason or "", (reason or "").replace("_", " ").capitalize())


@bp.get("/subscribers")
@security.role_required(*STAFF)
def subscribers():
    """Topics with their counts, the audiences, and the people themselves (by status)."""
    token = staff_token()
    status = request.args.get("status") or None
    if status not in SUBSCRIBER_STATUSES:
        status = None
    return render_template(
        "marketing_subscribers.html",
        topics=clients.email.admin_topics(token),
        audiences=clients.email.audiences(token),
        subscribers=clients.email.subscribers(token, status),
        status=status,
        statuses=SUBSCRIBER_STATUSES,
    )


@bp.route("/suppressions", methods=["GET", "POST"])
@security.role_required(*STAFF)
def suppressions():
    form = Form(("email",))
    status = 200
    if request.method == "POST":
        form = Form.posted("email")
        form.require("email", "Enter the email address to stop mailing.")
        status = 422
        if form.ok:
            try:
                clients.email.suppress(staff_token(), form["email"])
            except clients.ServiceError as error:
                refused(error)
                form.take(error)
                status = error.status
            else:
                flash(f"{form['email']} will not receive campaigns.", "success")
                return redirect(url_for(".suppressions"))
    reason = request.args.get("reason")
    if reason not in SUPPRESSION_REASONS:
        reason = None
    return render_template(
        "marketing_suppressions.html",
        rows=clients.email.suppressions(staff_token(), reason=reason),
        reason=reason,
        reasons=SUPPRESSION_REASONS,
        form=form,
    ), status
