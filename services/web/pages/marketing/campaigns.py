"""Campaigns: drafting one, previewing and testing it, then scheduling, sending and watching it."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import flash, jsonify, make_response, redirect, render_template, request, url_for

from services.web import clients, security
from services.web.pages import formatting
from services.web.pages.forms import Form
from services.web.pages.marketing.console import STAFF, bp, refused, staff_token
from services.web.pages.tutoring import zone_context

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


PREVIEW_CONTENT_SECURITY_POLICY = (
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; "
    "font-src https: data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)
"""The email preview: the message's own inline styles and images may show, nothing may run,
and only the campaign page of this site may frame it."""


@bp.app_template_filter("campaign_status")
def campaign_status(status: str | None) -> str:
    return CAMPAIGN_STATUSES.get(status or "", (status or "").capitalize())


@bp.get("/campaigns")
@security.role_required(*STAFF)
def campaigns():
    return render_template(
        "marketing_campaigns.html",
        campaigns=clients.email.campaigns(staff_token()),
        **zone_context(),
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
                campaign = clients.email.create_campaign(staff_token(), dict(form.values))
            except clients.ServiceError as error:
                refused(error)
                form.take(error)
                status = error.status
            else:
                flash("Draft saved. Preview it and send yourself a test.", "success")
                return redirect(url_for(".campaign", campaign_id=campaign["id"]))
    return render_template(
        "marketing_campaign_new.html", form=form, audiences=clients.email.audiences(staff_token())
    ), status


def _preview(campaign: dict) -> tuple[dict | None, str | None]:
    """The service's rendering for a sample recipient, or why it cannot render yet."""
    try:
        return clients.email.preview_campaign(staff_token(), campaign["id"]), None
    except clients.ServiceError as error:
        refused(error)
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
    token = staff_token()
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
    return clients.email.campaign(staff_token(), campaign_id)


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
            clients.email.update_campaign(staff_token(), campaign_id, dict(form.values))
        except clients.ServiceError as error:
            refused(error)
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
        answer = clients.email.test_campaign(staff_token(), campaign_id, form["email"] or None)
    except clients.ServiceError as error:
        refused(error)
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
            clients.email.schedule_campaign(staff_token(), campaign_id, send_at)
        except clients.ServiceError as error:
            refused(error)
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
        clients.email.act_on_campaign(staff_token(), campaign_id, action)
    except clients.ServiceError as error:
        refused(error)
        flash(error.first("status") or error.detail, "error")
    else:
        flash(done, "success")
    return redirect(url_for(".campaign", campaign_id=campaign_id, tz=request.args.get("tz")))
