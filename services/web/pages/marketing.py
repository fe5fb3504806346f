"""The marketing console: subscribers, campaigns, suppression and testimonial moderation.

Only marketing and admin may open it (everyone else gets the 403 page, a visitor the sign-in
page). The email and testimonials services check the same roles on every call and own every
rule; these pages show what they answer and put their refusals next to the fields they name.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)

from services.web import clients, security
from services.web.pages import formatting
from services.web.pages.forms import Form
from services.web.pages.tutoring import zone_context

bp = Blueprint("marketing_pages", __name__, url_prefix="/marketing")

STAFF = ("marketing", "admin")

CAMPAIGN_FIELDS = ("subject", "body_markdown", "audience")
CAMPAIGN_STATUSES = {
    "draft": "Draft",
    "scheduled": "Scheduled",
    "sending": "Sending",
    "paused": "Paused",
    "sent": "Sent",
    "cancelled": "Cancelled",
}
LIVE_STATUSES = ("scheduled", "sending")
"""While a campaign is in one of these its figures move, so the page keeps asking for them."""

FIGURES = (
    ("recipients", "Recipients"),
    ("queued", "Queued"),
    ("sent", "Sent"),
    ("failed", "Failed"),
    ("suppressed", "Suppressed"),
    ("unsubscribed", "Unsubscribed"),
)
DELIVERY_STATUSES = ("queued", "sent", "failed", "suppressed", "cancelled")
SUPPRESSION_REASONS = {
    "unsubscribed": "Unsubscribed",
    "hard_bounce": "Hard bounce",
    "complaint": "Spam complaint",
    "manual": "Added by hand",
}

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

PASSED_ON = (401, 403, 404)

PREVIEW_CONTENT_SECURITY_POLICY = (
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; "
    "font-src https: data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)
"""The email preview: the message's own inline styles and images may show, nothing may run,
and only the campaign page of this site may frame it."""


@bp.app_template_filter("campaign_status")
def campaign_status(status: str | None) -> str:
    return CAMPAIGN_STATUSES.get(status or "", (status or "").capitalize())


@bp.app_template_filter("suppression_reason")
def suppression_reason(reason: str | None) -> str:
    return SUPPRESSION_REASONS.get(reason or "", (reason or "").replace("_", " ").capitalize())


@bp.app_template_filter("rejection_reason")
def rejection_reason(reason: str | None) -> str:
    return dict(REJECTION_REASONS).get(reason or "", (reason or "").replace("_", " "))


def _token() -> str:
    return security.access_token()


def _refused(error: clients.ServiceError) -> None:
    """Refusals that are not about a form field go to the error pages (or a new sign-in)."""
    if error.status in PASSED_ON:
        raise error


SUBSCRIBER_STATUSES = {
    None: "All",
    "confirmed": "Confirmed",
    "pending": "Waiting to confirm",
    "unsubscribed": "Unsubscribed",
}

# --------------------------------------------------------------------------- overview


@bp.get("")
@security.role_required(*STAFF)
def overview():
    token = _token()
    campaigns = clients.email.campaigns(token)
    pending = clients.testimonials.admin_list(token, "pending")
    return render_template(
        "marketing_overview.html",
        campaigns=campaigns[:5],
        live=[c for c in campaigns if c.get("status") in ("sending", "paused", "scheduled")],
        pending=pending,
        topics=clients.email.admin_topics(token),
        **zone_context(),
    )


@bp.get("/subscribers")
@security.role_required(*STAFF)
def subscribers():
    """Topics with their counts, the audiences, and the people themselves (by status)."""
    token = _token()
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


# --------------------------------------------------------------------------- campaigns


@bp.get("/campaigns")
@security.role_required(*STAFF)
def campaigns():
    return render_template(
        "marketing_campaigns.html", campaigns=clients.email.campaigns(_token()), **zone_context()
    )


def _campaign_form() -> Form:
    form = Form.posted(*CAMPAIGN_FIELDS)
    form.values["body_markdown"] = request.form.get("body_markdown", "").strip("\n")
    form.require("subject", "Enter the subject line.")
    form.require("body_markdown", "Write the message.")
    form.require("audience", "Choose who receives it.")
    return form


@bp.route("/campaigns/new", methods=["GET", "POST"])
@security.role_required(*STAFF)
def new_campaign():
    form = Form(CAMPAIGN_FIELDS)
    status = 200
    if request.method == "POST":
        form = _campaign_form()
        status = 422
        if form.ok:
            try:
                campaign = clients.email.create_campaign(_token(), dict(form.values))
            except clients.ServiceError as error:
                _refused(error)
                form.take(error)
                status = error.status
            else:
                flash("Draft saved. Preview it and send yourself a test.", "success")
                return redirect(url_for(".campaign", campaign_id=campaign["id"]))
    return render_template(
        "marketing_campaign_new.html", form=form, audiences=clients.email.audiences(_token())
    ), status


def _preview(campaign: dict) -> tuple[dict | None, str | None]:
    """The service's rendering for a sample recipient, or why it cannot render yet."""
    try:
        return clients.email.preview_campaign(_token(), campaign["id"]), None
    except clients.ServiceError as error:
        _refused(error)
        messages = [m for ms in error.errors.values() for m in ms]
        return None, messages[0] if messages else error.detail


