"""`make run`'s two big processes: every service's web app in one gunicorn, every service's
worker in one process.

    gunicorn -c python:shared.devtools.gunicorn_embedded 'shared.devtools.embedded:web_app()'
    python -m shared.devtools.embedded

Why not a gunicorn and a worker per service, as docker-compose and Kubernetes run them: each
Python process of the suite holds its own copy of the code it imports (Flask, SQLAlchemy, JWT
and cryptography, stripe, the shared runtime: about 60 MiB of PSS before it does anything), so
thirteen of them cost a laptop over 800 MiB however few gunicorn workers each has. Here that
code is imported once per process instead (docs/benchmarks.md, "make run: processes and PSS
when idle"). Each service keeps its own app, port, database, queue and worker threads; only the
process is shared, and supervisord (shared/devtools/supervise.py) restarts it if it dies.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Iterable
from typing import Any

from shared import config, context, logs
from shared.bus.handlers import Handlers
from shared.worker import Worker, run_together

WORKER_SERVICES = tuple(
    s for s in config.SERVICES if importlib.util.find_spec(f"services.{s}.worker") is not None
)
"""Services with a worker (services/<name>/worker.py)."""


class ByPort:
    """A WSGI app that hands each request to the app of the port it came in on.

    gunicorn listens on every service's port and puts the port the connection was accepted on
    in ``SERVER_PORT`` (the listening socket's, not the client's Host header).
    """

    def __init__(self, apps: dict[int, tuple[str, Callable[..., Any]]]) -> None:
        self.apps = apps

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        found = self.apps.get(int(environ.get("SERVER_PORT") or 0))
        if found is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"no service listens on this port\n"]
        service, app = found
        token = context.service.set(service)
        try:
            return app(environ, start_response)
        finally:
            context.service.reset(token)  # the thread's next request names its own


def web_app() -> ByPort:
    """Every service's Flask app behind its own port (gunicorn calls this in its worker)."""
    logs.configure("web-apps")
    apps = {}
    for service in config.SERVICES:
        module = importlib.import_module(f"services.{service}.app")
        apps[config.service_port(service)] = (service, module.app)
    return ByPort(apps)


def workers() -> list[Worker]:
    """Every service's worker, each with its own runtime (database, broker, queue)."""
    built = []
    for service in WORKER_SERVICES:
        module = importlib.import_module(f"services.{service}.worker")
        built.append(Worker(module.make_runtime(), Handlers.for_service(service), module.jobs))
    return built


if __name__ == "__main__":
    run_together(workers())
