"""The home page: what Preceptor offers, and the email updates sign-up form."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, render_template, request

from services.web import clients, security
from services.web.pages.forms import Form

HERE = Path(__file__).resolve().parent.parent

bp = Blueprint("site", __name__, template_folder=str(HERE / "templates"))

SIGNUP_FIELDS = ("email", "name", "topics")


def load_topics() -> list[dict] | None:
    """The topics to offer, or None while the email service is down (the page still works)."""
    try:
        return clients.email.topics()
    except clients.ServiceUnavailable:
        return None


def render_home(form: Form, chosen: list[str], topics: list[dict] | None, status: int = 200):
    return render_template("home.html", form=form, chosen=chosen, topics=topics), status


@bp.get("/")
def index():
    user = security.current_user() or {}
    form = Form(
        SIGNUP_FIELDS,
        {
            "email": request.args.get("email", "") or user.get("email") or "",
            "name": (user.get("name") or "").split(" ")[0],
        },
    )
    topics = load_topics()
    chosen = [t["slug"] for t in topics or []]
    return render_home(form, chosen, topics)
