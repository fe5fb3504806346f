"""Tutoring's Flask app (``gunicorn services.tutoring.app:app``) and its runtime."""

from __future__ import annotations

from flask import Flask

from services.tutoring.api import admin_blp, blp
from services.tutoring.api_progress import progress_admin_blp, progress_blp
from services.tutoring.api_tracking import blp as tracking_blp
from services.tutoring.models import Base
from shared import operations
from shared.bus.broker import Broker
from shared.http import create_app as create_service_app
from shared.http import lazy_app
from shared.runtime import Runtime

DESCRIPTION = """
Tutors and their availability (in their own time zone), bookable slots shown on the viewer's
clock, the free initial consultation with its intake, the tutor's assessment, and the
student's versioned study plan with a subscribable calendar feed; packages of hours bought
through payments, the student's credits, and paid 1:1 sessions (cancel, reschedule, lesson
notes).
"""


def make_runtime(database_url: str | None = None, broker: Broker | None = None) -> Runtime:
    return Runtime.build("tutoring", Base.metadata, database_url=database_url, broker=broker)


def create_app(runtime: Runtime | None = None) -> Flask:
    return create_service_app(
        runtime or make_runtime(),
        [blp, admin_blp, progress_blp, progress_admin_blp, tracking_blp, operations.blp],
        title="Preceptor tutoring",
        description=DESCRIPTION,
    )


__getattr__ = lazy_app(create_app)
