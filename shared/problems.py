"""Every failure as ``application/problem+json`` (RFC 9457), naming the offending fields.

``problem`` writes one; ``ProblemApi`` is flask-smorest's Api answering every HTTP error (a
422 from webargs, a 404, a 405) with one, so clients handle one error shape and no endpoint
writes its own error handling. ``shared.http.create_app`` installs it.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import Response, jsonify, request
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from werkzeug.exceptions import HTTPException

from shared import context
from shared.openapi import PROBLEM, ProblemSchema


def problem(
    status: int,
    title: str,
    detail: str | None = None,
    errors: dict[str, Any] | None = None,
    **extra: Any,
) -> Response:
    body: dict[str, Any] = {
        "type": extra.pop("type", "about:blank"),
        "title": title,
        "status": status,
        "detail": detail or title,
        "instance": request.path if request else None,
        "request_id": context.request_id.get(),
    }
    if errors:
        body["errors"] = errors
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM
    return response


def _flatten(messages: Any) -> dict[str, list[str]]:
    """webargs nests errors by location ({"json": {"email": [...]}}); clients want fields."""
    flat: dict[str, list[str]] = {}

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{prefix}.{key}" if prefix else str(key))
        elif isinstance(node, list) and all(isinstance(m, str) for m in node):
            flat.setdefault(prefix or "body", []).extend(node)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{prefix}[{i}]")
        else:
            flat.setdefault(prefix or "body", []).append(str(node))

    if isinstance(messages, dict) and set(messages) <= {
        "json",
        "query",
        "form",
        "headers",
        "files",
        "path",
        "view_args",
        "cookies",
    }:
        for value in messages.values():
            walk(value, "")
    else:
        walk(messages, "")
    return flat


class ProblemApi(Api):
    """flask-smorest's Api, answering every HTTP error with problem+json (and saying so).

    No catch-all ``default`` response: every status an operation can answer is documented
    (the common ones by ``shared.openapi.ProblemResponses``), so a conformance check can tell
    an undocumented status from a documented one.
    """

    DEFAULT_ERROR_RESPONSE_NAME = None
    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self) -> None:
        """The named responses flask-smorest refers to (e.g. its 422) are problems too."""
        for status in HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM)
            self.spec.components.response(status.name, response, lazy=True)

    def handle_http_exception(self, error: HTTPException) -> Response:
        data = getattr(error, "data", None) or {}
        messages = data.get("messages")
        errors = _flatten(messages) if messages else None
        status = error.code or 500
        if status == 422 and errors:
            detail = "Invalid fields: " + ", ".join(sorted(errors))
        elif status == 400 and errors:
            detail = "; ".join(m for ms in errors.values() for m in ms)
        else:
            detail = error.description
        response = problem(status, error.name, detail, errors)
        if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response
