"""A 10,000-recipient campaign against PostgreSQL and a local SMTP server, against raw smtplib.

``python -m benchmarks.campaign [--recipients N] [--rate R] [--runs R]`` prints the table.

**The product.** The email worker's real send loop (``campaign_sending.send_campaign``) with
the real per-recipient work: suppression check per batch, rendering, MAIL/RCPT/DATA, the commit
of ``sent`` before the final dot, and reading the reply. It runs in a process of its own that
does nothing else, like the worker, so its peak RSS is the sending worker's. Starting the
campaign (one INSERT ... SELECT of every recipient) is timed apart.

**The raw stack.** In the same run, ``smtplib.SMTP.sendmail`` of the same number of messages,
each the very bytes the campaign sent (read back from the server), over one connection to the
same server.

The SMTP server is the suite's aiosmtpd sink (shared/devtools/smtp_sink.py) in its own process,
writing every message to a Maildir; the database is a scratch PostgreSQL database, migrated and
dropped by the benchmark.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import smtplib
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from benchmarks import stack

RECIPIENTS = 10_000
RATE = 100_000
"""High enough that the rate limit never waits: the figure is what the loop itself can do."""
RUNS = 3
GOAL_RATIO = 0.7
GOAL_RSS_MIB = 200
BODY = (
    "Hello {{first_name}},\n\nNew cycles of **{{course}}** open next month. "
    "[See the dates](https://preceptor.example/courses).\n\n- Step 1\n- Step 2 CK\n"
)


@dataclass
class Run:
    start_seconds: float
    send_seconds: float
    raw_seconds: float
    peak_rss_mib: float
    delivered: int


@dataclass
class Measured:
    recipients: int
    rate: float
    runs: list[Run] = field(default_factory=list)

    def per_second(self, attr: str) -> list[float]:
        return [self.recipients / getattr(r, attr) for r in self.runs]

    def ratios(self) -> list[float]:
        return [r.raw_seconds / r.send_seconds for r in self.runs]

    @property
    def ratio(self) -> float:
        return stack.median(self.ratios())

    @property
    def peak_rss_mib(self) -> float:
        return max(r.peak_rss_mib for r in self.runs)

    def rows(self) -> list[list[str]]:
        def row(name: str, attr: str, rss: str, ratio: str) -> list[str]:
            rates = self.per_second(attr)
            return [
                name,
                f"{stack.median([getattr(r, attr) for r in self.runs]):.1f} s",
                f"{stack.median(rates):,.0f}",
                ", ".join(f"{v:,.0f}" for v in rates),
                rss,
                ratio,
            ]

        return [
            row("raw smtplib, one connection", "raw_seconds", "", "1"),
            row(
                f"campaign send loop ({self.recipients:,} recipients)",
                "send_seconds",
                f"{self.peak_rss_mib:.0f} MiB",
                f"**{self.ratio:.2f}**",
            ),
        ]


COLUMNS = ["sender", "time (median)", "msgs/s (median)", "msgs/s of each run", "peak RSS", "ratio"]


def _setup(url: str, recipients: int) -> None:
    from services.email.models import Subscriber, SubscriberTopic
    from shared import migrations
    from shared.db import utcnow

    migrations.upgrade("email", url)
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
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.insert(Subscriber), people)
        conn.execute(
            sa.insert(SubscriberTopic),
            [{"subscriber_id": p["id"], "topic_slug": "step1-tips"} for p in people],
        )
    engine.dispose()


def _start_campaign(url: str) -> tuple[str, float]:
    """A new campaign to every subscriber, started (queued); its id and the start's seconds."""
    from services.email.app import make_runtime
    from services.email.campaigns import use_cases as campaigns
    from shared.bus.broker import Broker
    from shared.config import BusSettings

    runtime = make_runtime(
        database_url=url, broker=Broker(BusSettings("memory://", "bench", "bench.", 3, 100))
    )
    try:
        campaign = campaigns.create(
            runtime.uow(),
            "bench@preceptor.localhost",
            "News, {{first_name}}",
            BODY,
            "topic:step1-tips",
        )
        started = time.perf_counter()
        campaigns.send_now(runtime.uow(), campaign["id"])
        return campaign["id"], time.perf_counter() - started
    finally:
        runtime.db.dispose()


