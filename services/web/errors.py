"""Every failure as a page in the site's layout (the shared factory answers JSON problems).

A service that is down gives a calm 503 page, a refusal the page did not expect gives the
matching status page, and a bug gives a 500 page without details.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, render_template, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from services.web import security
from services.web.clients import ServiceError, ServiceUnavailable

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("Something was wrong with that request", "Go back, reload the page and try again."),
    403: ("You don't have access to this page", "This page is for people with a different role."),
    404: ("We couldn't find that page", "The link may be old or mistyped."),
    405: ("That doesn't work here", "This address does not accept that kind of request."),
    413: ("That was too large", "Send less data and try again."),
    429: ("Too many attempts", "Wait a few minutes and try again."),
    500: ("Something went wrong on our side", "We've logged it. Please try again in a moment."),
    503: (
        "This part of Preceptor is temporarily unavailable",
        "We're on it. Please try again in a few minutes.",
    ),
}


def error_page(status: int, detail: str | None = None) -> tuple[str, int]:
    title, default = MESSAGES.get(status, MESSAGES[500] if status >= 500 else MESSAGES[400])
    return (
        render_template("error.html", status=status, title=title, detail=detail or default),
        status,
    )


def install(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int] | Response:
        status = error.code or 500
        generic = type(error).description
        detail = error.description if error.description != generic else None
        return error_page(status, detail)

    @app.errorhandler(ServiceUnavailable)
    def service_unavailable(error: ServiceUnavailable) -> tuple[str, int]:
        page = error_page(503)
        return page[0], 503, {"Retry-After": "30"}

    @app.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError) -> tuple[str, int, dict[str, str]]:
        """The site's own database (its sessions) is down: a page, not the APIs' problem+json."""
        log.warning("database unavailable", extra={"error": str(error.orig)[:300]})
        page = error_page(503)
        return page[0], 503, {"Retry-After": "30"}

    @app.errorhandler(security.SessionExpired)
    def session_expired(error: security.SessionExpired) -> Response:
        return security.end_expired_session()

    @app.errorhandler(ServiceError)
    def service_refused(error: ServiceError) -> tuple[str, int] | Response:
        """A refusal the page had no form field for: show it as a page of its status."""
        if error.status == 401:
            return security.end_expired_session()
        if error.status in (403, 404, 429):
            return error_page(error.status, error.detail)
        return error_page(400, error.detail)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[str, int]:
        if isinstance(error, HTTPException):
            return http_error(error)
        log.exception("unhandled error", extra={"path": request.path})
        return error_page(500)
