"""Documents generated from code must match the code they describe."""

from shared.bus.docs import render
from shared.migrations import ROOT


def test_the_event_catalogue_page_is_generated_from_the_current_catalogue():
    page = ROOT / "docs" / "events.md"
    assert page.exists(), "run `make docs`"
    assert page.read_text() == render(), "docs/events.md is out of date: run `make docs`"


def _relative_links(page):
    import re

    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
        if not target.startswith(("http://", "https://", "mailto:")):
            yield target


def test_relative_links_in_the_readme_and_the_docs_name_files_that_exist():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    broken = [
        f"{page.relative_to(ROOT)} -> {target}"
        for page in pages
        for target in _relative_links(page)
        if not (page.parent / target).exists()
    ]
    assert not broken


def test_the_operations_guide_names_only_commands_that_exist():
    import re

    from shared import cli

    text = (ROOT / "docs" / "operations.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    for target in set(re.findall(r"`make ([a-z-]+)", text)):
        assert re.search(rf"^{target}:", makefile, re.M), f"make {target}"
    for command in set(re.findall(r"python -m shared\.cli ([a-z-]+)", text)):
        try:
            cli.main([command, "--help"])
        except SystemExit as exc:
            assert exc.code == 0, f"python -m shared.cli {command}"
