"""The site as a person waits for it: its five busiest pages under 50 signed-in users at once.

``python -m benchmarks.site [--students N] [--runs R] [--seconds S] [--record LABEL]`` prints
the table; ``--record`` also keeps the figure in benchmarks/site_history.json under ``LABEL``
(with the date and the commit), so that docs/benchmarks.md can show it beside later runs. An
earlier figure only compares with a later one measured on the same machine: to compare a change,
run ``--record`` on the code before it, then ``make bench`` (or ``python -m benchmarks site``)
on the code after it, on one quiet machine.

The suite runs as in production (benchmarks/suite.py): the site and the services its pages call
(identity, email, enrollment, payments, tutoring), each under gunicorn with deploy/gunicorn.conf.py
beside its worker, on PostgreSQL and RabbitMQ, with localstripe. Before the clock starts, the
students sign in on the site and get what the pages show them (benchmarks/site_people.py).

``wrk`` (its own process, 2 threads, one keep-alive connection per student) replays the five
pages with a Lua script that rotates the page and the student's cookie on every request; any
answer but a 200 fails the run (a sign-in redirect would otherwise look fast).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import requests

from benchmarks import catalogue, stack, suite
from benchmarks.site_people import PAGES, SERVICES, Site, Student

STUDENTS = 50
RUNS = 3
SECONDS = 8.0
GOAL_P99_MS = 150
HISTORY = Path(__file__).resolve().parent / "site_history.json"
"""Earlier figures kept for comparison (``--record``): label -> figure, date, commit."""

LUA = """
local requests = {%s}
local threads = {}
function setup(thread)
  thread:set("first", #threads * 7919)
  table.insert(threads, thread)
end
function init(args)
  n = first
  bad = 0
end
function request()
  n = n + 1
  return requests[(n %% #requests) + 1]
end
function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("bad") end
  io.write(string.format("Non-200 responses: %%d\\n", total))
end
"""


@dataclass
class Figures:
    """One load: requests per second and latency percentiles in milliseconds."""

    per_second: float
    p50_ms: float
    p99_ms: float


@dataclass
class Measured:
    students: int
    seconds: float
    runs: dict[str, list[Figures]] = field(default_factory=dict)
    """"all five" (the mix) and each page alone -> one figure per run."""

    def median(self, name: str, attr: str) -> float:
        return stack.median([getattr(f, attr) for f in self.runs[name]])

    @property
    def p99_ms(self) -> float:
        return self.median(MIX, "p99_ms")

    def summary(self) -> dict:
        return {
            name: {k: round(self.median(name, k), 1) for k in ("per_second", "p50_ms", "p99_ms")}
            for name in self.runs
        }


MIX = "all five, rotating"


# --- the load -----------------------------------------------------------------------------


def lua_script(people: list[Student], pages: list[str]) -> str:
    """wrk's script: every request the next (page, student) pair, so that consecutive
    requests hit different pages as different people."""
    entries = []
    for n in range(len(people) * len(pages)):
        student, page = people[(n // len(pages)) % len(people)], PAGES[pages[n % len(pages)]]
        path = page.format(enrollment=student.enrollment)
        entries.append(f'wrk.format("GET", {json.dumps(path)}, {{Cookie = "{student.cookie}"}})')
    return LUA % ",\n  ".join(entries)


def check(site_url: str, people: list[Student]) -> None:
    """Each page answers each student 200 with the student's own page, before any load."""
    for student in people[:3]:
        for name, page in PAGES.items():
            path = page.format(enrollment=student.enrollment)
            r = requests.get(
                site_url + path,
                headers={"Cookie": student.cookie},
                allow_redirects=False,
                timeout=60,
            )
            if r.status_code != 200:  # a page that wants a sign-in redirects
                raise RuntimeError(f"{name} ({path}) answered {r.status_code}")
        poll = requests.get(
            site_url + PAGES["checkout status poll"].format(enrollment=student.enrollment),
            headers={"Cookie": student.cookie},
            timeout=60,
        ).json()
        if poll.get("status") != "pending_payment":
            raise RuntimeError(f"the status poll answered {poll}")


def wrk(site_url: str, script: Path, seconds: float, connections: int) -> Figures:
    """One load; an answer that is not a 200, or that takes over 10 s, fails it."""
    load = catalogue.wrk(site_url, seconds, connections, threads=2, script=script, timeout=10)
    if load.errors:
        raise RuntimeError(f"{load.errors} of {load.requests} requests failed or were not a 200")
    return Figures(load.per_second, load.p50_ms, load.p99_ms)


def measure(students: int = STUDENTS, runs: int = RUNS, seconds: float = SECONDS) -> Measured:
    with suite.running(Site, "site", SERVICES) as site:
        people = site.students(students)
        site_url = site.url("web")
        check(site_url, people)
        scripts = {MIX: list(PAGES), **{name: [name] for name in PAGES}}
        paths = {}
        for n, (name, pages) in enumerate(scripts.items()):
            paths[name] = site.workdir / f"load{n}.lua"
            paths[name].write_text(lua_script(people, pages))
        # Warm up (imports, pools, caches); what it measures or drops does not count.
        catalogue.wrk(site_url, 2, students, threads=2, script=paths[MIX], timeout=10)
        measured = Measured(students, seconds, {name: [] for name in scripts})
        for _ in range(runs):
            for name in scripts:
                measured.runs[name].append(wrk(site_url, paths[name], seconds, students))
        return measured


# --- the figure ---------------------------------------------------------------------------

COLUMNS = ["pages", "req/s (median)", "p50", "p99", "p99 of each run (ms)", "req/s of each run"]


def rows(measured: Measured) -> list[list[str]]:
    def row(name: str) -> list[str]:
        label = f"**{name}**" if name == MIX else f"{name} alone"
        return [
            label,
            f"{measured.median(name, 'per_second'):,.0f}",
            _ms(measured.median(name, "p50_ms")),
            _ms(measured.median(name, "p99_ms")),
            ", ".join(f"{f.p99_ms:,.0f}" for f in measured.runs[name]),
            ", ".join(f"{f.per_second:,.0f}" for f in measured.runs[name]),
        ]

    return [row(name) for name in measured.runs]


def _ms(value: float) -> str:
    return f"{value:,.1f} ms" if value < 100 else f"{value:,.0f} ms"


def history(path: Path = HISTORY) -> dict[str, dict]:
    return json.loads(path.read_text()) if path.exists() else {}


def record(measured: Measured, label: str, note: str = "", path: Path = HISTORY) -> None:
    """Keep this figure under ``label`` for later pages to compare with."""
    from benchmarks import report

    facts = dict(report.machine())
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=stack.ROOT
    ).stdout.strip()
    kept = history(path)
    kept[label] = {
        "date": facts["Date"],
        "commit": commit,
        "machine": facts["CPU"],
        "students": measured.students,
        "seconds": measured.seconds,
        "runs": len(measured.runs[MIX]),
        "note": note,
        "figures": measured.summary(),
        "each_run": {k: [asdict(f) for f in v] for k, v in measured.runs.items()},
    }
    path.write_text(json.dumps(kept, indent=2) + "\n")


def earlier(path: Path = HISTORY) -> list[str]:
    """The recorded earlier figures, as a table for the page."""
    kept = history(path)
    if not kept:
        return []
    lines = [
        "Earlier measurements (benchmarks/site_history.json), all five pages rotating:",
        "",
        "| measurement | date | commit | req/s | p50 | p99 | note |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, entry in kept.items():
        mix = entry["figures"][MIX]
        lines.append(
            f"| {label} | {entry['date']} | {entry['commit']} | {mix['per_second']:,.0f} | "
            f"{_ms(mix['p50_ms'])} | {_ms(mix['p99_ms'])} | {entry.get('note', '')} |"
        )
    return lines


def result(measured: Measured):
    from benchmarks import report

    held = measured.p99_ms < GOAL_P99_MS
    return report.Result(
        title=f"The site: five busiest pages, {measured.students} signed-in users",
        method=(
            "The site and the services its pages call (identity, email, enrollment, payments, "
            "tutoring), each under gunicorn (deploy/gunicorn.conf.py: the site 2 workers x 4 "
            "threads, each service 1 worker x 4 threads) beside its worker, on PostgreSQL and "
            f"RabbitMQ, with localstripe. {measured.students} students signed in through the "
            "site's form, each with a pending enrollment and a booked consultation. `wrk` (its "
            f"own process, 2 threads, {measured.students} keep-alive connections, "
            f"{measured.seconds:g} s per load) replays home, courses, a course, the checkout "
            "status poll (the student's pending enrollment) and My tutoring, a Lua script "
            "rotating page and student cookie on every request; then each page alone. Every "
            "answer must be a 200. "
            f"{len(measured.runs[MIX])} runs after a warm-up; each figure is the median of "
            "the runs."
        ),
        columns=COLUMNS,
        rows=rows(measured),
        target=f"p99 of all five < {GOAL_P99_MS} ms — **{stack.verdict(held)}** "
        f"({measured.p99_ms:,.0f} ms)",
        notes=["wrk, the six web apps, their workers and PostgreSQL share the machine's cores."],
        details=earlier(),
    )


def run():
    """For ``make bench``."""
    return result(measure())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.site")
    parser.add_argument("--students", type=int, default=STUDENTS)
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--record", metavar="LABEL", help="keep the figure in site_history.json")
    parser.add_argument("--note", default="", help="a remark kept with --record")
    args = parser.parse_args(argv)
    measured = measure(args.students, args.runs, args.seconds)
    if args.record:
        record(measured, args.record, args.note)
    print(result(measured).markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
