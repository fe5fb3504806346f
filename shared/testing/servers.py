"""What tests run beside the code under test: an app served on a port, an SMTP sink, localstripe,
headless Chromium, and ``wait_for`` to poll until one of them (or anything) is ready.

The fixtures here are registered through ``shared.testing.fixtures`` (the suite's plugin).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# How often a test server's loop looks for shutdown(). socketserver's 0.5 s default made
# every test that serves an app wait up to half a second per server while tearing down.
SHUTDOWN_POLL_SECONDS = 0.02


def serve_in_thread(app: Flask) -> BaseWSGIServer:
    """Serve ``app`` over real HTTP on a free port of 127.0.0.1, in a daemon thread; stop it
    with ``server.shutdown()``, which returns within ``SHUTDOWN_POLL_SECONDS``."""
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": SHUTDOWN_POLL_SECONDS}, daemon=True
    ).start()
    return server


def wait_for(
    predicate: Callable[[], object],
    timeout: float = 15.0,
    interval: float = 0.05,
    message: str = "condition",
) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


@pytest.fixture
def smtp_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A real SMTP server (aiosmtpd) on a free port, keeping every message it receives."""
    from shared.devtools.smtp_sink import SmtpSink

    sink = SmtpSink("127.0.0.1", free_port(), tmp_path / "mail")
    sink.start()
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(sink.port))
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def stripe_server() -> Iterator[str]:
    """A real localstripe process on a free loopback port for the whole session (its URL)."""
    import subprocess
    import sys

    import requests

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "shared.devtools.fake_stripe", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        assert process.poll() is None, process.stderr.read().decode()[-2000:]
        try:
            return requests.get(f"{url}/js.stripe.com/v3/", timeout=1).ok
        except requests.RequestException:
            return False

    wait_for(up, timeout=30, message="localstripe to start")
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def stripe_env(stripe_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the payments service (and the checkout page) at the session's localstripe."""
    monkeypatch.setenv("STRIPE_API_BASE", stripe_server)
    monkeypatch.delenv("STRIPE_JS_URL", raising=False)
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_preceptor_tests")
    monkeypatch.setenv("STRIPE_PUBLISHABLE_KEY", "pk_test_preceptor_tests")
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_preceptor_tests")
    return stripe_server


CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright (no browser download needed)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}; `make test` installs it.")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, tmp_path: Path):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15000)
    pg = context.new_page()
    yield pg
    try:
        pg.screenshot(path=str(tmp_path / "last-page.png"), full_page=True)
    finally:
        context.close()
