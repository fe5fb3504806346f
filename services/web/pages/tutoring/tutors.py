"""Browsing tutors: the list, and one tutor's page with the times a student can book.

Before a student's free consultation with a tutor the page offers consultation times; after it,
the tutor's packages of hours and session times.
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request

from services.web import clients, security
from services.web.pages import slot_picker
from services.web.pages.tutoring.base import bp, zone_context


@bp.get("/tutoring")
def tutors():
    return render_template("tutors.html", tutors=clients.tutoring.tutors())


def week_of_slots(
    slots: list[dict], zone_name: str, tutor: dict | None = None
) -> slot_picker.PickerWeek | None:
    """The slot picker's week for this page: the ``week`` or ``day`` the reader asked for.

    The tutor's ``horizon_days`` (how far ahead tutoring books) marks the last week's later
    days as not open yet; without it the last open time stands for the horizon.
    """
    horizon = (tutor or {}).get("horizon_days")
    return slot_picker.pick_week(
        slots,
        zone_name,
        request.args.get("week"),
        request.args.get("day"),
        horizon_days=horizon if isinstance(horizon, int) and horizon > 0 else None,
    )


def best_deal(options: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The package with the largest discount tutoring offers, to mention beside the choices."""
    discounted = [o for o in options if o.get("discount_percent")]
    return max(discounted, key=lambda o: o["discount_percent"]) if discounted else None


def choose_hours_message(options: list[dict[str, Any]]) -> str:
    """``Choose 1, 5 or 10 hours.``: the sizes tutoring sells, as a sentence."""
    sizes = [str(o["hours"]) for o in options]
    if len(sizes) > 1:
        sizes = [", ".join(sizes[:-1]) + " or " + sizes[-1]]
    return f"Choose {sizes[0] if sizes else 'a number of'} hours."


def hours_with(token: str, tutor_id: str) -> int:
    """The student's hours of credit with one tutor."""
    for credit in clients.tutoring.credits(token):
        if credit.get("tutor_id") == tutor_id:
            return int(credit.get("hours_available") or 0)
    return 0


def consulted(token: str, tutor_id: str) -> bool:
    """Whether the student has had their free consultation with this tutor (sessions need one)."""
    return any(
        c.get("tutor_id") == tutor_id and c.get("status") == "completed"
        for c in clients.tutoring.consultations(token)
    )


@bp.get("/tutoring/<tutor_id>")
def tutor(tutor_id: str):
    context = zone_context()
    tutor = clients.tutoring.tutor(tutor_id)
    sessions: dict[str, Any] | None = None
    if security.has_role("student"):
        token = security.access_token()
        if consulted(token, tutor_id):
            credit = hours_with(token, tutor_id)
            slots = clients.tutoring.slots(tutor_id, context["zone"], kind="session")
            options = tutor.get("package_options") or []
            sessions = {
                "credit": credit,
                "options": options,
                "deal": best_deal(options),
                "week": week_of_slots(slots, context["zone"], tutor),
            }
    week = None
    if sessions is None:
        slots = clients.tutoring.slots(tutor_id, context["zone"])
        week = week_of_slots(slots, context["zone"], tutor)
    return render_template(
        "tutor.html",
        tutor=tutor,
        week=week,
        sessions=sessions,
        **context,
    )
