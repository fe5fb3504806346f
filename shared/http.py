"""``create_app()`` for every service: the API, its OpenAPI spec, health, metrics and errors.

Every failure leaves as ``application/problem+json`` (RFC 9457, written by ``shared.problems``)
naming the offending fields, so clients handle one error shape and no endpoint writes its own
error handling.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import flask_smorest
from flask import Flask, Response, current_app, g, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import (
    BadRequest,
    HTTPException,
    RequestEntityTooLarge,
    UnprocessableEntity,
    UnsupportedMediaType,
)

from shared import auth, config, context, logs, metrics, request_text
from shared.auth import BEARER
from shared.db import UnitOfWork
from shared.errors import DomainError
from shared.openapi import PROBLEM, ProblemResponses
from shared.problems import ProblemApi, problem
from shared.runtime import Runtime

log = logging.getLogger(__name__)


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's blueprint, every service's API is made of.

    A request schema given as a class is made an instance once, here: webargs otherwise builds
    one for every request, and building a marshmallow schema deep-copies all its fields, about
    a tenth of a checkout request's time (docs/benchmarks.md). Loading keeps no state on the
    instance, so one serves every request and thread.
    """

    def arguments(self, schema: Any, **kwargs: Any) -> Callable:
        return super().arguments(schema() if isinstance(schema, type) else schema, **kwargs)


__all__ = ["BEARER", "PROBLEM", "create_app", "current_uow", "problem", "runtime_of"]


def create_app(
    runtime: Runtime,
    blueprints: Iterable[Blueprint],
    *,
    title: str,
    description: str = "",
    raw_body_paths: tuple[str, ...] = (),
    configure: Callable[[Flask], None] | None = None,
) -> Flask:
    """Build a service's Flask app from the blueprints it lists.

    The app names every blueprint it serves, ``shared.operations.blp`` included where the
    service has data and a broker: nothing here knows which services exist or what they serve.

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
        # Log lines name the app serving the request, also where one process hosts several
        # (make run's embedded web process, or a test's): never a service an earlier piece of
        # work left in the context.
        g.service_token = context.service.set(service)
        auth.check_declared_access(app.view_functions.get(request.endpoint or ""))
        if request.content_length is None and "chunked" in request.headers.get(
            "Transfer-Encoding", ""
        ):
            _read_chunked_body_within_limit()
        if (
            request.method in ("POST", "PUT", "PATCH")
            and request.path.startswith("/api/")
            and not request.path.startswith(raw_body_paths or ("\0",))
            and (request.content_length or request.headers.get("Transfer-Encoding"))
            and not request.is_json
        ):
            raise UnsupportedMediaType("Send the body as application/json.")
        if "\x00" in request.path:  # no resource is named with a NUL: nothing is there
            return problem(404, "Not Found", "Nothing at that address.")
        if request.path.startswith("/api/") and not request.path.startswith(
            raw_body_paths or ("\0",)
        ):
            _refuse_unstorable_text()
        return None

    @app.teardown_request
    def forget_service(_error: BaseException | None) -> None:
        # Put back what the request found, so work the same thread does next (a test's
        # consumer, say) names its own service.
        token = g.pop("service_token", None)
        if token is not None:
            with contextlib.suppress(ValueError):
                context.service.reset(token)

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


def _read_chunked_body_within_limit() -> None:
    """413 for a chunked body (no ``Content-Length``) that reaches ``MAX_BODY_BYTES``.

    Werkzeug stops reading such a body at the limit and hands the view the truncated bytes
    without a word; reading it here, whole, turns that into the 413 a sized body gets.
    """
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if limit is not None and len(request.get_data(cache=True)) >= limit:
        raise RequestEntityTooLarge()


def _refuse_unstorable_text() -> None:
    """400 for JSON no endpoint can take (too deep, an integer of absurd length), 422 naming
    each field whose text cannot be stored."""
    errors: dict[str, list[str]] = {}
    pairs = [*(request.view_args or {}).items(), *request.args.items(multi=True)]
    for name, value in pairs:
        for text in (name, value):
            if isinstance(text, str) and (message := request_text.problem_with(text)):
                errors.setdefault(name, []).append(message)
                break
    has_body = request.content_length or request.headers.get("Transfer-Encoding")
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and has_body and request.is_json:
        try:
            body = request_text.load_json(request.get_data(cache=True))
        except request_text.Unparseable as exc:
            raise BadRequest(f"The JSON body {exc}.") from exc
        except ValueError:
            body = None  # not JSON at all: the endpoint's parser answers with its own 400
        errors.update(request_text.unstorable(body))
    if errors:
        error = UnprocessableEntity()
        error.data = {"messages": {"json": errors}}
        raise error


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


def current_uow() -> UnitOfWork:
    """A fresh unit of work of the service handling this request."""
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
