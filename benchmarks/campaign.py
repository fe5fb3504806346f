"""A 10,000-recipient campaign against PostgreSQL and a local SMTP server: time and memory.

``python -m benchmarks.campaign [--recipients N] [--rate R]`` prints one markdown table row:

    | recipients | rate limit | elapsed | msgs/s | peak RSS |

What is measured is the email worker's real send loop (``campaign_sending.send_campaign``),
with the real per-recipient work: suppression check per batch, rendering, MAIL/RCPT/DATA, the
commit of ``sent`` before the final dot, and reading the reply, over one SMTP connection. The
SMTP server is the suite's aiosmtpd sink in its own process, writing every message to a
Maildir; the database is a scratch PostgreSQL database, migrated and dropped by the run.
Starting the campaign (one INSERT ... SELECT of every recipient) is timed separately.

``run()`` gives the same figures as a ``benchmarks.report.Result`` for ``make bench``.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

ADMIN_URL = os.environ.get(
    "BENCH_DATABASE_URL",
    os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
)
RECIPIENTS = 10_000
RATE = 100_000
"""High enough that the rate limit never waits: the figure is what the loop itself can do."""


@dataclass
class Measured:
    recipients: int
    rate: float
    start_seconds: float
    elapsed: float
    delivered: int
    peak_rss_mib: float

    @property
    def per_second(self) -> float:
        return self.recipients / self.elapsed if self.elapsed else 0.0

    def row(self) -> list[str]:
        return [
            f"{self.recipients:,}",
            f"{self.rate:,.0f}/s",
            f"{self.start_seconds:.2f} s",
            f"{self.elapsed:.1f} s",
            f"{self.per_second:,.0f}",
            f"{self.peak_rss_mib:.0f} MiB",
        ]


COLUMNS = ["recipients", "rate limit", "start (INSERT..SELECT)", "send", "msgs/s", "peak RSS"]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, timeout: float = 15) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the SMTP sink exited")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the SMTP sink did not start")


def measure(recipients: int = RECIPIENTS, rate: float = RATE) -> Measured:
    os.environ.setdefault("SECRET_KEY", "benchmark-secret-key")
    workdir = Path(tempfile.mkdtemp(prefix="bench-campaign-"))
    os.environ["VAR_DIR"] = str(workdir / "var")
    port = _free_port()
    maildir = workdir / "mail"
    sink = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shared.devtools.smtp_sink",
            "--port",
            str(port),
            "--maildir",
            str(maildir),
        ],
        env={**os.environ, "LOG_LEVEL": "WARNING"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.environ.update(SMTP_HOST="127.0.0.1", SMTP_PORT=str(port))

    name = f"bench_email_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    runtime = None
    try:
        _wait_for_port(port, sink)
        from services.email import campaign_sending, campaigns
        from services.email.app import make_runtime
        from services.email.models import Subscriber, SubscriberTopic
        from shared import migrations
        from shared.bus.broker import Broker
        from shared.config import BusSettings
        from shared.db import utcnow

        migrations.upgrade("email", url)
        broker = Broker(BusSettings("memory://", "bench", "bench.", 3, 100))
        runtime = make_runtime(database_url=url, broker=broker)
        now = utcnow()
        people = [
            {
                "id": str(uuid.uuid4()),
                "email": f"reader{i:06d}@example.com",
                "name": f"Reader {i}",
                "status": "confirmed",
                "nonce": "n",
                "created_at": now,
                "confirmed_at": now,
            }
            for i in range(recipients)
        ]
        with runtime.db.engine.begin() as conn:
            conn.execute(sa.insert(Subscriber), people)
            conn.execute(
                sa.insert(SubscriberTopic),
                [{"subscriber_id": p["id"], "topic_slug": "step1-tips"} for p in people],
            )
        body = (
            "Hello {{first_name}},\n\nNew cycles of **{{course}}** open next month. "
            "[See the dates](https://preceptor.example/courses).\n\n- Step 1\n- Step 2 CK\n"
        )
        campaign = campaigns.create(
            runtime.uow(),
            "bench@preceptor.localhost",
            "News, {{first_name}}",
            body,
            "topic:step1-tips",
        )
        started = time.perf_counter()
        campaigns.send_now(runtime.uow(), campaign["id"])
        start_seconds = time.perf_counter() - started

        started = time.perf_counter()
        sent = campaign_sending.send_campaign(runtime, campaign["id"], rate=rate)
        elapsed = time.perf_counter() - started
        if sent != recipients:
            raise RuntimeError(f"sent {sent} of {recipients}")
        delivered = len(list((maildir / "new").iterdir())) if (maildir / "new").exists() else 0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return Measured(recipients, rate, start_seconds, elapsed, delivered, peak)
    finally:
        if runtime is not None:
            runtime.db.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        sink.terminate()
        sink.wait(timeout=10)


def run():
    """For ``make bench``: the figures as a ``benchmarks.report.Result``."""
    from benchmarks import report

    measured = measure()
    return report.Result(
        title="Email campaign: 10,000 recipients",
        method=(
            "The email worker's send loop mails a 10,000-recipient campaign through one SMTP "
            "connection to the aiosmtpd sink (its own process, storing to a Maildir), on "
            "PostgreSQL, with one commit per recipient before the final dot of DATA (the "
            "never-twice ordering). The rate limit is set high so that it never waits."
        ),
        columns=COLUMNS,
        rows=[measured.row()],
        target="finishes in minutes on this machine",
        notes=[f"{measured.delivered:,} messages stored by the SMTP server."],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.campaign")
    parser.add_argument("--recipients", type=int, default=RECIPIENTS)
    parser.add_argument("--rate", type=float, default=RATE, help="CAMPAIGN_SEND_RATE to use")
    args = parser.parse_args(argv)
    measured = measure(args.recipients, args.rate)
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "---|" * len(COLUMNS))
    print("| " + " | ".join(measured.row()) + " |")
    if measured.delivered != measured.recipients:
        print(f"SMTP server stored {measured.delivered} messages", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
