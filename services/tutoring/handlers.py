"""Identity's and payments' events, each handed to its use case (also tutoring's bindings)."""

from __future__ import annotations

from services.tutoring.use_cases import packages, tutors
from shared.bus.envelope import Event, load_data
from shared.bus.handlers import Handlers
from shared.db import UnitOfWork

handlers = Handlers("tutoring")


@handlers.on("user.registered")
def on_user_registered(event: Event, uow: UnitOfWork) -> None:
    """An accepted tutor invitation opens the tutor's profile (other roles are ignored)."""
    tutors.tutor_registered(uow, load_data(event))


@handlers.on("payment.succeeded")
def on_payment_succeeded(event: Event, uow: UnitOfWork) -> None:
    """A paid package credits its hours (payments for other purchase kinds are ignored)."""
    packages.payment_succeeded(uow, load_data(event))


@handlers.on("payment.refunded")
def on_payment_refunded(event: Event, uow: UnitOfWork) -> None:
    """A refunded package takes its unused hours back."""
    packages.payment_refunded(uow, load_data(event))
