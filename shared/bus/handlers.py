"""The handler registry: which event types a service reacts to, and with which function.

The registry is data: the worker binds the service's queue to exactly ``registry.event_types``
and ``docs/events.md`` lists the consumers from it, so bindings can never drift from code.
"""

from __future__ import annotations

from collections.abc import Callable

from shared.bus.catalogue import CATALOGUE
from shared.bus.envelope import Event
from shared.db import UnitOfWork

Handler = Callable[[Event, UnitOfWork], None]


class Handlers:
    def __init__(self, service: str) -> None:
        self.service = service
        self._by_type: dict[str, Handler] = {}
        self._outside_effects: set[str] = set()

    def on(self, event_type: str, *, outside_effects: bool = False) -> Callable[[Handler], Handler]:
        """Register a plain function ``(event, uow)`` for one event type.

        One handler per type and service: it commits at most once, together with the inbox
        row, so an event is either wholly applied or not at all.

        ``outside_effects``: the handler acts on a system outside the database (a Stripe
        refund). The consumer then applies the event in a transaction of its own, committed
        right after the handler, instead of in a batch with other events (see consumer.py):
        the time between the outside effect and the commit recording it stays as short as
        it can be.
        """
        if event_type not in CATALOGUE:
            raise ValueError(f"{self.service}: no event type {event_type!r} in the catalogue")

        def register(fn: Handler) -> Handler:
            if event_type in self._by_type:
                raise ValueError(f"{self.service}: {event_type} already has a handler")
            self._by_type[event_type] = fn
            if outside_effects:
                self._outside_effects.add(event_type)
            return fn

        return register

    def get(self, event_type: str) -> Handler | None:
        return self._by_type.get(event_type)

    def has_outside_effects(self, event_type: str) -> bool:
        return event_type in self._outside_effects

    @property
    def event_types(self) -> list[str]:
        return sorted(self._by_type)

    def items(self) -> list[tuple[str, Handler]]:
        return sorted(self._by_type.items())
