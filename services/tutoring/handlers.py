"""Identity's events, each handed to its use case (the registry also binds tutoring's queue)."""

from __future__ import annotations

from services.tutoring import service
from shared.bus.envelope import Event, load_data
from shared.bus.handlers import Handlers
from shared.db import UnitOfWork

handlers = Handlers("tutoring")


@handlers.on("user.registered")
def on_user_registered(event: Event, uow: UnitOfWork) -> None:
    """An accepted tutor invitation opens the tutor's profile (other roles are ignored)."""
    service.tutor_registered(uow, load_data(event))
