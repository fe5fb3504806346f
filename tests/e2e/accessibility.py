"""Accessibility checks for the browser tests: axe-core, the 375 px phone width, the keyboard.

axe-core (through ``axe-playwright-python``, which carries its own copy of ``axe.min.js``)
finds what a machine can: missing labels and names, contrast, roles and ARIA misuse, duplicate
ids, landmarks. It cannot tell whether a label makes sense or whether the page can be used
with the keyboard alone, so the journeys also press Tab and Enter (``tab_to``) and look at the
page at a phone's width (``assert_no_horizontal_scroll``).

Only the WCAG 2.0/2.1 A and AA rules run (what the school commits to), and only *serious* and
*critical* findings fail a test: the minor/moderate ones are mostly best practices that would
make the checks noisy without making the pages harder to use.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Locator, Page

WCAG_TAGS: tuple[str, ...] = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
BLOCKING_IMPACTS: tuple[str, ...] = ("serious", "critical")
PHONE_WIDTH = 375
PHONE_HEIGHT = 812
SNIPPET_CHARS = 200

NODES_SHOWN = 5
AXE_OPTIONS: dict[str, Any] = {
    "runOnly": {"type": "tag", "values": list(WCAG_TAGS)},
    "resultTypes": ["violations"],  # axe still finds passes, but does not serialise them
}

_AXE_SCRIPT = Axe().axe_script  # the package's axe.min.js, read once per test process


_FINITE_ANIMATIONS_RUNNING = """() => document.getAnimations().every(
    a => a.playState !== 'running' || a.effect.getTiming().iterations === Infinity)"""


def settle_transitions(page: Page) -> None:
    """Wait for running CSS transitions to end (a spinner's endless one aside).

    axe reads colours as they are painted: a button caught 30 ms into its 0.15 s background
    transition measured 3.5:1 against the 5.5:1 it settles at, and failed a run at random.
    """
    page.wait_for_function(_FINITE_ANIMATIONS_RUNNING, timeout=5000)


def axe_violations(page: Page, impacts: Sequence[str] = BLOCKING_IMPACTS) -> list[dict[str, Any]]:
    """axe-core's violations of the WCAG 2 A/AA rules on the page as it is now, of ``impacts``.

    Not ``Axe().run``: it injects the 550 kB script again on every call (the 375 px pass runs
    on the same document) and writes its arguments with Python's ``repr``; here the options go
    to the page as a JSON argument.
    """
    settle_transitions(page)
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_AXE_SCRIPT)
    results = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
    return [v for v in results["violations"] if v.get("impact") in impacts]


def describe_violations(label: str, url: str, violations: Sequence[dict[str, Any]]) -> str:
    """A report a person can act on: per rule its impact and help, then each element."""
    lines = [f"{label} ({url}): {len(violations)} serious/critical accessibility violation(s)"]
    for violation in violations:
        lines.append(
            f"- {violation['id']} [{violation.get('impact')}]: {violation.get('help')}"
            f" ({violation.get('helpUrl', '')})"
        )
        nodes = violation.get("nodes", [])
        for node in nodes[:NODES_SHOWN]:
            target = ", ".join(" >> ".join(t) if isinstance(t, list) else t for t in node["target"])
            snippet = " ".join(str(node.get("html", "")).split())
            if len(snippet) > SNIPPET_CHARS:
                snippet = snippet[: SNIPPET_CHARS - 1] + "…"
            lines.append(f"    at {target}")
            lines.append(f"       {snippet}")
            summary = str(node.get("failureSummary") or "").strip()
            for detail in summary.splitlines()[1:]:  # the first line is "Fix any/all of the…"
                if detail.strip():
                    lines.append(f"       · {detail.strip()}")
        if len(nodes) > NODES_SHOWN:
            lines.append(f"    … and {len(nodes) - NODES_SHOWN} more element(s) like these")
    return "\n".join(lines)


def accessibility_problems(page: Page, label: str) -> list[str]:
    """The page's serious/critical WCAG 2 A/AA violations as one report, or [] when none.

    For tests that visit many pages and want every page's findings in one failure.
    """
    violations = axe_violations(page)
    return [describe_violations(label, page.url, violations)] if violations else []


def assert_accessible(page: Page, label: str) -> None:
    """Fail, listing every serious or critical WCAG 2 A/AA violation axe-core finds on the page.

    ``label`` names the page in the failure ("tutor dashboard at 375 px"), since several pages
    are checked in one test and URLs with ids say little.
    """
    problems = accessibility_problems(page, label)
    assert not problems, "\n".join(problems)


# The page's width against the viewport's, and the innermost elements past the right edge that
# are not inside a box of their own that scrolls or clips (such a box is allowed to be wide).
_OVERFLOWING = """
() => {
  const width = document.documentElement.clientWidth;
  const past = (el) => el.getBoundingClientRect().right > width + 1;
  const contained = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      if (['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(p).overflowX)) {
        return true;
      }
    }
    return false;
  };
  const culprits = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (el.getBoundingClientRect().width === 0 || !past(el) || contained(el)) continue;
    if ([...el.children].some(past)) continue;  // name the innermost
    const classes = typeof el.className === 'string' ? el.className.trim() : '';
    const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
      + (classes ? '.' + classes.split(/\\s+/).join('.') : '');
    const html = (el.outerHTML || '').replace(/\\s+/g, ' ').slice(0, 160);
    const right = Math.round(el.getBoundingClientRect().right);
    culprits.push(`${name} (right edge ${right} px): ${html}`);
    if (culprits.length >= 8) break;
  }
  return {scrollWidth: document.documentElement.scrollWidth, width, culprits};
}
"""


@contextmanager
def phone_width(page: Page) -> Iterator[Page]:
    """The page at a 375 px wide viewport (an iPhone SE/mini), back to its size afterwards."""
    before = page.viewport_size
    page.set_viewport_size({"width": PHONE_WIDTH, "height": PHONE_HEIGHT})
    try:
        yield page
    finally:
        if before:
            page.set_viewport_size(before)


def horizontal_scroll_problems(page: Page, label: str) -> list[str]:
    """Why the page scrolls sideways at 375 px (the widest elements past the edge), or []."""
    with phone_width(page):
        found = page.evaluate(_OVERFLOWING)
    if found["scrollWidth"] <= found["width"]:
        return []
    culprits = "\n".join(f"    {c}" for c in found["culprits"]) or "    (no single element found)"
    return [
        f"{label} ({page.url}) scrolls sideways at {PHONE_WIDTH} px: the page is"
        f" {found['scrollWidth']} px wide for {found['width']} px; past the edge:\n{culprits}"
    ]


def assert_no_horizontal_scroll(page: Page, label: str = "page") -> None:
    """Fail when the page is wider than a 375 px phone screen (WCAG 1.4.10 Reflow).

    Wide tables may scroll inside their own box (``overflow-x: auto``); the page itself must
    not, or every line has to be read by scrolling back and forth.
    """
    problems = horizontal_scroll_problems(page, label)
    assert not problems, "\n".join(problems)


def focused(page: Page) -> str:
    """What has the keyboard focus, as a short description for failure messages."""
    return page.evaluate(
        "() => { const el = document.activeElement;"
        " return el ? el.outerHTML.replace(/\\s+/g, ' ').slice(0, 120) : 'nothing'; }"
    )


def tab_to(page: Page, target: Locator, max_presses: int = 80) -> int:
    """Press Tab until ``target`` has the focus, as a keyboard user would; the presses taken.

    Fails when the control can't be reached within ``max_presses`` (not focusable, hidden, or
    behind a keyboard trap), naming where the focus ended up.
    """
    handle = target.element_handle()
    assert handle is not None, f"{target} is not on the page"
    for presses in range(1, max_presses + 1):
        page.keyboard.press("Tab")
        if page.evaluate("(el) => document.activeElement === el", handle):
            return presses
    raise AssertionError(
        f"{target} not reached with {max_presses} Tab presses; focus is on {focused(page)}"
    )


def has_visible_focus(page: Page) -> bool:
    """Whether the focused element draws a focus indicator (an outline or a box shadow)."""
    return page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0)"
        " || s.boxShadow !== 'none'; }"
    )


class PageAudit:
    """Checks many pages and fails once at the end with every finding, not just the first.

    ``audit.check(page, "tutor dashboard")`` runs axe-core at the page's current (desktop)
    size, then at 375 px together with the horizontal-scroll check.
    """

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.checked: list[str] = []

    def check(self, page: Page, label: str, *, phone: bool = True) -> None:
        self.checked.append(label)
        self.problems += accessibility_problems(page, label)
        if phone:
            with phone_width(page):
                self.problems += accessibility_problems(page, f"{label} at {PHONE_WIDTH} px")
                self.problems += horizontal_scroll_problems(page, label)

    def assert_clean(self) -> None:
        assert not self.problems, (
            f"{len(self.problems)} finding(s) on {len(self.checked)} page(s) checked:\n\n"
            + "\n\n".join(self.problems)
        )


# WCAG 2.5.8 Target Size (Minimum): every pointer target is at least 24 x 24 CSS px, or has room
# around it (a 24 px circle on its centre touches no other target), or is a link inside a
# sentence (an inline link among other text), or is a control the browser draws unstyled.
# A checkbox or radio counts its label's box, which takes the click as well.
TARGET_MIN = 24
_SMALL_TARGETS = """
(min) => {
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary,'
    + ' [role=button], [role=link], [role=tab], [role=checkbox], [role=radio]';
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
  };
  const isBlock = (el) => !['inline', 'contents'].includes(getComputedStyle(el).display);
  const inSentence = (el) => {
    if (el.tagName !== 'A' || getComputedStyle(el).display !== 'inline') return false;
    let block = el.parentElement;
    while (block && !isBlock(block)) block = block.parentElement;
    if (!block) return false;
    const own = (el.textContent || '').replace(/\\s+/g, '');
    const all = (block.textContent || '').replace(/\\s+/g, '');
    return all.length > own.length;  // other words share the line box: a link in running text
  };
  const box = (el) => {
    let r = el.getBoundingClientRect();
    if (el.labels && el.labels.length && ['checkbox', 'radio'].includes(el.type)) {
      const l = el.labels[0].getBoundingClientRect();
      if (l.width * l.height > r.width * r.height) r = l;
    }
    return r;
  };
  const targets = [...document.querySelectorAll(selector)]
    .filter((el) => !el.disabled && visible(el) && !inSentence(el)
      && !el.closest('[aria-hidden=true], .skip-link'))
    .map((el) => ({el, r: box(el)}));
  const small = (t) => t.r.width < min - 0.5 || t.r.height < min - 0.5;
  const centre = (r) => [r.left + r.width / 2, r.top + r.height / 2];
  const distanceToRect = ([x, y], r) => Math.hypot(
    Math.max(r.left - x, 0, x - r.right), Math.max(r.top - y, 0, y - r.bottom));
  const found = [];
  for (const t of targets) {
    if (!small(t)) continue;
    const c = centre(t.r);
    const crowded = targets.some((u) => u !== t && !u.el.contains(t.el) && !t.el.contains(u.el)
      && (small(u) ? Math.hypot(c[0] - centre(u.r)[0], c[1] - centre(u.r)[1]) < min
                   : distanceToRect(c, u.r) < min / 2));
    if (!crowded) continue;
    const el = t.el;
    const classes = typeof el.className === 'string' ? el.className.trim() : '';
    const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
      + (classes ? '.' + classes.split(/\\s+/).join('.') : '');
    const html = (el.outerHTML || '').replace(/\\s+/g, ' ').slice(0, 160);
    found.push({target: name, size: `${Math.round(t.r.width)}x${Math.round(t.r.height)}`, html});
  }
  return found;
}
"""


def small_targets(page: Page) -> list[dict[str, str]]:
    """Targets under 24 x 24 px with another target within reach (WCAG 2.5.8), as found."""
    return page.evaluate(_SMALL_TARGETS, TARGET_MIN)


def skip_link_problem(page: Page) -> str | None:
    """Why the page's first Tab does not land on a visible "Skip to content" link, or None.

    The page should be freshly loaded (the focus at the document's start).
    """
    page.keyboard.press("Tab")
    first = page.evaluate(
        """() => {
          const el = document.activeElement;
          if (!el || el.tagName !== 'A') return null;
          const href = el.getAttribute('href') || '';
          const r = el.getBoundingClientRect();
          return {
            text: el.textContent.trim(),
            lands: href.startsWith('#') && !!document.getElementById(href.slice(1)),
            shown: r.width > 0 && r.height > 0 && r.left >= 0 && r.top >= 0
              && r.right <= window.innerWidth,
          };
        }"""
    )
    if not first or first["text"] != "Skip to content":
        return f"the first Tab lands on {focused(page)}, not the 'Skip to content' link"
    if not first["lands"]:
        return "the skip link points at no element of the page"
    if not first["shown"]:
        return "the skip link stays off screen when it has the focus"
    if not has_visible_focus(page):
        return "the skip link shows no visible focus indicator"
    return None
