"""Testimonials' events become emails: the request for a student's story (a signed link that
needs no sign-in) and the thank-you once marketing put the story on the wall.

Like every transactional email, each is queued once per event (``(event_id, kind)`` is unique)
and sent by the delivery loop.
"""

from __future__ import annotations

from services.email import compose
from services.email.domain import Kind
from services.testimonials.events import TestimonialApproved, TestimonialRequested
from shared import config
from shared.bus.handlers import handles
from shared.db import UnitOfWork


@handles(TestimonialRequested)
def testimonial_requested(uow: UnitOfWork, event: TestimonialRequested) -> None:
    """Ask for the story with the link ``PUBLIC_URL/testimonials/new/<token>``."""
    context = {
        "name": event.name,
        "program_label": event.program_label,
        "tutoring": event.program == "tutoring",
        "link": f"{config.public_url()}/testimonials/new/{event.token}",
        "expires_on": compose.day(event.expires_at.date()),
    }
    compose.queue_once(uow, Kind.TESTIMONIAL_REQUEST, event.email, context)


@handles(TestimonialApproved)
def testimonial_approved(uow: UnitOfWork, event: TestimonialApproved) -> None:
    """Thank the author and show them where their story is: ``PUBLIC_URL/testimonials``."""
    context = {
        "display_name": event.display_name,
        "program_label": event.program_label,
        "wall_url": f"{config.public_url()}/testimonials",
    }
    compose.queue_once(uow, Kind.TESTIMONIAL_THANKS, event.email, context)
