"""The marketing console's blueprint, who may open it, and its overview page."""

from __future__ import annotations

from flask import Blueprint, render_template

from services.web import clients, security
from services.web.pages.tutoring import zone_context

bp = Blueprint("marketing_pages", __name__, url_prefix="/marketing")

STAFF = ("marketing", "admin")
PASSED_ON = (401, 403, 404)


def staff_token() -> str:
    return security.access_token()


def refused(error: clients.ServiceError) -> None:
    """Refusals that are not about a form field go to the error pages (or a new sign-in)."""
    if error.status in PASSED_ON:
        raise error


@bp.get("")
@security.role_required(*STAFF)
def overview():
    token = staff_token()
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
