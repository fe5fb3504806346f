"""The benchmarks' own code, run at a tiny size so that `make bench` cannot rot unnoticed.

Each benchmark runs once against the real PostgreSQL, RabbitMQ, gunicorn, localstripe and SMTP
sink, and must produce its table. Nothing here judges speed: figures belong to `make bench`
(docs/benchmarks.md), never to a test on a busy machine.
"""

from __future__ import annotations

import pytest

from benchmarks import bus, campaign, catalogue, make_run, money_path, report, site
from benchmarks.site_people import Student


@pytest.fixture(autouse=True)
def _infrastructure(postgres, rabbitmq):
    """The benchmarks reach PostgreSQL and RabbitMQ themselves; fail clearly if either is down."""


def check(result: report.Result, rows: int) -> None:
    text = result.markdown()
    assert text.startswith(f"## {result.title}")
    assert len(result.rows) == rows
    assert all(len(row) == len(result.columns) for row in result.rows)
    assert "**Target:**" in text


def test_the_catalogue_benchmark_loads_both_apps_under_gunicorn_with_wrk():
    measured = catalogue.measure(runs=1, seconds=1, connections=2)
    assert measured.courses == 2
    assert measured.hello[0].requests > 0 and measured.catalogue[0].requests > 0
    check(catalogue.result(measured, seconds=1, connections=2), rows=2)
    assert "Ratio of each run:" in catalogue.result(measured).markdown()


def test_the_site_benchmark_loads_the_five_pages_as_signed_in_students(tmp_path):
    measured = site.measure(students=2, runs=1, seconds=1)
    assert set(measured.runs) == {site.MIX, *site.PAGES}
    assert all(f.per_second > 0 for figures in measured.runs.values() for f in figures)
    check(site.result(measured), rows=1 + len(site.PAGES))
    history = tmp_path / "history.json"
    site.record(measured, "before", "a note", history)
    [earlier] = [line for line in site.earlier(history) if line.startswith("| before |")]
    assert "a note" in earlier


def test_the_site_load_rotates_pages_and_students():
    people = [Student("a@x", cookie="sid=a", enrollment="e1"), Student("b@x", cookie="sid=b")]
    script = site.lua_script(people, ["home", "checkout status poll"])
    assert script.count("wrk.format(") == 4
    assert '"/checkout/e1/status", {Cookie = "sid=a"}' in script
    assert '"/", {Cookie = "sid=b"}' in script


def test_wrk_output_is_read_in_milliseconds():
    load = catalogue.parse_wrk(
        "  Latency Distribution\n     50%  850.00us\n     75%    1.20ms\n     90%    2.00ms\n"
        "     99%    1.50s\n  12345 requests in 2.00s, 1.00MB read\n"
        "  Non-2xx or 3xx responses: 3\nRequests/sec:   6172.50\n"
    )
    assert (load.per_second, load.p50_ms, load.p99_ms) == (6172.5, 0.85, 1500.0)
    assert (load.requests, load.errors) == (12345, 3)


def test_the_bus_benchmark_moves_every_event_through_both_pipelines():
    measured = bus.measure(events=50, runs=1)
    assert measured.raw[0] > 0 and measured.product[0] > 0
    check(bus.result(measured), rows=2)


def test_the_end_to_end_benchmark_times_webhook_to_receipt_for_each_student():
    measured = money_path.measure(students=2, runs=1, warm_up=False)
    [run] = measured.runs
    assert len(run.webhook_to_receipt_ms) == 2
    assert all(ms > 0 for ms in run.webhook_to_receipt_ms)
    assert all(len(values) == 2 for values in run.hops_ms.values())
    check(money_path.result(measured), rows=3)


def test_the_campaign_benchmark_sends_through_the_loop_and_raw_smtplib():
    measured = campaign.measure(recipients=50, runs=1)
    [run] = measured.runs
    assert run.delivered == 50
    assert run.peak_rss_mib > 0
    check(campaign.result(measured), rows=2)


def test_the_make_run_benchmark_sums_pss_over_the_whole_suite_and_stops_it():
    measured = make_run.measure(idle_seconds=1, samples=1)
    [sample] = measured.samples
    kinds = {row[0] for row in make_run.rows(sample)}
    assert {"supervisord", "web apps: gunicorn worker", "SMTP sink", "localstripe"} <= kinds
    assert sample.pss_mib > 50
    assert sum(p.pss_kib for p in sample.processes) / 1024 == sample.pss_mib
    check(make_run.result(measured), rows=len(kinds))  # a row per kind and the total
    # stop() waited for Ctrl-C to end every process of the tree.
    assert not [p for p in sample.processes if make_run._alive(p.pid)]


def test_running_some_benchmarks_replaces_only_their_sections(tmp_path):
    page = tmp_path / "benchmarks.md"
    first = report.Result("First", "How.", ["a"], [["1"]], target="t")
    second = report.Result("Second", "How.", ["b"], [["2"]], target="t")
    report.write([first, second], page)
    kept = page.read_text().split("## Second")[0]

    again = report.Result("Second", "How, again.", ["b"], [["3"]], target="t")
    third = report.Result("Third", "New.", ["c"], [["4"]], target="t")
    report.merge([again, third], page)

    text = page.read_text()
    assert text.startswith(kept)  # the machine table and the first section as they were
    assert text.count("## Second") == 1 and "| 3 |" in text and "| 2 |" not in text
    assert text.index("## Second") < text.index("## Third")
    assert "Measured on its own on" in text.split("## Second")[1]
