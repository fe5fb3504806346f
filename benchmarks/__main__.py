"""``python -m benchmarks [name ...]``: run the benchmarks and rewrite docs/benchmarks.md.

Without names, every benchmark runs and the page is written anew; with names, only those run
and their sections of the page are replaced, the others kept as they are.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from benchmarks import report

BENCHMARKS = ("catalogue", "site", "bus", "money_path", "campaign", "make_run")
"""Module names under ``benchmarks/``, in the order the document lists them."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("names", nargs="*", metavar="name", help=f"one of {', '.join(BENCHMARKS)}")
    parser.add_argument("--no-write", action="store_true", help="print, do not rewrite the page")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark: {', '.join(unknown)}")
    results = []
    for name in args.names or BENCHMARKS:
        print(f"benchmark: {name} ...", flush=True)
        result = importlib.import_module(f"benchmarks.{name}").run()
        print(result.markdown(), flush=True)
        results.append(result)
    if not args.no_write:
        written = report.merge(results) if args.names else report.write(results)
        print(f"wrote {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
