"""What every benchmark needs around it: scratch databases, child processes, free ports,
unique names on the shared RabbitMQ, and the arithmetic of the figures (medians, ratios).

Benchmarks run against the machine's real PostgreSQL and RabbitMQ, which tests on the same
machine share: everything made here has a unique name and is removed afterwards.
"""

from __future__ import annotations

import math
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get(
    "BENCH_DATABASE_URL",
    os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
)
AMQP_URL = os.environ.get(
    "BENCH_BROKER_URL",
    os.environ.get("TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//"),
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen | None = None, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{_name(process)} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listened on port {port} within {timeout:g} s")


def _name(process: subprocess.Popen) -> str:
    args = process.args if isinstance(process.args, list) else [str(process.args)]
    return " ".join(str(a) for a in args[:4])


def tag() -> str:
    """A short unique suffix for databases, exchanges and queues of one run."""
    return uuid.uuid4().hex[:8]


@contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    """An empty PostgreSQL database (its URL), dropped afterwards."""
    name = f"{prefix}_{tag()}"
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield sa.engine.make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Processes:
    """Child processes of one benchmark, each stopped (SIGTERM, then SIGKILL) on exit."""

    def __init__(self, env: dict[str, str] | None = None, log_dir: Path | None = None) -> None:
        self.env = {**os.environ, **(env or {})}
        self.log_dir = log_dir
        self.started: list[subprocess.Popen] = []

    def start(self, name: str, args: Sequence[str], **env: str) -> subprocess.Popen:
        out = subprocess.DEVNULL
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            out = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 (closed with the child)
        process = subprocess.Popen(
            list(args),
            cwd=ROOT,
            env={**self.env, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        if out is not subprocess.DEVNULL:
            out.close()
        self.started.append(process)
        return process

    def python(self, name: str, *args: str, **env: str) -> subprocess.Popen:
        return self.start(name, [sys.executable, *args], **env)

    def gunicorn(self, name: str, app: str, port: int, **env: str) -> subprocess.Popen:
        """``app`` under the deployment's gunicorn settings (deploy/gunicorn.conf.py)."""
        return self.python(
            name,
            "-m",
            "gunicorn",
            "-c",
            str(ROOT / "deploy" / "gunicorn.conf.py"),
            app,
            PORT=str(port),
            **env,
        )

    def stop(self) -> None:
        for process in reversed(self.started):
            if process.poll() is None:
                process.terminate()
        for process in reversed(self.started):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        self.started.clear()

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def delete_broker_names(exchange: str, queue_prefix: str, queues: Sequence[str]) -> None:
    """Remove a run's exchange and queues from the shared RabbitMQ."""
    from kombu import Connection

    with Connection(AMQP_URL, connect_timeout=5) as conn:
        channel = conn.channel()
        for name in queues:
            if name.startswith(queue_prefix):
                channel.queue_delete(name)
        channel.exchange_delete(exchange)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else 0.0


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` 0.5 is the median, 0.99 the 99th)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


def ratio(value: float, baseline: float) -> float:
    return value / baseline if baseline else 0.0


def verdict(held: bool) -> str:
    return "held" if held else "missed"
