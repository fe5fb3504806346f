"""Prometheus metrics move when the real thing happens, where an operator scrapes them.

A service's web process answers /metrics; its worker answers on METRICS_PORT; under gunicorn
the worker processes' counts are added up.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import requests

from services.email import delivery
from shared.bus.envelope import new_event
from shared.bus.handlers import Handlers
from shared.testing.fixtures import free_port, pump, wait_for
from shared.testing.observe import sample
from shared.worker import Worker
from tests.test_operations_api import _submitted, activated, dead_letter, publish

ROOT = Path(__file__).resolve().parents[1]


def scrape(svc) -> bytes:
    response = svc.client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    return response.data


def test_http_requests_are_counted_and_timed_by_route_and_status(services):
    svc = services("testimonials")
    route = {"service": "testimonials", "route": "/api/testimonials", "method": "GET"}
    before = scrape(svc)

    for _ in range(3):
        assert svc.client.get("/api/testimonials").status_code == 200
    assert svc.client.get("/api/testimonials?limit=nope").status_code == 422
    svc.client.get("/api/no-such-thing")

    after = scrape(svc)

    def moved(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert moved("preceptor_http_requests_total", **route, status="200") == 3
    assert moved("preceptor_http_requests_total", **route, status="422") == 1
    assert moved("preceptor_http_request_duration_seconds_count", **route) == 4
    assert (
        moved(
            "preceptor_http_requests_total",
            service="testimonials",
            route="<unmatched>",
            status="404",
        )
        == 1
    )


def test_events_published_consumed_retried_and_dead_lettered_are_counted(services, monkeypatch):
    testimonials = services("testimonials")
    event_labels = {"service": "testimonials", "type": "enrollment.activated"}
    before = scrape(testimonials)

    publish(testimonials, activated())
    pump(testimonials)
    dead_letter(testimonials, monkeypatch, activated())
    with testimonials.runtime.uow() as uow:
        uow.record(_submitted())
        uow.commit()
    waiting = scrape(testimonials)
    testimonials.relay.relay_once()
    after = scrape(testimonials)

    def moved(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert moved("preceptor_events_consumed_total", **event_labels) == 1
    assert moved("preceptor_events_retried_total", **event_labels) == 2
    assert moved("preceptor_events_dead_lettered_total", **event_labels) == 1
    published = {"service": "testimonials", "type": "testimonial.submitted"}
    assert moved("preceptor_events_published_total", **published) == 1
    assert sample(waiting, "preceptor_outbox_backlog", service="testimonials") == 1
    assert sample(waiting, "preceptor_outbox_oldest_age_seconds", service="testimonials") >= 0
    assert sample(after, "preceptor_outbox_backlog", service="testimonials") == 0
    assert "preceptor_outbox_oldest_age_seconds" in after.decode()


def test_a_worker_serves_its_metrics_on_metrics_port(services, monkeypatch):
    svc = services("testimonials")
    port = free_port()
    monkeypatch.setenv("METRICS_PORT", str(port))
    monkeypatch.setenv("METRICS_HOST", "127.0.0.1")
    worker = Worker(svc.runtime, Handlers.for_service("testimonials"))
    server = worker.start_metrics_endpoint()
    try:
        assert server.server_port == port
        publish(svc, activated())
        pump(svc)
        scraped = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    finally:
        server.shutdown()
        server.server_close()
    assert scraped.status_code == 200
    assert scraped.headers["Content-Type"].startswith("text/plain")
    body = scraped.text
    assert sample(body, "preceptor_events_consumed_total", service="testimonials") >= 1
    assert sample(body, "preceptor_outbox_backlog", service="testimonials") == 0


def test_metrics_port_zero_turns_the_worker_endpoint_off(services, monkeypatch):
    monkeypatch.setenv("METRICS_PORT", "0")
    assert (
        Worker(
            services("testimonials").runtime, Handlers.for_service("testimonials")
        ).start_metrics_endpoint()
        is None
    )


def test_transactional_emails_sent_and_failed_are_counted(services, smtp_server, monkeypatch):
    email = services("email")

    def registered():
        return new_event(
            "user.registered",
            {
                "user_id": str(uuid.uuid4()),
                "email": f"ada-{uuid.uuid4().hex[:6]}@example.com",
                "name": "Ada Lovelace",
                "roles": ["student"],
            },
            "identity",
        )

    def counted(kind: str) -> tuple[float, float]:
        body = scrape(email)
        return (
            sample(body, "preceptor_emails_sent_total", kind=kind),
            sample(body, "preceptor_emails_failed_total", kind=kind),
        )

    before = counted("transactional")
    publish(email, registered())
    pump(email)
    assert delivery.send_due(email.runtime) == 1
    monkeypatch.setenv("SMTP_PORT", str(free_port()))  # nobody listens there
    publish(email, registered())
    pump(email)
    assert delivery.send_due(email.runtime) == 0
    sent, failed = counted("transactional")
    assert (sent - before[0], failed - before[1]) == (1, 1)


def _children(pid: int) -> set[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return {int(p) for p in out.stdout.split()}


def test_gunicorn_workers_metrics_add_up_even_after_a_worker_dies(tmp_path):
    """Requests answered by worker processes that were since killed still count on /metrics.

    Which gunicorn worker takes a request is up to the kernel (often all go to one), so the
    test makes sure several processes answered: it kills the workers half-way and lets gunicorn
    start new ones. Without multiprocess mode the scrape would only know the new workers' half.
    """
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": "1",
        "VAR_DIR": str(tmp_path / "var"),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "LOG_LEVEL": "WARNING",
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(
        [str(gunicorn), "-c", "deploy/gunicorn.conf.py", "services.web.app:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    labels = {"service": "web", "route": "/healthz", "status": "200"}

    def up() -> bool:
        assert process.poll() is None, "gunicorn exited"
        try:
            return requests.get(f"{url}/healthz", timeout=1).ok
        except requests.RequestException:
            return False

    def healthz(times: int) -> None:
        for _ in range(times):
            assert requests.get(f"{url}/healthz", timeout=5, headers={"Connection": "close"}).ok

    def counted() -> float:
        text = requests.get(f"{url}/metrics", timeout=5).text
        return sample(text, "preceptor_http_requests_total", **labels)

    try:
        wait_for(up, timeout=30, message="gunicorn to answer")
        wait_for(lambda: len(_children(process.pid)) == 2, timeout=30, message="two workers")
        start = counted()
        healthz(20)
        first = _children(process.pid)
        for pid in first:
            os.kill(pid, signal.SIGKILL)
        wait_for(
            lambda: len(_children(process.pid) - first) == 2,
            timeout=30,
            message="gunicorn to replace its workers",
        )
        wait_for(up, timeout=30, message="the new workers to answer")
        after_restart = counted()
        healthz(20)
        scrapes = [counted() for _ in range(4)]
    finally:
        process.terminate()
        process.wait(timeout=30)
    # up() itself asked /healthz once or more after the restart: count from there.
    assert after_restart >= start + 20
    assert scrapes == [after_restart + 20] * 4
