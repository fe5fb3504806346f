"""Testimonials' events: submitted, approved, rejected, featured.

Changing a class changes the wire (shared/bus/events.py): add optional fields first, and never
rename a routing key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from marshmallow import validate

from shared.bus.events import (
    Email,
    event,
)

Program = Annotated[str, validate.Regexp(r"^(tutoring|course:[a-z0-9][a-z0-9-]*)$")]
"""``tutoring`` or ``course:<slug>``: what the testimonial is about."""
AuthorRole = Literal["student", "tutor", "staff"]


@event(
    "testimonial.requested",
    producer="testimonials",
    description="""
A student finished a course (``enrollment.completed``) or their Nth tutoring session, and is
asked once per program for their story. ``token`` is the signed, expiring submission link's
secret; the email service mails ``PUBLIC_URL/testimonials/new/<token>``.
""",
)
class TestimonialRequested:
    request_id: str
    user_id: str
    email: Email
    name: str
    program: Program
    program_label: str
    token: str
    expires_at: datetime


@event(
    "testimonial.submitted",
    producer="testimonials",
    description="""
Someone submitted a testimonial; it waits for moderation. Without ``consent`` it is private
feedback and can never be published.
""",
)
class TestimonialSubmitted:
    testimonial_id: str
    user_id: str | None
    display_name: str
    program: Program
    rating: Annotated[int, validate.Range(min=1, max=5)]
    consent: bool
    verified: bool
    author_role: AuthorRole


@event(
    "testimonial.approved",
    producer="testimonials",
    description="""
Marketing approved a testimonial: it is on the public wall. The email service thanks the author.
""",
)
class TestimonialApproved:
    testimonial_id: str
    user_id: str | None
    email: Email
    display_name: str
    program: Program
    program_label: str
    verified: bool


@event(
    "testimonial.rejected",
    producer="testimonials",
    description="""
Marketing rejected a testimonial (or took an approved one down), for a stated reason that is
never the rating alone.
""",
)
class TestimonialRejected:
    testimonial_id: str
    user_id: str | None
    reason: str


@event(
    "testimonial.featured",
    producer="testimonials",
    description="""
Marketing featured an approved testimonial (``featured`` true: first on the wall) or stopped
featuring it (``featured`` false).
""",
)
class TestimonialFeatured:
    testimonial_id: str
    featured: bool
