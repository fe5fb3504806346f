"""The suite as separate processes, as docker-compose and Kubernetes run it, for the benchmarks
that load it end to end (money_path, site).

Each service's web app runs under gunicorn (deploy/gunicorn.conf.py) beside its worker, with
localstripe (shared/devtools/fake_stripe.py) and the SMTP sink (shared/devtools/smtp_sink.py),
on a scratch PostgreSQL database (one schema per service) and a uniquely named exchange and
queues on the shared RabbitMQ. The admin account, the webhook and one published course with
room for everyone are ready once ``start`` returns.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import requests

from benchmarks import stack

PASSWORD = "a benchmark password"
COURSE = "benchmark-course"
SERVICES = ("identity", "enrollment", "payments", "email")
WEBHOOK_SECRET = "whsec_preceptor_benchmark"


class Suite:
    """The processes of the suite, started once for every run of a benchmark.

    ``services`` are the web apps to start, each under gunicorn; every one of them that has a
    worker (``services/<name>/worker.py``) gets it too, as in production.
    """

    def __init__(
        self, workdir: Path, database_url: str, services: Sequence[str] = SERVICES
    ) -> None:
        self.services = tuple(services)
        self.workdir = workdir
        self.database_url = database_url
        self.tag = stack.tag()
        self.exchange = f"bench.e2e.{self.tag}"
        self.queue_prefix = f"bench.e2e.{self.tag}."
        self.ports = {s: stack.free_port() for s in self.services}
        self.stripe_port = stack.free_port()
        self.smtp_port = stack.free_port()
        self.maildir = workdir / "mail"
        self.admin_password = uuid.uuid4().hex
        self.env = {
            "VAR_DIR": str(workdir / "var"),
            "LOG_LEVEL": "WARNING",
            "DATABASE_URL": database_url,
            "BROKER_URL": stack.AMQP_URL,
            "BUS_EXCHANGE": self.exchange,
            "BUS_QUEUE_PREFIX": self.queue_prefix,
            "SECRET_KEY": uuid.uuid4().hex,
            "SERVICE_SECRET": uuid.uuid4().hex,
            "ADMIN_EMAIL": "admin@bench.example",
            "ADMIN_PASSWORD": self.admin_password,
            "STRIPE_API_BASE": f"http://127.0.0.1:{self.stripe_port}",
            "STRIPE_SECRET_KEY": "sk_test_preceptor_benchmark",
            "STRIPE_PUBLISHABLE_KEY": "pk_test_preceptor_benchmark",
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.smtp_port),
            "PUBLIC_URL": "http://127.0.0.1:8000",
            # One gunicorn worker (4 threads) per service: four services and their workers on a
            # 2-core machine, and PostgreSQL connections shared with whatever else runs.
            "WEB_CONCURRENCY": "1",
            **{f"{s.upper()}_URL": f"http://127.0.0.1:{p}" for s, p in self.ports.items()},
            **{f"{s.upper()}_PORT": str(p) for s, p in self.ports.items()},
        }
        self.procs = stack.Processes(self.env, log_dir=workdir / "logs")

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def start(self) -> None:
        migrate = self.procs.python("migrate", "-m", "shared.cli", "migrate", *self.services)
        if migrate.wait(timeout=180) != 0:
            raise RuntimeError(f"migration failed: see {self.workdir / 'logs' / 'migrate.log'}")
        stripe = self.procs.python(
            "stripe", "-m", "shared.devtools.fake_stripe", "--port", str(self.stripe_port)
        )
        smtp = self.procs.python(
            "smtp",
            "-m",
            "shared.devtools.smtp_sink",
            "--port",
            str(self.smtp_port),
            "--maildir",
            str(self.maildir),
        )
        webs = [self.gunicorn(s) for s in self.services]
        for service in self.services:
            if (stack.ROOT / "services" / service / "worker.py").exists():
                self.procs.python(f"{service}-worker", "-m", f"services.{service}.worker")
        stack.wait_for_port(self.stripe_port, stripe)
        stack.wait_for_port(self.smtp_port, smtp)
        for service, web in zip(self.services, webs, strict=True):
            stack.wait_for_port(self.ports[service], web)
        self._wait_for_queues()
        self._register_webhook()
        self._create_course()

    def gunicorn(self, service: str) -> subprocess.Popen:
        """A service's web app under deploy/gunicorn.conf.py (``WEB_CONCURRENCY`` workers)."""
        return self.procs.gunicorn(service, f"services.{service}.app:app", self.ports[service])

    def _wait_for_queues(self, timeout: float = 60) -> None:
        """The workers declare their queues at start; an event published before is lost."""
        from kombu import Connection

        names = [f"{self.queue_prefix}{s}.events" for s in ("enrollment", "email")]
        deadline = time.monotonic() + timeout
        with Connection(stack.AMQP_URL) as conn:
            for name in names:
                while True:
                    try:
                        conn.channel().queue_declare(name, passive=True)
                        break
                    except Exception:
                        if time.monotonic() > deadline:
                            raise RuntimeError(f"no worker declared {name}") from None
                        conn.close()
                        conn.connect()
                        time.sleep(0.2)

    def _register_webhook(self) -> None:
        # What the payments worker's local-webhook job also does; done here so that no
        # webhook goes to a port the worker has not registered yet.
        from services.payments.stripe_gateway import LOCAL_WEBHOOK_ID

        r = requests.post(
            f"http://127.0.0.1:{self.stripe_port}/_config/webhooks/{LOCAL_WEBHOOK_ID}",
            data={"url": f"{self.url('payments')}/api/stripe/webhook", "secret": WEBHOOK_SECRET},
            timeout=10,
        )
        r.raise_for_status()

    def bearer(self, email: str, password: str = PASSWORD) -> dict[str, str]:
        """Headers for calling the services' APIs as ``email`` (identity's sign-in)."""
        login = requests.post(
            f"{self.url('identity')}/api/auth/login",
            json={"email": email, "password": password},
            timeout=60,
        )
        login.raise_for_status()
        return {"Authorization": f"Bearer {login.json()['access_token']}"}

    def register(self, email: str, name: str) -> None:
        """A new student account (identity's public sign-up), password ``PASSWORD``."""
        r = requests.post(
            f"{self.url('identity')}/api/users",
            json={"email": email, "password": PASSWORD, "name": name},
            timeout=60,
        )
        if r.status_code != 202:
            raise RuntimeError(f"registering {email}: {r.status_code} {r.text}")

    def _create_course(self) -> None:
        admin = self.bearer(self.env["ADMIN_EMAIL"], self.admin_password)
        r = requests.post(
            f"{self.url('enrollment')}/api/admin/courses",
            headers=admin,
            json={
                "slug": COURSE,
                "title": "Benchmark Course",
                "price_minor": 49900,
                "currency": "USD",
                "cycle_length_days": 28,
                "cadence_days": 7,
                "anchor_date": date.today().isoformat(),
                "seats_per_cycle": 100000,
                "access_days": 60,
                "refund_window_days": 14,
                "published": True,
            },
            timeout=30,
        )
        if r.status_code != 201:
            raise RuntimeError(f"could not create the benchmark course: {r.status_code} {r.text}")

    def stop(self) -> None:
        self.procs.stop()
        queues = []
        for service in self.services:
            queues += [
                f"{self.queue_prefix}{service}.events{suffix}"
                for suffix in ("", ".dlq", *(f".retry.{n}" for n in range(1, 10)))
            ]
        try:
            stack.delete_broker_names(self.exchange, self.queue_prefix, queues)
        except Exception as exc:  # cleanup must not hide the figure's own error
            print(f"could not delete the benchmark's queues: {exc}", file=sys.stderr)

    # --- one run ----------------------------------------------------------------------------


@contextmanager
def running(kind: type[Suite], name: str, services: Sequence[str] = SERVICES) -> Iterator[Suite]:
    """A started suite of ``kind`` on a scratch database, stopped afterwards; its logs are kept
    (and their folder printed) if the body fails."""
    workdir: Path | None = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
    try:
        with stack.scratch_database(f"bench_{name}") as url:
            started = kind(workdir, url, services)
            try:
                started.start()
                yield started
            except BaseException:
                print(f"logs kept in {workdir / 'logs'}", file=sys.stderr)
                workdir = None
                raise
            finally:
                started.stop()
    finally:
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
