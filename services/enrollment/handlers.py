"""Payments' events, each handed to its use case (the registry also binds enrollment's queue)."""

from __future__ import annotations

from services.enrollment.use_cases import payment_events
from shared.bus.envelope import Event, load_data
from shared.bus.handlers import Handlers
from shared.db import UnitOfWork

handlers = Handlers("enrollment")


@handlers.on("payment.succeeded")
def on_payment_succeeded(event: Event, uow: UnitOfWork) -> None:
    payment_events.payment_succeeded(uow, load_data(event))


@handlers.on("payment.failed")
def on_payment_failed(event: Event, uow: UnitOfWork) -> None:
    payment_events.payment_failed(uow, load_data(event))


@handlers.on("payment.refunded")
def on_payment_refunded(event: Event, uow: UnitOfWork) -> None:
    payment_events.payment_refunded(uow, load_data(event))
