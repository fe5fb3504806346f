"""Tutoring's worker: identity's and payments' events, the outbox relay, session reminders."""

from __future__ import annotations

from services.tutoring import service
from services.tutoring.app import make_runtime
from services.tutoring.handlers import handlers
from shared.runtime import Runtime
from shared.worker import Job, main


def send_reminders(runtime: Runtime) -> int:
    """Every minute: ``session.reminder_due`` for sessions starting within 24 hours, once each."""
    return service.send_reminders(runtime.uow())


jobs: list[Job] = [Job("reminders", 60, send_reminders)]

if __name__ == "__main__":
    main(make_runtime, handlers, jobs)
