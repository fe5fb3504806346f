"""`make run` on an idle suite: how many processes, and how much memory they take together.

``python -m benchmarks.make_run [--idle SECONDS] [--samples N]`` prints the table.

The suite starts exactly as a developer starts it: ``make run`` (the embedded default: SQLite,
the filesystem broker, the SMTP sink and localstripe), with ports and a VAR_DIR of its own so it
can run beside a suite a developer already has open. Once every web process answers /healthz,
the SMTP sink and localstripe accept connections, and the suite has then sat idle for a while
(nothing is sent to it), the benchmark reads every process under ``make`` from /proc.

Memory is the proportional set size (PSS, ``/proc/<pid>/smaps_rollup``): each page a process
maps counts in full if the process is alone with it and in shares if several map it (gunicorn
workers forked from one arbiter, the shared libraries every Python maps), so the sum over the
tree is what the suite costs the machine. RSS would count every shared page once per process.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from benchmarks import stack

GOAL_MIB = 500
IDLE_SECONDS = 20.0
"""How long the suite sits untouched after it is ready, before the first sample: the workers'
first scheduled jobs have run and every lazily built thing that idling builds is built."""
BEFORE = "61 processes, 1,431 MiB"
"""The same measurement, on 2026-12-03, of the layout `make run` had before: honcho, and a
gunicorn (2 workers of 4 threads) and a worker per service; kept for comparison."""
SAMPLES = 3
SAMPLE_EVERY = 5.0
READY_TIMEOUT = 240.0


@dataclass(frozen=True)
class Process:
    pid: int
    ppid: int
    argv: tuple[str, ...]
    pss_kib: int
    rss_kib: int

    @property
    def command(self) -> str:
        return " ".join(self.argv)


@dataclass
class Sample:
    processes: list[Process]

    @property
    def pss_mib(self) -> float:
        return sum(p.pss_kib for p in self.processes) / 1024

    @property
    def rss_mib(self) -> float:
        return sum(p.rss_kib for p in self.processes) / 1024


@dataclass
class Measured:
    samples: list[Sample] = field(default_factory=list)
    ready_seconds: float = 0.0
    idle_seconds: float = IDLE_SECONDS

    @property
    def median(self) -> Sample:
        """The sample of median total PSS (the table shows one consistent tree)."""
        ordered = sorted(self.samples, key=lambda s: s.pss_mib)
        return ordered[len(ordered) // 2]

    @property
    def pss_mib(self) -> float:
        return self.median.pss_mib


# --- reading the process tree ----------------------------------------------------------------


def _status_kib(text: str, key: str) -> int:
    match = re.search(rf"^{key}:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) if match else 0


def _read(pid: int) -> Process | None:
    """One process from /proc, or None if it is gone (or was never readable)."""
    base = Path("/proc") / str(pid)
    try:
        stat = (base / "stat").read_text()
        argv = tuple(a for a in (base / "cmdline").read_bytes().decode().split("\0") if a)
        rollup = (base / "smaps_rollup").read_text()
    except (OSError, UnicodeDecodeError):
        return None
    # stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses.
    ppid = int(stat.rsplit(")", 1)[1].split()[1])
    return Process(pid, ppid, argv, _status_kib(rollup, "Pss"), _status_kib(rollup, "Rss"))


def tree(root: int) -> list[Process]:
    """``root`` and every process descended from it, read now."""
    everyone = [p for pid in _pids() if (p := _read(pid)) is not None]
    children: dict[int, list[Process]] = {}
    for p in everyone:
        children.setdefault(p.ppid, []).append(p)
    found = [p for p in everyone if p.pid == root]
    for p in found:  # grows while it is walked: breadth first
        found.extend(children.get(p.pid, []))
    return found


def _pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def kind(process: Process, by_pid: dict[int, Process]) -> str:
    """What a process of ``make run`` is, in the words of the table."""
    command = process.command
    program = os.path.basename(process.argv[0]) if process.argv else "?"
    parent = by_pid.get(process.ppid)
    if program in ("sh", "bash", "dash"):
        return "shell"
    if "gunicorn" in command:
        if parent is not None and "gunicorn" in parent.command and parent.argv[0] != "/bin/sh":
            return "web apps: gunicorn worker"
        return "web apps: gunicorn arbiter"
    if "shared.devtools.embedded" in command or re.search(r"-m services\.\w+\.worker", command):
        return "service workers (consumer, relay, jobs)"
    if "shared.devtools.smtp_sink" in command:
        return "SMTP sink"
    if "shared.devtools.fake_stripe" in command:
        return "localstripe"
    if "supervisord" in command:
        return "supervisord"
    if "--print-logs" in command:
        return "supervisord's log printer"
    if "honcho" in command:
        return "honcho"
    return program


# --- running the suite ------------------------------------------------------------------------


def _environment(workdir: Path, ports: dict[str, int]) -> dict[str, str]:
    """This machine's environment less anything pointing the suite away from its embedded
    defaults (a developer's DATABASE_URL, say), plus ports and a VAR_DIR of its own."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.endswith(("_URL", "_DATABASE_URL"))
        and not key.startswith(("SMTP_", "BUS_", "STRIPE_", "METRICS_"))
        and key not in ("WEB_CONCURRENCY", "GUNICORN_THREADS", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")
    }
    env.update({f"{name.upper()}_PORT": str(port) for name, port in ports.items()})
    env["VAR_DIR"] = str(workdir / "var")
    return env


def _ports() -> dict[str, int]:
    from shared import config

    return {name: stack.free_port() for name in (*config.SERVICES, "smtp", "stripe")}


def _ready(ports: dict[str, int]) -> bool:
    from shared import config

    try:
        for service in config.SERVICES:
            url = f"http://127.0.0.1:{ports[service]}/healthz"
            if not requests.get(url, timeout=2).ok:
                return False
        for name in ("smtp", "stripe"):
            with socket.create_connection(("127.0.0.1", ports[name]), timeout=1):
                pass
    except (requests.RequestException, OSError):
        return False
    return True


def stop(process: subprocess.Popen, timeout: float = 30) -> None:
    """Ctrl-C, as a developer stops it (SIGINT to the terminal's process group), then wait for
    every process of the tree; SIGKILL whatever is left after ``timeout``."""
    pids = [p.pid for p in tree(process.pid)]
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGINT)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        process.poll()
        time.sleep(0.2)
    for pid in pids:
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    process.wait(timeout=10)


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def measure(
    idle_seconds: float = IDLE_SECONDS, samples: int = SAMPLES, every: float = SAMPLE_EVERY
) -> Measured:
    workdir = Path(tempfile.mkdtemp(prefix="bench-make-run-"))
    ports = _ports()
    measured = Measured(idle_seconds=idle_seconds)
    log = (workdir / "make-run.log").open("wb")
    started = time.monotonic()
    process = subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=stack.ROOT,
        env=_environment(workdir, ports),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = started + READY_TIMEOUT
        while not _ready(ports):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = (workdir / "make-run.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"make run did not become ready:\n{tail}")
            time.sleep(0.5)
        measured.ready_seconds = time.monotonic() - started
        time.sleep(idle_seconds)
        for n in range(samples):
            if n:
                time.sleep(every)
            measured.samples.append(Sample(tree(process.pid)))
        return measured
    finally:
        stop(process)
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)