def _render_campaign(
    campaign: dict,
    *,
    edit: Form | None = None,
    test: Form | None = None,
    schedule: Form | None = None,
    send: Form | None = None,
    status: int = 200,
):
    token = _token()
    draft = campaign.get("status") == "draft"
    if edit is None:
        edit = Form(CAMPAIGN_FIELDS, {name: campaign.get(name) or "" for name in CAMPAIGN_FIELDS})
    delivery_status = request.args.get("deliveries")
    if delivery_status not in DELIVERY_STATUSES:
        delivery_status = None
    deliveries = (
        []
        if draft
        else clients.email.deliveries(token, campaign["id"], status=delivery_status, limit=50)
    )
    preview, preview_problem = _preview(campaign)
    audiences = clients.email.audiences(token) if draft else []
    size = next(
        (a.get("size") for a in audiences if a.get("key") == campaign.get("audience")), None
    )
    return render_template(
        "marketing_campaign.html",
        campaign=campaign,
        draft=draft,
        live=campaign.get("status") in LIVE_STATUSES,
        edit=edit,
        test=test or Form(("email",)),
        schedule=schedule or Form(("send_at",)),
        send=send or Form(("confirm",)),
        audiences=audiences,
        audience_size=size,
        preview=preview,
        preview_problem=preview_problem,
        deliveries=deliveries,
        delivery_status=delivery_status,
        delivery_statuses=DELIVERY_STATUSES,
        figures=FIGURES,
        **zone_context(),
    ), status


def _campaign(campaign_id: str) -> dict:
    return clients.email.campaign(_token(), campaign_id)


def _conflict(error: clients.ServiceError, campaign_id: str):
    """The campaign moved on (409: no longer a draft): its page explains, with fresh buttons."""
    flash(error.detail, "error")
    return redirect(url_for(".campaign", campaign_id=campaign_id, tz=request.args.get("tz")))


@bp.route("/campaigns/<campaign_id>", methods=["GET", "POST"])
@security.role_required(*STAFF)
def campaign(campaign_id: str):
    """The campaign; while it is a draft, also its editor (POST saves the draft)."""
    current = _campaign(campaign_id)
    if request.method == "GET":
        return _render_campaign(current)
    form = _campaign_form()
    if form.ok:
        try:
            clients.email.update_campaign(_token(), campaign_id, dict(form.values))
        except clients.ServiceError as error:
            _refused(error)
            if error.status == 409:
                return _conflict(error, campaign_id)
            form.take(error)
            return _render_campaign(current, edit=form, status=error.status)
        flash("Draft saved.", "success")
        return redirect(url_for(".campaign", campaign_id=campaign_id, tz=request.args.get("tz")))
    return _render_campaign(current, edit=form, status=422)


@bp.get("/campaigns/<campaign_id>/preview")
@security.role_required(*STAFF)
def preview_frame(campaign_id: str):
    """The rendered email alone, for the sandboxed frame of the campaign page.

    The email's HTML comes with inline styles, which the site's own policy forbids; this
    response has a policy of its own (``sandbox``: an opaque origin, no scripts, no forms).
    """
    preview, problem = _preview({"id": campaign_id})
    html = preview.get("html") if preview else None
    if html is None:
        html = render_template("marketing_preview_problem.html", problem=problem)
    response = make_response(html)
    response.mimetype = "text/html"
    response.headers["Content-Security-Policy"] = PREVIEW_CONTENT_SECURITY_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/campaigns/<campaign_id>/figures")
