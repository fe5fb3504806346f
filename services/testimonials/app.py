"""Testimonials' Flask app (``gunicorn services.testimonials.app:app``) and its runtime."""

from __future__ import annotations

from flask import Flask

from services.testimonials.api import admin_blp, blp
from services.testimonials.models import Base
from shared import operations
from shared.bus.broker import Broker
from shared.http import create_app as create_service_app
from shared.http import lazy_app
from shared.runtime import Runtime

DESCRIPTION = """
Testimonials from students (and, labelled as such, tutors and staff): submission signed in or
through a signed, expiring request link, with the consent text recorded and a timestamp;
moderation by marketing (approve, reject for a stated reason, edit with an audit trail,
feature, order the wall); the public wall with a "verified student" badge learned from
enrollment's and tutoring's events. Nothing is public without consent.
"""


def make_runtime(database_url: str | None = None, broker: Broker | None = None) -> Runtime:
    return Runtime.build("testimonials", Base.metadata, database_url=database_url, broker=broker)


def create_app(runtime: Runtime | None = None) -> Flask:
    return create_service_app(
        runtime or make_runtime(),
        [blp, admin_blp, operations.blp],
        title="Preceptor testimonials",
        description=DESCRIPTION,
    )


__getattr__ = lazy_app(create_app)
