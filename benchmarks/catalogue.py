"""Catalogue GET throughput: the enrollment service's ``GET /api/courses`` under gunicorn, against
a bare Flask hello-world under the same gunicorn settings, both loaded by ``wrk``.

``python -m benchmarks.catalogue [--runs N] [--seconds S]`` prints the table.

Both apps run under deploy/gunicorn.conf.py (gthread, ``WEB_CONCURRENCY`` workers x
``GUNICORN_THREADS`` threads, the access log on stdout) as separate processes; the catalogue reads
a migrated, seeded scratch PostgreSQL database. ``wrk`` (Debian's package; ``make bench`` installs
it) runs in its own process with keep-alive connections. Each run loads the hello-world and then
the catalogue for the same time, so the ratio compares two figures taken seconds apart; the
hello-world alone swung from 1.5k to 6k req/s between runs on a shared machine, so there are at
least five such alternating runs and the table shows every run and the spread.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks import stack

RUNS = 5
SECONDS = 8.0
CONNECTIONS = 16
GOAL = 0.9


@dataclass
class Load:
    """One ``wrk`` run: requests per second and latency percentiles in milliseconds."""

    per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> Load:
    """The figures of ``wrk --latency`` output."""
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    total = re.search(r"^\s+(\d+) requests in", output, re.M)
    if not (p50 and p99 and rate and total):
        raise RuntimeError(f"could not read wrk's output:\n{output}")
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    failed = int(errors.group(1)) if errors else 0
    wrong = re.search(r"^Non-200 responses: (\d+)", output, re.M)  # a script's own count
    failed += int(wrong.group(1)) if wrong else 0
    if socket_errors:
        failed += sum(int(n) for n in socket_errors.groups())
    return Load(
        float(rate.group(1)), _ms(p50.group(1)), _ms(p99.group(1)), int(total.group(1)), failed
    )


def wrk(
    url: str,
    seconds: float,
    connections: int = CONNECTIONS,
    threads: int = 1,
    script: Path | None = None,
    timeout: float = 2,
) -> Load:
    """Load ``url`` with keep-alive connections for ``seconds`` (at least one second), with
    wrk's Lua ``script`` if given; an answer slower than ``timeout`` seconds counts as an error."""
    binary = shutil.which("wrk")
    if binary is None:
        raise RuntimeError("wrk is not installed: `apt-get install -y wrk` (make bench does it)")
    duration = max(1, round(seconds))
    options = ["-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--latency"]
    options += ["--timeout", f"{timeout:g}s"]
    out = subprocess.run(
        [binary, *options, *(["-s", str(script)] if script else []), url],
        capture_output=True,
        text=True,
        timeout=duration + 60,
        check=True,
    ).stdout
    return parse_wrk(out)


@dataclass
class Measured:
    hello: list[Load]
    catalogue: list[Load]
    courses: int

    @staticmethod
    def _median(loads: list[Load], attr: str) -> float:
        return stack.median([getattr(load, attr) for load in loads])

    def ratios(self) -> list[float]:
        return [
            stack.ratio(c.per_second, h.per_second)
            for h, c in zip(self.hello, self.catalogue, strict=True)
        ]

    @property
    def ratio(self) -> float:
        return stack.median(self.ratios())

    def rows(self) -> list[list[str]]:
        def row(name: str, loads: list[Load], ratio: str) -> list[str]:
            rates = [load.per_second for load in loads]
            return [
                name,
                f"{self._median(loads, 'per_second'):,.0f}",
                f"{min(rates):,.0f} to {max(rates):,.0f}",
                f"{self._median(loads, 'p50_ms'):.1f} ms",
                f"{self._median(loads, 'p99_ms'):.1f} ms",
                ", ".join(f"{load.per_second:,.0f}" for load in loads),
                ratio,
            ]

        return [
            row("bare Flask hello-world (raw)", self.hello, "1"),
            row(
                f"`GET /api/courses` ({self.courses} courses, PostgreSQL)",
                self.catalogue,
                f"**{self.ratio:.2f}** ({min(self.ratios()):.2f} to {max(self.ratios()):.2f})",
            ),
        ]


