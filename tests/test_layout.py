"""The shape docs/architecture.md describes, held by tests so it does not erode quietly.

Issue 14 split three service modules of 900 to 1,500 lines and six files of one-line event
forwards; these checks keep them from growing back.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 400
REASON = re.compile(r"(over|above|of some) ~?\d+ lines", re.IGNORECASE)
"""How a long module states why it stays whole, at the top of its docstring."""


def _application_modules() -> list[Path]:
    found = []
    for top in ("services", "shared", "benchmarks"):
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = set(path.relative_to(ROOT).parts)
            if parts & {"tests", "migrations", "testing"}:
                continue
            found.append(path)
    return found


@pytest.mark.parametrize(
    "path",
    [p for p in _application_modules() if len(p.read_text().splitlines()) > LIMIT],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_a_module_above_400_lines_says_why_at_its_top(path):
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    assert REASON.search(doc), (
        f"{path.relative_to(ROOT)} has {len(path.read_text().splitlines())} lines: split it by"
        " what it does, or say at the top of its docstring why it stays whole"
        " ('Over 400 lines on purpose: …')"
    )


def test_no_service_module_holds_every_use_case_and_no_file_only_forwards_events():
    services = ROOT / "services"
    assert sorted(p.parent.name for p in services.glob("*/service.py")) == []
    assert sorted(p.parent.name for p in services.glob("*/handlers.py")) == []
