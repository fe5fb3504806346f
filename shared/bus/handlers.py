"""The handler registry: which event types a service reacts to, and with which use case.

A use case that reacts to an event says so where it is written (``@handles(PaymentSucceeded)``
on ``def activate(uow, event)``); ``Handlers.for_service`` finds them by importing the
service's modules. The registry is data: the worker binds the service's queue to exactly
``registry.event_types`` and ``docs/events.md`` prints the routing table from it, so bindings
can never drift from code, and no file of one-line forwards stands between event and use case.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

from shared.bus import catalogue
from shared.bus.envelope import Event, typed
from shared.db import UnitOfWork

Handler = Callable[[Event, UnitOfWork], None]
UseCase = TypeVar("UseCase", bound=Callable[..., Any])

_NOT_SCANNED = {"tests", "migrations", "worker", "app", "seed", "conftest"}
"""Modules of a service that never hold handlers: scanning them would start apps or tests."""


def handles(event_class: type, *, outside_effects: bool = False) -> Callable[[UseCase], UseCase]:
    """Mark ``fn(uow, event)`` as its service's handler of ``event_class`` (a typed event).

    ``outside_effects``: see ``Handlers.on``.
    """
    if getattr(event_class, "type", None) not in catalogue.CATALOGUE:
        raise ValueError(f"{event_class!r} is not a declared event (shared/bus/events.py)")

    def mark(fn: UseCase) -> UseCase:
        fn.__handles__ = (*getattr(fn, "__handles__", ()), (event_class, outside_effects))  # type: ignore[attr-defined]
        return fn

    return mark


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
        if catalogue.spec(event_type) is None:
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

    @classmethod
    def for_service(cls, service: str) -> Handlers:
        """The registry of ``services.<service>``: every ``@handles`` use case in its modules."""
        return _discover(service)

    def add_use_case(
        self, event_class: type, fn: Callable[..., None], outside_effects: bool
    ) -> None:
        """Register ``fn(uow, event)`` for ``event_class``; the consumer hands it the typed data."""

        def handle(event: Event, uow: UnitOfWork) -> None:
            fn(uow, typed(event))

        handle.use_case = fn  # type: ignore[attr-defined]
        self.on(event_class.type, outside_effects=outside_effects)(handle)  # type: ignore[attr-defined]

    def use_case(self, event_type: str) -> str:
        """``module:function`` of the code that handles ``event_type``, for the routing table."""
        fn = self._by_type[event_type]
        fn = getattr(fn, "use_case", fn)
        return f"{fn.__module__}:{fn.__qualname__}"


@cache
def _discover(service: str) -> Handlers:
    found = Handlers(service)
    package = importlib.import_module(f"services.{service}")
    for module in _modules(package):
        for value in list(vars(module).values()):
            if callable(value) and getattr(value, "__module__", None) == module.__name__:
                for event_class, outside_effects in getattr(value, "__handles__", ()):
                    found.add_use_case(event_class, value, outside_effects)
    return found


def _modules(package: Any) -> list[Any]:
    """Every module of ``package`` and its subpackages, except the ones that hold no handlers."""
    modules = []
    for info in pkgutil.iter_modules(package.__path__, f"{package.__name__}."):
        if info.name.rsplit(".", 1)[1] in _NOT_SCANNED:
            continue
        module = importlib.import_module(info.name)
        modules.append(module)
        if info.ispkg:
            modules += _modules(module)
    return modules