COLUMNS = [
    "app under gunicorn",
    "req/s (median)",
    "req/s spread (min to max)",
    "p50",
    "p99",
    "req/s of each run",
    "ratio (min to max)",
]


def measure(runs: int = RUNS, seconds: float = SECONDS, connections: int = CONNECTIONS) -> Measured:
    from services.enrollment.models import Course
    from shared import migrations

    workdir = Path(tempfile.mkdtemp(prefix="bench-catalogue-"))
    try:
        with stack.scratch_database("bench_catalogue") as url:
            migrations.upgrade("enrollment", url)
            engine = stack.sa.create_engine(url)
            with engine.connect() as conn:
                courses = conn.scalar(
                    stack.sa.select(stack.sa.func.count())
                    .select_from(Course)
                    .where(Course.published.is_(True))
                )
            engine.dispose()
            env = {
                "VAR_DIR": str(workdir / "var"),
                "LOG_LEVEL": "WARNING",
                "BROKER_URL": "memory://",
                "ENROLLMENT_DATABASE_URL": url,
            }
            hello_port, catalogue_port = stack.free_port(), stack.free_port()
            with stack.Processes(env, log_dir=workdir / "logs") as procs:
                hello = procs.gunicorn("hello", "benchmarks.hello_app:app", hello_port)
                catalogue = procs.gunicorn(
                    "enrollment", "services.enrollment.app:app", catalogue_port
                )
                stack.wait_for_port(hello_port, hello)
                stack.wait_for_port(catalogue_port, catalogue)
                hello_url = f"http://127.0.0.1:{hello_port}/"
                catalogue_url = f"http://127.0.0.1:{catalogue_port}/api/courses"
                _check(catalogue_url, courses)
                wrk(hello_url, 1, connections)  # warm up: imports, pools, first connections
                wrk(catalogue_url, 1, connections)
                measured = Measured([], [], courses)
                for _ in range(runs):
                    measured.hello.append(wrk(hello_url, seconds, connections))
                    measured.catalogue.append(wrk(catalogue_url, seconds, connections))
                for load in measured.hello + measured.catalogue:
                    if load.errors:
                        raise RuntimeError(f"{load.errors} failed requests under load")
                return measured
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _check(url: str, courses: int) -> None:
    import requests

    response = requests.get(url, timeout=10)
    response.raise_for_status()
    if len(response.json()) != courses:
        raise RuntimeError(f"the catalogue listed {len(response.json())} of {courses} courses")


def result(measured: Measured, seconds: float = SECONDS, connections: int = CONNECTIONS):
    from benchmarks import report

    held = measured.ratio >= GOAL
    return report.Result(
        title="Catalogue GET under gunicorn",
        method=(
            "The enrollment service's public catalogue (`GET /api/courses`, every published "
            "course with its next cycles and seats left, read from PostgreSQL) and a bare Flask "
            "JSON hello-world, each under deploy/gunicorn.conf.py (gthread, 2 workers x 4 "
            "threads, access log on) in its own process, loaded by `wrk` (1 thread, "
            f"{connections} keep-alive connections, {seconds:g} s) from another process. "
            f"{len(measured.hello)} alternating runs (hello-world, catalogue, hello-world, "
            "catalogue…); the ratio is the median of the runs' ratios, each run's catalogue "
            "req/s over the hello-world's just before it."
        ),
        columns=COLUMNS,
        rows=measured.rows(),
        target=f"ratio ≥ {GOAL} — **{stack.verdict(held)}** ({measured.ratio:.2f})",
        notes=[
            "Ratio of each run: " + ", ".join(f"{r:.2f}" for r in measured.ratios()) + ".",
            "wrk, the servers and PostgreSQL share the machine's cores.",
        ],
    )


def run():
    """For ``make bench``."""
    return result(measure())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.catalogue")
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--connections", type=int, default=CONNECTIONS)
    args = parser.parse_args(argv)
    measured = measure(args.runs, args.seconds, args.connections)
    print(result(measured, args.seconds, args.connections).markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
