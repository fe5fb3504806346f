"""Staff administration: the list of users and invitations for tutor, marketing and admin."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from services.web import clients, security
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
