"""The event catalogue: every event and command the suite may publish, and its data's shape.

Each producing service declares its own in ``services/<producer>/events.py`` (typed classes,
shared/bus/events.py); this module is the union of them. A producer cannot publish, and a
consumer will not accept, an event whose type is missing here or whose data does not match.
``docs/events.md`` is generated from it (``make docs``).
"""

from __future__ import annotations

import importlib
from functools import cache

from shared import config
from shared.bus.events import CATALOGUE, EventType

__all__ = ["CATALOGUE", "EventType", "load", "spec"]


@cache
def load() -> dict[str, EventType]:
    """Import every service's events module, so the catalogue holds all of them.

    Imported by name (services depend on shared, never the other way round); a service without
    events (the site) simply has no module.
    """
    for service in config.SERVICES:
        try:
            importlib.import_module(f"services.{service}.events")
        except ModuleNotFoundError as exc:
            if exc.name not in (f"services.{service}.events", f"services.{service}"):
                raise
    return CATALOGUE


def spec(type_: str) -> EventType | None:
    """The catalogue entry of ``type_``, loading all producers' modules on the first miss."""
    found = CATALOGUE.get(type_)
    return found if found is not None else load().get(type_)
