"""No two modules of ``shared/`` import each other, however the imports are hidden.

A cycle worked around by an import inside a function still couples the two modules both ways
(``shared.bus.relay`` and ``shared.metrics`` did, ``shared.http`` and ``shared.operations``
too), so the graph is built from every ``import`` statement in a module, at any depth:
functions, methods, ``if`` blocks. ``import a.b.c`` and ``from a.b import c`` count as an
import of the most specific module of ``shared`` they name.
"""

from __future__ import annotations

import ast
from pathlib import Path

SHARED = Path(__file__).resolve().parent.parent
PACKAGE = SHARED.name

KNOWN_CYCLES: set[frozenset[str]] = set()
"""Cycles tolerated for now, each with the reason and the step that removes it (none left)."""


def module_names() -> dict[str, Path]:
    names = {}
    for path in SHARED.rglob("*.py"):
        parts = path.relative_to(SHARED.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of ``shared`` that ``module`` imports, anywhere in its body."""

    def known(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {known(alias.name) for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in modules else known(base))
    return {name for name in found if name and name.split(".")[0] == PACKAGE} - {module}


def import_graph() -> dict[str, set[str]]:
    modules = module_names()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_imports_inside_functions_and_relative_ones(tmp_path):
    module = tmp_path / "shared" / "bus" / "relay.py"
    module.parent.mkdir(parents=True)
    module.write_text(
        "import json\n"
        "from . import broker\n"
        "def collect():\n"
        "    from shared.metrics import EVENTS\n"
        "    if True:\n"
        "        import shared.bus.envelope\n"
    )
    modules = {
        name: tmp_path
        for name in ("shared", "shared.bus", "shared.bus.broker", "shared.bus.envelope")
    } | {"shared.metrics": tmp_path, "shared.bus.relay": module}
    assert imports_of("shared.bus.relay", module, modules) == {
        "shared.bus.broker",
        "shared.metrics",
        "shared.bus.envelope",
    }


def test_the_cycle_finder_finds_a_cycle_hidden_in_a_function():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [frozenset({"a", "b", "c"})]


def test_no_module_of_shared_imports_one_that_imports_it_back():
    found = set(cycles(import_graph()))
    assert found - KNOWN_CYCLES == set(), "import cycles: " + "; ".join(
        " ↔ ".join(sorted(cycle)) for cycle in found - KNOWN_CYCLES
    )


def test_the_database_and_the_outbox_do_not_import_the_bus_transport():
    """The unit of work needs the event envelope from the bus, never the relay or consumer that
    build on it; the outbox and the SQL underneath need nothing of the bus at all."""
    graph = import_graph()
    assert {m for m in graph["shared.db"] if m.startswith("shared.bus.")} == {"shared.bus.envelope"}
    for module in ("shared.outbox", "shared.sql"):
        assert not {m for m in graph[module] if m.startswith("shared.bus")}
