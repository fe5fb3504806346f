"""Accounts: register, sign in and out, the account page, password resets and invitations.

identity owns every account; these pages turn its answers into messages next to the fields
and keep its tokens in the site's server-side session (services/web/security.py).
"""

from __future__ import annotations

import contextlib
import logging

from flask import Blueprint, flash, redirect, render_template, request, url_for

from services.web import clients, security
from services.web.pages import formatting
from services.web.pages.forms import Form
from services.web.pages.tutoring_words import COMMON_ZONES

bp = Blueprint("account_pages", __name__)
log = logging.getLogger(__name__)

LOGIN_MESSAGES = {
    401: "That email and password don't match an account.",
    429: "Too many sign-in attempts. Wait a few minutes, then try again.",
}


def _throttled_message(retry_after: int | None) -> str:
    """Say how long to wait, and that the pause is for this account or this network: a person
    who made no mistake (a colleague on the school's network) should know it is not them."""
    if retry_after is None:
        return LOGIN_MESSAGES[429]
    if retry_after < 60:
        wait = f"{retry_after} second{'s' if retry_after != 1 else ''}"
    else:
        minutes = -(-retry_after // 60)
        wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
    return (
        "Too many sign-in attempts on this account or from your network. "
        f"Try again in {wait}, or reset your password."
    )


def _passwords(form: Form) -> None:
    form.require("password", "Choose a password.")
    if form["password"] and form["password"] != form["confirm"]:
        form.add("confirm", "The two passwords don't match.")


def _new_password_form() -> tuple[Form, int]:
    """The choose-a-password form shared by password reset and invitation pages."""
    form = Form(("password", "confirm"))
    if request.method != "POST":
        return form, 200
    form.values = {
        "password": request.form.get("password", ""),
        "confirm": request.form.get("confirm", ""),
    }
    _passwords(form)
    return form, 422


@bp.route("/register", methods=["GET", "POST"])
def register():
    form = Form(("name", "email", "password", "confirm"))
    status = 200
    if request.method == "POST":
        form = Form.posted(*form.fields)
        form.values["password"] = request.form.get("password", "")
        form.values["confirm"] = request.form.get("confirm", "")
        form.require("name", "Enter your name.")
        form.require("email", "Enter your email address.")
        _passwords(form)
        if form.ok:
            # identity answers alike for a new address and a taken one (the owner is emailed
            # instead), so this page says the same in both cases and signs nobody in.
            try:
                answer = clients.identity.register(
                    form["email"], form["password"], form["name"], formatting.known_zone()
                )
            except clients.ServiceError as error:
                form.take(error)
            else:
                email = (answer or {}).get("email") or form["email"]
                return render_template("register_sent.html", email=email)
        status = 422
    return render_template("register.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
def login():
    asked = request.values.get("next")
    reason = None
    if not asked:
        next_path = url_for(".account")
    else:
        # A `next` that is not a path on this site (a hostile link) leads home, never there.
        local = security.local_path(asked)
        next_path = local or url_for("site.index")
        if local:  # sent here from a page: say why, and that they come back to it
            reason = security.sign_in_reason(local)
    form = Form(("email", "password"))
    status = 200
    if request.method == "POST":
        form = Form.posted("email")
        form.fields = ("email", "password")
        form.require("email", "Enter your email address.")
        if not request.form.get("password"):
            form.add("password", "Enter your password.")
        status = 422
        if form.ok:
            try:
                tokens = clients.identity.login(form["email"], request.form["password"])
            except clients.ServiceError as error:
                status = error.status
                if error.status == 429:
                    form.summary.append(_throttled_message(error.retry_after))
                elif error.status in LOGIN_MESSAGES:
                    form.summary.append(LOGIN_MESSAGES[error.status])
                else:
                    form.take(error)
            else:
                security.sign_in(tokens)
                _keep_the_browsers_zone(tokens.get("user") or {})
                return redirect(next_path)
    return render_template("login.html", form=form, next_path=next_path, reason=reason), status


def _keep_the_browsers_zone(user: dict) -> None:
    """An account without a time zone takes the browser's at sign-in, so mail (which has no
    browser to ask) reaches the person on their clock too. A failure costs only that."""
    browser = request.cookies.get(formatting.ZONE_COOKIE)
    if user.get("time_zone") or not formatting.zone_or_none(browser):
        return
    try:
        updated = clients.identity.set_time_zone(
            security.access_token(), formatting.canonical_zone(browser)
        )
    except clients.ServiceError:
        log.warning("could not keep the browser's time zone on the account", exc_info=True)
        return
    security.update_user(updated)


@bp.post("/logout")
def logout():
    ended = security.sign_out()  # the server forgets the session: any copy of the cookie is dead
    if ended is not None:
        # Identity revokes the refresh token too; if it cannot now, the token expires unused.
        with contextlib.suppress(clients.ServiceError, clients.ServiceUnavailable):
            clients.identity.logout(ended.refresh_token)
    flash("You're signed out.", "info")
    return redirect(url_for("site.index"))


@bp.route("/account", methods=["GET", "POST"])
@security.login_required
def account():
    form = Form(("name",))
    status = 200
    if request.method == "POST":
        form = Form.posted("name")
        form.require("name", "Enter your name.")
        if form.ok:
            try:
                user = clients.identity.rename(security.access_token(), form["name"])
            except clients.ServiceError as error:
                if error.status == 401:
                    raise
                form.take(error)
            else:
                security.update_user(user)
                flash("Your name is saved.", "success")
                return redirect(url_for(".account"))
        status = 422
    return _account_page(form, status)


def _account_page(form: Form, status: int = 200, zone_form: Form | None = None):
    user = clients.identity.me(security.access_token())
    security.update_user(user)
    if not form.values.get("name") and "name" not in form.errors:
        form.values["name"] = user.get("name") or ""
    if zone_form is None:
        zone_form = Form(("time_zone",))
        zone_form.values["time_zone"] = user.get("time_zone") or ""
    chosen = user.get("time_zone")
    zones = sorted(
        {*COMMON_ZONES, *(z for z in (chosen, formatting.known_zone()) if z)},
        key=lambda z: (z != "UTC", formatting.zone_label(z), z),
    )
    return render_template(
        "account.html", user=user, form=form, zone_form=zone_form, zones=zones
    ), status


@bp.post("/account/time-zone")
@security.login_required
def account_time_zone():
    """The clock every page and email shows this person's times on; empty: the browser's."""
    zone_form = Form.posted("time_zone")
    chosen = zone_form["time_zone"] or None
    if chosen is not None and formatting.zone_or_none(chosen) is None:
        zone_form.add("time_zone", "Choose a time zone from the list.")
    if zone_form.ok:
        try:
            user = clients.identity.set_time_zone(security.access_token(), chosen)
        except clients.ServiceError as error:
            if error.status == 401:
                raise
            zone_form.take(error)
        else:
            security.update_user(user)
            flash("Your time zone is saved.", "success")
            return redirect(url_for(".account"))
    return _account_page(Form(("name",)), 422, zone_form)


@bp.route("/password-reset", methods=["GET", "POST"])
def password_reset():
    form = Form(("email",))
    if request.method == "POST":
        form = Form.posted("email")
        form.require("email", "Enter your email address.")
        if form.ok:
            try:
                clients.identity.request_password_reset(form["email"])
            except clients.ServiceError as error:
                if error.status != 404:  # never reveal whether an account exists
                    form.take(error)
            if form.ok:
                return render_template("password_reset_sent.html", email=form["email"])
        return render_template("password_reset.html", form=form), 422
    return render_template("password_reset.html", form=form)


@bp.route("/password-reset/<token>", methods=["GET", "POST"])
def password_reset_complete(token: str):
    form, status = _new_password_form()
    if request.method == "POST" and form.ok:
        try:
            user = clients.identity.complete_password_reset(token, form["password"])
        except clients.ServiceError as error:
            form.take(error)
            status = error.status
        else:
            # Identity has revoked every refresh token of the account; the site ends every
            # session of it too, on every device, so whoever knew the old password is out now
            # rather than when an access token expires.
            security.end_every_session_of(user["id"])
            flash("Your password is changed. Sign in with your new password.", "success")
            return redirect(url_for(".login"))
    return render_template("password_reset_complete.html", form=form, token=token), status


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def invitation(token: str):
    form, status = _new_password_form()
    if request.method == "POST" and form.ok:
        try:
            user = clients.identity.accept_invitation(token, form["password"])
            security.sign_in(clients.identity.login(user["email"], form["password"]))
        except clients.ServiceError as error:
            form.take(error)
            status = error.status
        else:
            flash("Your account is ready. Welcome to Preceptor!", "success")
            return redirect(url_for(".account"))
    return render_template("invitation.html", form=form, token=token), status
