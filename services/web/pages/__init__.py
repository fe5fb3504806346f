"""The site's pages, one blueprint per area."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from services.web.pages import (
    accounts,
    admin,
    assessment_forms,
    charts,
    courses,
    formatting,
    home,
    marketing,
    operations,
    plan_checks,
    progress,
    progress_view,
    reflections,
    results,
    study_plan,
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
    # The assessment → plan loop (issue 12): plan, progress, results, reflections, links, forms.
    loop = (study_plan.bp, progress.bp, results.bp, reflections.bp, plan_checks.bp)
    for blueprint in (*loop, assessment_forms.bp):
        app.register_blueprint(blueprint)
    app.jinja_env.filters["score"] = charts.score_text
    app.jinja_env.filters["estimate"] = charts.estimate_text
    app.jinja_env.filters["result"] = charts.result_text
    app.jinja_env.filters["change"] = charts.change_text
    app.jinja_env.filters["readable"] = progress_view.readable
