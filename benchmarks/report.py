"""Writing ``docs/benchmarks.md``: every figure with the machine and the date it was measured on.

Speed and memory targets live here and not in timed tests (a test that fails because CI was
busy teaches nothing); a result is only comparable with the machine beside it, so each run
rewrites the document whole with the machine's description at the top.
"""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

DOCUMENT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


@dataclass
class Result:
    """One benchmark's outcome: a title, a few sentences on what was measured, and a table."""

    title: str
    method: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    target: str = ""
    notes: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    """Markdown written after the notes as it is (a second table, say)."""

    def markdown(self) -> str:
        lines = [f"## {self.title}", "", self.method, ""]
        if self.target:
            lines += [f"**Target:** {self.target}", ""]
        lines.append("| " + " | ".join(self.columns) + " |")
        lines.append("|" + "---|" * len(self.columns))
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        lines += ["", *(f"- {note}" for note in self.notes)]
        if self.details:
            lines += ["", *self.details]
        return "\n".join(lines).rstrip() + "\n"


def _first_line(command: list[str]) -> str:
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.strip().splitlines()[0] if out.strip() else "unknown"


def machine() -> list[tuple[str, str]]:
    """What the figures were measured on."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return [
        ("Date", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("CPU", f"{cpu}, {os.cpu_count()} cores"),
        ("Memory", memory),
        (
            "OS",
            f"{platform.system()} {platform.release()} ({_first_line(['cat', '/etc/debian_version'])})",
        ),
        ("Python", platform.python_version()),
        ("PostgreSQL", _first_line(["psql", "--version"])),
        ("RabbitMQ", _first_line(["rabbitmqctl", "--version"])),
    ]


def write(results: list[Result], path: Path = DOCUMENT) -> Path:
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m benchmarks`); every run replaces this page. The",
        "figures hold for the machine below and are meant for comparing runs on one machine.",
        "",
        "| | |",
        "|---|---|",
        *(f"| {key} | {value} |" for key, value in machine()),
        "",
    ]
    body = "\n".join(lines) + "\n" + "\n".join(r.markdown() for r in results)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)
    return path


def merge(results: list[Result], path: Path = DOCUMENT) -> Path:
    """Put ``results`` into the page in place of their sections (same title), or at its end,
    and keep every other section as it is: one benchmark can be measured again without the
    hour the whole set takes. The machine table at the top stays the full run's, so each
    merged section says when and on what it was measured."""
    if not path.exists():
        return write(results, path)
    text = path.read_text()
    head, *sections = text.split("\n## ")
    sections = ["## " + s.rstrip("\n") + "\n" for s in sections]
    facts = dict(machine())
    when = f"Measured on its own on {facts['Date']} ({facts['CPU']}, {facts['Memory']})."
    for result in results:
        result.notes = [*result.notes, when]
        body = result.markdown()
        titles = [s.split("\n", 1)[0] for s in sections]
        heading = f"## {result.title}"
        if heading in titles:
            sections[titles.index(heading)] = body
        else:
            sections.append(body)
    path.write_text(head.rstrip("\n") + "\n\n" + "\n".join(sections))
    return path
