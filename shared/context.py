"""The flow a piece of work belongs to, carried from HTTP requests into events and back out.

A correlation id starts at the HTTP request (or the event) that began a flow and is copied into
every event that flow causes, so one grep follows a student's checkout across services.
"""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "correlation_id", default=None
)
causation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "causation_id", default=None
)
service: contextvars.ContextVar[str | None] = contextvars.ContextVar("service", default=None)
"""The service whose work this is, where one process hosts several (`make run`'s embedded
default, shared/devtools/embedded.py); unset, the process's own service."""


def new_id() -> str:
    return str(uuid.uuid4())


def current_correlation_id() -> str:
    """The flow's id, starting a new flow when nothing set one (a scheduled job, a CLI)."""
    value = correlation_id.get()
    if value is None:
        value = new_id()
        correlation_id.set(value)
    return value


@contextmanager
def flow(*, correlation: str | None, causation: str | None = None) -> Iterator[None]:
    """Run a block as part of an existing flow (or a new one), e.g. while handling an event.

    No HTTP request is behind such a block, so the request id is cleared for its duration:
    a thread that served a request before must not lend that request's id to the lines of
    an event it handles later.
    """
    tokens = (
        correlation_id.set(correlation or new_id()),
        causation_id.set(causation),
        request_id.set(None),
    )
    try:
        yield
    finally:
        correlation_id.reset(tokens[0])
        causation_id.reset(tokens[1])
        request_id.reset(tokens[2])
