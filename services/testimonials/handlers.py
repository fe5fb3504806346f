"""Enrollment's and tutoring's events, each handed to its use case (also testimonials' bindings).

They teach the service which courses exist, who is a real student of what (the verified
badge), and when to ask for a story.
"""

from __future__ import annotations

from services.testimonials.use_cases import learning
from shared.bus.envelope import Event, load_data
from shared.bus.handlers import Handlers
from shared.db import UnitOfWork

handlers = Handlers("testimonials")


@handlers.on("enrollment.activated")
def on_enrollment_activated(event: Event, uow: UnitOfWork) -> None:
    """The course becomes a program; the student a verified author of it."""
    learning.enrollment_activated(uow, load_data(event))


@handlers.on("enrollment.completed")
def on_enrollment_completed(event: Event, uow: UnitOfWork) -> None:
    """Verified, and asked once for a testimonial about the course."""
    learning.enrollment_completed(uow, load_data(event))


@handlers.on("consultation.completed")
def on_consultation_completed(event: Event, uow: UnitOfWork) -> None:
    """A verified tutoring student."""
    learning.consultation_completed(uow, load_data(event))


@handlers.on("session.completed")
def on_session_completed(event: Event, uow: UnitOfWork) -> None:
    """Counted once; the Nth completed session asks (once) for a testimonial about tutoring."""
    learning.session_completed(uow, load_data(event))
