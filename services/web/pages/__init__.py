"""The site's pages, one blueprint per area."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from services.web.pages import (
    accounts,
    admin,
    courses,
    formatting,
    home,
    marketing,
    operations,
    subscriptions,
    testimonials,
    tutor,
    tutoring,
)

STATIC = Path(__file__).resolve().parent.parent / "static"


def register(app: Flask) -> None:
    # Flask always routes /static to the app's own folder; point it at the site's assets.
    app.static_folder = str(STATIC)
    formatting.install(app)
    blueprints = (home.bp, subscriptions.bp, accounts.bp, courses.bp, admin.bp, operations.bp)
    for blueprint in (*blueprints, tutoring.bp, tutor.bp, marketing.bp, testimonials.bp):
        app.register_blueprint(blueprint)
