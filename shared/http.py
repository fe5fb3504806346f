"""``create_app()`` for every service: the API, its OpenAPI spec, health, metrics and errors.

Every failure leaves as ``application/problem+json`` (RFC 9457) naming the offending fields,
so clients handle one error shape and no endpoint writes its own error handling.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, g, jsonify, request
from flask_smorest import Api, Blueprint
from flask_smorest.utils import prepare_response
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, UnsupportedMediaType

from shared import auth, config, context, logs, metrics
from shared.auth import BEARER
from shared.errors import DomainError
from shared.openapi import PROBLEM, ProblemResponses, ProblemSchema
from shared.runtime import Runtime

log = logging.getLogger(__name__)

__all__ = ["BEARER", "PROBLEM", "create_app", "current_uow", "problem", "runtime_of"]


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


def create_app(
    runtime: Runtime,
    blueprints: Iterable[Blueprint],
    *,
    title: str,
    description: str = "",
    raw_body_paths: tuple[str, ...] = (),
    configure: Callable[[Flask], None] | None = None,
) -> Flask:
    """Build a service's Flask app.

    ``raw_body_paths`` lists path prefixes that accept non-JSON bodies (webhooks, RFC 8058
    one-click unsubscribe); everything else under ``/api/`` must send JSON.
    """
    logs.configure(runtime.service)
    app = Flask(runtime.service)
    app.config.update(
        API_TITLE=title,
        API_VERSION="1.0.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        MAX_CONTENT_LENGTH=config.max_body_bytes(),
        API_SPEC_OPTIONS={
            "info": {"description": description},
            "components": {
                "securitySchemes": {
                    "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
                }
            },
        },
        JSON_SORT_KEYS=False,
    )
    app.extensions["runtime"] = runtime
    api = ProblemApi(app, spec_kwargs={"extra_plugins": [ProblemResponses()]})
    app.extensions["problem_api"] = api
    for bp in blueprints:
        api.register_blueprint(bp)
    if runtime.db is not None and runtime.broker is not None:
        from shared import operations

        api.register_blueprint(operations.blp)
    _install_hooks(app, runtime, raw_body_paths)
    _install_probes(app, runtime)
    if configure:
        configure(app)
    return app


def _install_hooks(app: Flask, runtime: Runtime, raw_body_paths: tuple[str, ...]) -> None:
    service = runtime.service

    @app.before_request
    def start() -> Response | None:
        g.started = time.perf_counter()
        rid = request.headers.get("X-Request-ID") or str(uuid.uuid4())
        cid = request.headers.get("X-Correlation-ID") or rid
        context.request_id.set(rid[:100])
        context.correlation_id.set(cid[:100])
        context.causation_id.set(None)
        auth.check_declared_access(app.view_functions.get(request.endpoint or ""))
        if (
            request.method in ("POST", "PUT", "PATCH")
            and request.path.startswith("/api/")
            and not request.path.startswith(raw_body_paths or ("\0",))
            and (request.content_length or request.headers.get("Transfer-Encoding"))
            and not request.is_json
        ):
            raise UnsupportedMediaType("Send the body as application/json.")
        return _refuse_nul_characters(raw_body_paths)

    @app.after_request
    def finish(response: Response) -> Response:
        response.headers["X-Request-ID"] = context.request_id.get() or ""
        response.headers["X-Correlation-ID"] = context.correlation_id.get() or ""
        route = request.url_rule.rule if request.url_rule else "<unmatched>"
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        metrics.HTTP_REQUESTS.labels(service, route, request.method, response.status_code).inc()
        metrics.HTTP_LATENCY.labels(service, route, request.method).observe(elapsed)
        if route not in ("/healthz", "/metrics"):
            log.info(
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "ms": round(elapsed * 1000, 1),
                },
            )
        return response

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError) -> Response:
        response = problem(
            error.status,
            error.title,
            error.detail,
            error.errors(),
            type=f"urn:preceptor:{error.code}",
        )
        response.headers.update(error.headers())
        return response

    @app.errorhandler(OperationalError)
    def database_down(error: OperationalError) -> Response:
        log.warning("database unavailable", extra={"error": str(error.orig)[:300]})
        response = problem(503, "Service Unavailable", "The database is not reachable; try again.")
        response.headers["Retry-After"] = "2"
        return response

    @app.errorhandler(DBAPIError)
    def database_error(error: DBAPIError) -> Response:
        if error.connection_invalidated:
            return database_down(error)  # type: ignore[arg-type]
        log.exception("database error")
        return problem(500, "Internal Server Error", "Something went wrong on our side.")

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        if isinstance(error, HTTPException):
            return app.extensions["problem_api"].handle_http_exception(error)
        log.exception("unhandled error")
        return problem(500, "Internal Server Error", "Something went wrong on our side.")


NUL = "\x00"


def _fields_with_nul(node: Any, prefix: str = "") -> Iterator[str]:
    if isinstance(node, str):
        if NUL in node:
            yield prefix or "body"
    elif isinstance(node, dict):
        for key, value in node.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if NUL in str(key):
                yield name
            yield from _fields_with_nul(value, name)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _fields_with_nul(value, f"{prefix}[{i}]")


def _refuse_nul_characters(raw_body_paths: tuple[str, ...]) -> Response | None:
    """Refuse the NUL character in a path, a query or a JSON body, naming the field.

    PostgreSQL text cannot hold it and no name, address or story needs it: refused at the
    door it is the caller's 4xx, not a database error and a 500.
    """
    if NUL in request.path:
        return problem(404, "Not Found", "Nothing at that address.")
    errors: dict[str, list[str]] = {}
    for name, value in request.args.items(multi=True):
        if NUL in name or NUL in value:
            errors.setdefault(name, []).append("The NUL character is not allowed.")
    if request.is_json and not request.path.startswith(raw_body_paths or ("\0",)):
        for name in _fields_with_nul(request.get_json(silent=True)):
            errors.setdefault(name, []).append("The NUL character is not allowed.")
    if errors:
        detail = "Invalid fields: " + ", ".join(sorted(errors))
        return problem(422, "Unprocessable Entity", detail, errors)
    return None


def _install_probes(app: Flask, runtime: Runtime) -> None:
    broker_checked = {"at": 0.0, "ok": False, "error": ""}

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify(status="ok", service=runtime.service)

    @app.get("/readyz")
    def readyz() -> Response:
        checks: dict[str, str] = {}
        if runtime.db is not None:
            try:
                runtime.db.ping()
                checks["database"] = "ok"
            except Exception as exc:
                checks["database"] = f"unreachable: {type(exc).__name__}"
        now = time.monotonic()
        if runtime.broker is None:
            broker_checked.update(ok=True)
        elif now - broker_checked["at"] > 5:
            try:
                with runtime.broker.connection() as conn:
                    conn.ensure_connection(max_retries=1, timeout=3)
                broker_checked.update(ok=True, error="")
            except Exception as exc:
                broker_checked.update(ok=False, error=type(exc).__name__)
            broker_checked["at"] = now
        if runtime.broker is not None:
            checks["broker"] = (
                "ok" if broker_checked["ok"] else f"unreachable: {broker_checked['error']}"
            )
        ok = all(v == "ok" for v in checks.values())
        response = jsonify(status="ok" if ok else "unavailable", checks=checks)
        response.status_code = 200 if ok else 503
        return response

    @app.get("/metrics")
    def metrics_endpoint() -> Response:
        return Response(
            metrics.exposition(runtime.service, runtime.db), mimetype=CONTENT_TYPE_LATEST
        )


def runtime_of(app: Flask) -> Runtime:
    return app.extensions["runtime"]


def current_uow():
    """A fresh unit of work of the service handling this request."""
    from flask import current_app

    return runtime_of(current_app).uow()


def lazy_app(factory: Callable[[], Flask]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that builds ``app`` on first use.

    ``gunicorn services.<name>.app:app`` gets its app, while importing the module (tests,
    tools) reads no environment and opens no database.
    """
    built: dict[str, Flask] = {}

    def module_getattr(name: str) -> Any:
        if name != "app":
            raise AttributeError(name)
        if "app" not in built:
            built["app"] = factory()
        return built["app"]

    return module_getattr
