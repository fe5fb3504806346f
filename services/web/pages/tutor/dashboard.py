"""The tutor pages' blueprint, the signed-in tutor's profile and zone, and their dashboard."""

from __future__ import annotations

from flask import Blueprint, render_template

from services.web import clients, security
from services.web.pages import formatting
from services.web.pages.tutoring import by_time

bp = Blueprint("tutor_pages", __name__, url_prefix="/tutor")


def tutor_token() -> str:
    return security.access_token()


def refused(error: clients.ServiceError) -> None:
    if error.status in (401, 403, 404):
        raise error


def my_profile() -> dict | None:
    """The signed-in tutor's public profile (their tutor id is their user id), if they have one."""
    user = security.current_user() or {}
    try:
        return clients.tutoring.tutor(str(user.get("id")))
    except clients.ServiceError as error:
        if error.status == 404:
            return None
        raise


def tutor_zone(profile: dict | None) -> str:
    zone = (profile or {}).get("time_zone") or ""
    return formatting.canonical_zone(zone) if formatting.zone_or_none(zone) else "UTC"


@bp.get("")
@security.role_required("tutor")
def dashboard():
    profile = my_profile()
    consultations = clients.tutoring.consultations(tutor_token())
    sessions = clients.tutoring.sessions(tutor_token())
    return render_template(
        "tutor_dashboard.html",
        profile=profile,
        zone=tutor_zone(profile),
        plans=clients.tutoring.tutoring_plans(tutor_token()),
        sessions=_latest(by_time(sessions)),
        consultations=_latest(by_time(consultations)),
    )


RECENT = 20
"""Past and cancelled meetings the dashboard lists (latest first); upcoming ones are all shown."""


def _latest(split: dict[str, list[dict]]) -> dict[str, list[dict]]:
    return {**split, "past": split["past"][:RECENT], "cancelled": split["cancelled"][:RECENT]}
