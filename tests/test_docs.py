"""Documents generated from code must match the code they describe."""

from shared.bus.docs import render
from shared.migrations import ROOT


def test_the_event_catalogue_page_is_generated_from_the_current_catalogue():
    page = ROOT / "docs" / "events.md"
    assert page.exists(), "run `make docs`"
    assert page.read_text() == render(), "docs/events.md is out of date: run `make docs`"
