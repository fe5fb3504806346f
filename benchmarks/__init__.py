"""Benchmarks (``make bench``): throughput and memory of the suite's heavy paths on this machine.

Each module has ``run() -> report.Result``; ``python -m benchmarks`` runs them all against the
real PostgreSQL and local servers and rewrites ``docs/benchmarks.md``.
"""