@security.role_required(*STAFF)
def figures(campaign_id: str):
    """What the page's poll reads while a campaign sends: its status and its figures."""
    current = _campaign(campaign_id)
    response = jsonify(
        {
            "status": current.get("status"),
            "status_label": campaign_status(current.get("status")),
            "figures": current.get("figures") or {},
            "finished_at": current.get("finished_at"),
        }
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/campaigns/<campaign_id>/test")
@security.role_required(*STAFF)
def send_test(campaign_id: str):
    form = Form.posted("email")
    try:
        answer = clients.email.test_campaign(_token(), campaign_id, form["email"] or None)
    except clients.ServiceError as error:
        _refused(error)
        if error.status == 409:
            return _conflict(error, campaign_id)
        form.take(error)
        return _render_campaign(_campaign(campaign_id), test=form, status=error.status)
    flash(f"Test sent to {(answer or {}).get('to') or form['email'] or 'you'}.", "success")
    return redirect(url_for(".campaign", campaign_id=campaign_id, tz=request.args.get("tz")))


def local_to_utc(local: str, zone: str) -> str | None:
    """A ``datetime-local`` value read on the marketer's clock, as an aware UTC ISO timestamp."""
    try:
        moment = datetime.fromisoformat(local)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        return None
    where = formatting.zone_or_none(zone) or UTC
    return moment.replace(tzinfo=where).astimezone(UTC).isoformat()


@bp.post("/campaigns/<campaign_id>/schedule")
@security.role_required(*STAFF)
def schedule(campaign_id: str):
    form = Form.posted("send_at")
    zone = zone_context()["zone"]
    send_at = local_to_utc(form["send_at"], zone)
    if send_at is None:
        form.add("send_at", "Enter the date and time to send it.")
    else:
        try:
            clients.email.schedule_campaign(_token(), campaign_id, send_at)
        except clients.ServiceError as error:
            _refused(error)
            if error.status == 409:
                return _conflict(error, campaign_id)
            form.take(error)
        else:
            when = formatting.format_datetime(send_at, zone)
            flash(f"Scheduled for {when}.", "success")
            return redirect(url_for(".campaign", campaign_id=campaign_id, tz=zone))
    return _render_campaign(_campaign(campaign_id), schedule=form, status=422)


@bp.post("/campaigns/<campaign_id>/send")
@security.role_required(*STAFF)
def send_now(campaign_id: str):
    """Sending cannot be undone, so the form asks the marketer to confirm in a checkbox."""
    form = Form.posted("confirm")
    if form["confirm"] != "yes":
        form.add("confirm", "Tick the box to confirm you want to send it to everyone now.")
        return _render_campaign(_campaign(campaign_id), send=form, status=422)
    return _act(campaign_id, "send", "Sending has started.")


ACTIONS = {
    "pause": "Paused. Nobody else is mailed until you resume.",
    "resume": "Sending again.",
    "cancel": "Cancelled. Nobody else will be mailed.",
}


@bp.post("/campaigns/<campaign_id>/<any(pause, resume, cancel):action>")
@security.role_required(*STAFF)
def act(campaign_id: str, action: str):
    return _act(campaign_id, action, ACTIONS[action])


def _act(campaign_id: str, action: str, done: str):
    try:
        clients.email.act_on_campaign(_token(), campaign_id, action)
    except clients.ServiceError as error:
        _refused(error)
        flash(error.first("status") or error.detail, "error")
    else:
        flash(done, "success")
    return redirect(url_for(".campaign", campaign_id=campaign_id, tz=request.args.get("tz")))


# --------------------------------------------------------------------------- suppression


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
                clients.email.suppress(_token(), form["email"])
            except clients.ServiceError as error:
                _refused(error)
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
        rows=clients.email.suppressions(_token(), reason=reason),
        reason=reason,
        reasons=SUPPRESSION_REASONS,
        form=form,
    ), status


# --------------------------------------------------------------------------- testimonials


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
    listing = clients.testimonials.admin_list(_token(), tab)
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
        lambda: clients.testimonials.approve(_token(), testimonial_id),
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
        lambda: clients.testimonials.reject(_token(), testimonial_id, reason, note),
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
        lambda: clients.testimonials.feature(_token(), testimonial_id, featured),
        "Featured at the top of the wall." if featured else "No longer featured.",
        "approved",
        testimonial_id,
    )


@bp.post("/testimonials/<testimonial_id>/move/<any(up, down):direction>")
@security.role_required(*STAFF)
def move(testimonial_id: str, direction: str):
    """Swap one story with its neighbour on the wall and send the whole new order."""
    token = _token()
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
    record = clients.testimonials.admin_get(_token(), testimonial_id)
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
            clients.testimonials.edit(_token(), testimonial_id, dict(form.values))
        except clients.ServiceError as error:
            _refused(error)
            form.take(error)
            return _testimonial_page(testimonial_id, edit=form, status=error.status)
        flash("Saved. The original and this revision are kept.", "success")
        return redirect(url_for(".testimonial", testimonial_id=testimonial_id))
    return _testimonial_page(testimonial_id, edit=form, status=422)
