"""Testimonials' events become emails: the request for a student's story (a signed link that
needs no sign-in) and the thank-you once marketing put the story on the wall.

Like every transactional email, each is queued once per event (``(event_id, kind)`` is unique)
and sent by the delivery loop.
"""

from __future__ import annotations

from typing import Any

from services.email import compose
from services.email.domain import Kind
from shared import config
from shared.db import UnitOfWork


def testimonial_requested(uow: UnitOfWork, event_id: str, data: dict[str, Any]) -> None:
    """Ask for the story with the link ``PUBLIC_URL/testimonials/new/<token>``."""
    context = {
        "name": data["name"],
        "program_label": data["program_label"],
        "tutoring": data["program"] == "tutoring",
        "link": f"{config.public_url()}/testimonials/new/{data['token']}",
        "expires_on": compose.day(data["expires_at"].date()),
    }
    compose.queue_once(uow, Kind.TESTIMONIAL_REQUEST, data["email"], context, event_id)


def testimonial_approved(uow: UnitOfWork, event_id: str, data: dict[str, Any]) -> None:
    """Thank the author and show them where their story is: ``PUBLIC_URL/testimonials``."""
    context = {
        "display_name": data["display_name"],
        "program_label": data["program_label"],
        "wall_url": f"{config.public_url()}/testimonials",
    }
    compose.queue_once(uow, Kind.TESTIMONIAL_THANKS, data["email"], context, event_id)
