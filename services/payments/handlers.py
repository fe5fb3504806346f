"""Events payments reacts to: a refund request becomes (at most) one Stripe refund."""

from __future__ import annotations

from services.payments.stripe_gateway import gateway
from services.payments.use_cases import refunds
from shared.bus.envelope import Event, load_data
from shared.bus.handlers import Handlers
from shared.db import UnitOfWork

handlers = Handlers("payments")


@handlers.on("refund.requested", outside_effects=True)
def on_refund_requested(event: Event, uow: UnitOfWork) -> None:
    refunds.refund_requested(uow, gateway(), load_data(event))
