"""Tutoring's worker: identity's and payments' events, the outbox relay, session reminders,
and the progress notices (result missing, recovery proposals, weekly digests)."""

from __future__ import annotations

from datetime import datetime

from services.tutoring.app import make_runtime
from services.tutoring.use_cases import notices, reminders
from shared.bus.handlers import Handlers
from shared.runtime import Runtime
from shared.worker import Job, main


def send_reminders(runtime: Runtime) -> int:
    """Every minute: ``session.reminder_due`` for sessions starting within 24 hours, once each."""
    return reminders.send_reminders(runtime.uow())


def result_missing(runtime: Runtime, now: datetime | None = None) -> int:
    """Hourly: ``plan.result_missing`` for a checkpoint that passed without a result, once."""
    return notices.send_result_missing(runtime.uow(), now)


def recovery(runtime: Runtime, now: datetime | None = None) -> int:
    """Hourly: a recovery proposal for a plan with many hours missed this past week, once."""
    return notices.send_recoveries(runtime.uow(), now)


def digests(runtime: Runtime, now: datetime | None = None) -> int:
    """Hourly: the weekly progress digests (students, tutors), on their day from 07:00, once."""
    return notices.send_digests(runtime.uow(), now)


HOURLY = 3600
jobs: list[Job] = [
    Job("reminders", 60, send_reminders),
    Job("result_missing", HOURLY, result_missing),
    Job("recovery", HOURLY, recovery),
    Job("digests", HOURLY, digests),
]

if __name__ == "__main__":
    main(make_runtime, Handlers.for_service("tutoring"), jobs)