def send(url: str, campaign_id: str, rate: float) -> dict:
    """The sending worker's part (run in a child process): send the campaign, report."""
    from services.email.app import make_runtime
    from services.email.campaigns import sending as campaign_sending
    from shared.bus.broker import Broker
    from shared.config import BusSettings

    runtime = make_runtime(
        database_url=url, broker=Broker(BusSettings("memory://", "bench", "bench.", 3, 100))
    )
    started = time.perf_counter()
    sent = campaign_sending.send_campaign(runtime, campaign_id, rate=rate)
    elapsed = time.perf_counter() - started
    runtime.db.dispose()
    return {
        "sent": sent,
        "seconds": elapsed,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _send_in_worker_process(procs: stack.Processes, url: str, campaign_id: str, rate: float):
    out = Path(tempfile.mkstemp(prefix="bench-send-", suffix=".json")[1])
    try:
        child = procs.python(
            "sender", "-m", "benchmarks.campaign", "--send", url, campaign_id, str(rate), str(out)
        )
        if child.wait(timeout=1800) != 0:
            raise RuntimeError(f"the sending process failed ({child.returncode})")
        return json.loads(out.read_text())
    finally:
        out.unlink(missing_ok=True)


def raw_smtplib(port: int, recipients: list[str], message: bytes) -> float:
    """Seconds for ``sendmail`` of ``message`` to each recipient over one connection."""
    smtp = smtplib.SMTP("127.0.0.1", port, timeout=30)
    try:
        smtp.ehlo()
        started = time.perf_counter()
        for to in recipients:
            smtp.sendmail("bench@preceptor.localhost", [to], message)
        return time.perf_counter() - started
    finally:
        smtp.quit()


def _one_stored_message(maildir: Path) -> bytes:
    """A message as the campaign sent it (without the two envelope headers the sink adds)."""
    path = next((maildir / "new").iterdir())
    lines = path.read_bytes().split(b"\n")
    while lines and lines[0].startswith(b"X-Envelope-"):
        lines.pop(0)
    return b"\r\n".join(lines)


def _stored(maildir: Path) -> int:
    new = maildir / "new"
    return sum(1 for _ in new.iterdir()) if new.exists() else 0


def measure(recipients: int = RECIPIENTS, rate: float = RATE, runs: int = RUNS) -> Measured:
    workdir = Path(tempfile.mkdtemp(prefix="bench-campaign-"))
    measured = Measured(recipients, rate)
    port = stack.free_port()
    maildir = workdir / "mail"
    env = {
        "VAR_DIR": str(workdir / "var"),
        "SECRET_KEY": "benchmark-secret-key",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "LOG_LEVEL": "WARNING",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        with stack.scratch_database("bench_email") as url, stack.Processes(env) as procs:
            sink = procs.python(
                "smtp",
                "-m",
                "shared.devtools.smtp_sink",
                "--port",
                str(port),
                "--maildir",
                str(maildir),
            )
            stack.wait_for_port(port, sink)
            _setup(url, recipients)
            addresses = [f"reader{i:06d}@example.com" for i in range(recipients)]
            message = b""
            for n in range(runs):
                # Alternate which goes first: the Maildir grows by both.
                raw_first = n % 2 == 1
                if raw_first:
                    raw = raw_smtplib(port, addresses, message)
                before = _stored(maildir)
                campaign_id, start_seconds = _start_campaign(url)
                report = _send_in_worker_process(procs, url, campaign_id, rate)
                if report["sent"] != recipients:
                    raise RuntimeError(f"sent {report['sent']} of {recipients}")
                delivered = _stored(maildir) - before
                message = message or _one_stored_message(maildir)
                if not raw_first:
                    raw = raw_smtplib(port, addresses, message)
                measured.runs.append(
                    Run(start_seconds, report["seconds"], raw, report["peak_rss_mib"], delivered)
                )
        return measured
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(workdir, ignore_errors=True)


def result(measured: Measured):
    from benchmarks import report

    held_ratio = measured.ratio >= GOAL_RATIO
    held_rss = measured.peak_rss_mib < GOAL_RSS_MIB
    start = stack.median([r.start_seconds for r in measured.runs])
    return report.Result(
        title=f"Email campaign: {measured.recipients:,} recipients",
        method=(
            f"The email worker's send loop mails a {measured.recipients:,}-recipient campaign to "
            "the aiosmtpd sink (its own process, storing to a Maildir), on PostgreSQL, committing "
            "each recipient's `sent` before the final dot of DATA (the never-twice ordering), in "
            "a process of its own (its peak RSS is the figure). Rate limit "
            f"{measured.rate:,.0f}/s, so that it never waits. Raw stack, in the same run: "
            "`smtplib` `sendmail` of the same number of messages, each the bytes the campaign "
            f"sent, over one connection to the same server. {len(measured.runs)} runs, the raw "
            "stack first in every other run; the ratio is the median of the runs' ratios."
        ),
        columns=COLUMNS,
        rows=measured.rows(),
        target=(
            f"ratio ≥ {GOAL_RATIO} — **{stack.verdict(held_ratio)}** ({measured.ratio:.2f}); "
            f"peak RSS < {GOAL_RSS_MIB} MB — **{stack.verdict(held_rss)}** "
            f"({measured.peak_rss_mib:.0f} MiB)"
        ),
        notes=[
            f"Starting the campaign (one INSERT ... SELECT of every recipient): {start:.2f} s.",
            "Messages stored by the SMTP server per campaign run: "
            + ", ".join(f"{r.delivered:,}" for r in measured.runs)
            + ".",
        ],
    )


def run():
    """For ``make bench``."""
    return result(measure())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.campaign")
    parser.add_argument("--recipients", type=int, default=RECIPIENTS)
    parser.add_argument("--rate", type=float, default=RATE, help="CAMPAIGN_SEND_RATE to use")
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument(
        "--send", nargs=4, metavar=("URL", "CAMPAIGN", "RATE", "OUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.send:
        url, campaign_id, rate, out = args.send
        Path(out).write_text(json.dumps(send(url, campaign_id, float(rate))))
        return 0
    print(result(measure(args.recipients, args.rate, args.runs)).markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
