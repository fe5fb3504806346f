"""Email updates: sign up, confirm, manage preferences and unsubscribe (one click included).

Links in emails land here; the email service owns the subscriber and its tokens, so each page
only passes the token through and shows what the service answers.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for

from services.web import clients
from services.web.pages.forms import Form
from services.web.pages.home import SIGNUP_FIELDS, load_topics, render_home

bp = Blueprint("email_pages", __name__)


@bp.post("/subscribe")
def subscribe():
    form = Form.posted(*SIGNUP_FIELDS)
    chosen = request.form.getlist("topics")
    form.require("email", "Enter your email address.")
    if not chosen:
        form.add("topics", "Choose at least one topic.")
    if form.ok:
        try:
            clients.email.subscribe(form["email"], chosen, form["name"] or None)
        except clients.ServiceError as error:
            form.take(error)
        else:
            session["pending_email"] = form["email"]
            return redirect(url_for(".check_inbox"))
    return render_home(form, chosen, load_topics(), 422)


@bp.get("/subscribe")
def subscribe_form():
    """The sign-up form lives on the home page: a typed or bookmarked /subscribe goes there."""
    return redirect(url_for("site.index", _anchor="updates"))


@bp.get("/subscribe/check-your-inbox")
def check_inbox():
    return render_template("check_inbox.html", email=session.get("pending_email"))


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str):
    """GET only shows a button: mail scanners follow links, and must not confirm for anyone."""
    if request.method == "GET":
        return render_template("confirm.html", token=token, problem=None)
    try:
        subscription = clients.email.confirm(token)
    except clients.ServiceError as error:
        problem = error.first("token") or error.detail
        return render_template("confirm.html", token=token, problem=problem), error.status
    return render_template("subscribed.html", subscription=subscription)


def _subscription_or_404(token: str) -> dict:
    try:
        return clients.email.preferences(token)
    except clients.ServiceError as error:
        if error.status in (404, 422):
            abort(404, description="This link is not valid any more. It may be old or mistyped.")
        raise


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    """GET asks; only POST unsubscribes — also as RFC 8058 one-click, with no cookie or CSRF."""
    if request.method == "GET":
        subscription = _subscription_or_404(token)
        return render_template("unsubscribe.html", token=token, subscription=subscription)
    try:
        result = clients.email.unsubscribe(token)
    except clients.ServiceError as error:
        if error.status in (404, 422):
            abort(404, description="This link is not valid any more. It may be old or mistyped.")
        raise
    return render_template("unsubscribed.html", result=result or {}, token=token)


def topic_slugs(subscription: dict) -> list[str]:
    """The topics a subscriber has, whether the service lists slugs or topic objects."""
    return [t["slug"] if isinstance(t, dict) else str(t) for t in subscription.get("topics") or []]


@bp.route("/preferences/<token>", methods=["GET", "POST"])
def preferences(token: str):
    subscription = _subscription_or_404(token)
    topics = clients.email.topics()
    form = Form(("topics",))
    chosen = topic_slugs(subscription)
    status = 200
    if request.method == "POST":
        chosen = request.form.getlist("topics")
        try:
            clients.email.save_preferences(token, chosen)
        except clients.ServiceError as error:
            if error.status == 404:
                abort(404, description="This link is not valid any more.")
            form.take(error)
            status = error.status
        else:
            flash("Your email preferences are saved.", "success")
            return redirect(url_for(".preferences", token=token))
    return render_template(
        "preferences.html",
        token=token,
        subscription=subscription,
        topics=topics,
        chosen=chosen,
        form=form,
    ), status