# --- the figure -------------------------------------------------------------------------------

COLUMNS = ["process", "count", "PSS (sum)", "PSS each", "RSS each"]


def _mib(kib: float) -> str:
    return f"{kib / 1024:,.0f} MiB" if kib >= 1024 * 10 else f"{kib / 1024:,.1f} MiB"


def _span(values: list[int]) -> str:
    low, high = min(values), max(values)
    return _mib(low) if round(low / 1024) == round(high / 1024) else f"{_mib(low)} to {_mib(high)}"


def rows(sample: Sample) -> list[list[str]]:
    by_pid = {p.pid: p for p in sample.processes}
    kinds: dict[str, list[Process]] = {}
    for p in sample.processes:
        kinds.setdefault(kind(p, by_pid), []).append(p)
    ordered = sorted(kinds.items(), key=lambda item: -sum(p.pss_kib for p in item[1]))
    table = [
        [
            name,
            str(len(group)),
            _mib(sum(p.pss_kib for p in group)),
            _span([p.pss_kib for p in group]),
            _span([p.rss_kib for p in group]),
        ]
        for name, group in ordered
    ]
    table.append(
        [
            "**all of `make run`**",
            f"**{len(sample.processes)}**",
            f"**{sample.pss_mib:,.0f} MiB**",
            "",
            f"(sum {sample.rss_mib:,.0f} MiB)",
        ]
    )
    return table


def result(measured: Measured):
    from benchmarks import report

    held = measured.pss_mib < GOAL_MIB
    sample = measured.median
    return report.Result(
        title="make run: processes and PSS when idle",
        method=(
            "`make run` started as a developer starts it (the embedded default: SQLite, the "
            "filesystem broker, the SMTP sink, localstripe; ports and a VAR_DIR of its own). "
            "When every web app answers /healthz and the SMTP sink and localstripe accept "
            f"connections, the suite sits idle for {measured.idle_seconds:g} s; then every "
            "process under `make` is read from /proc, "
            f"{len(measured.samples)} times {SAMPLE_EVERY:g} s apart, and the figure is the "
            "sample of median total. Memory is the proportional set size (PSS, "
            "`/proc/<pid>/smaps_rollup`): a page shared by n processes counts 1/n in each, so "
            "the sum is what the suite costs the machine (RSS counts shared pages once per "
            "process)."
        ),
        columns=COLUMNS,
        rows=rows(sample),
        target=(
            f"total PSS < {GOAL_MIB} MiB — **{stack.verdict(held)}** "
            f"({measured.pss_mib:,.0f} MiB, {len(sample.processes)} processes)"
        ),
        notes=[
            "The layout: under supervisord, every service's web app in one gunicorn (one worker "
            "of 16 threads) and every service's worker in one process "
            "(shared/devtools/embedded.py), beside the SMTP sink and localstripe. The layout "
            "before, with honcho and a gunicorn (2 workers of 4 threads) and a worker per "
            f"service, measured the same way on 2026-12-03: {BEFORE}.",
            "Total PSS of each sample: "
            + ", ".join(f"{s.pss_mib:,.0f} MiB" for s in measured.samples)
            + ".",
            f"Ready (every web app healthy) {measured.ready_seconds:.0f} s after `make run` "
            "started, its migrations included.",
        ],
    )


def run():
    """For ``make bench``."""
    return result(measure())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.make_run")
    parser.add_argument("--idle", type=float, default=IDLE_SECONDS, help="seconds idle first")
    parser.add_argument("--samples", type=int, default=SAMPLES)
    args = parser.parse_args(argv)
    measured = measure(args.idle, args.samples)
    print(result(measured).markdown())
    for p in sorted(measured.median.processes, key=lambda p: -p.pss_kib):
        print(f"{p.pss_kib / 1024:7.1f} MiB  {p.pid:>7}  {p.command[:110]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
