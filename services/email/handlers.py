"""Events that become emails. Each handler only inserts a delivery row (DESIGN.md §8)."""

from __future__ import annotations

from services.email import service
from shared.bus.envelope import Event, load_data
from shared.bus.handlers import Handlers
from shared.db import UnitOfWork

handlers = Handlers("email")


@handlers.on("user.registered")
def on_user_registered(event: Event, uow: UnitOfWork) -> None:
    service.welcome(uow, event.id, load_data(event))


@handlers.on("user.invited")
def on_user_invited(event: Event, uow: UnitOfWork) -> None:
    service.invite(uow, event.id, load_data(event))


@handlers.on("user.password_reset_requested")
def on_password_reset_requested(event: Event, uow: UnitOfWork) -> None:
    service.password_reset(uow, event.id, load_data(event))
