"""Every page a person can reach from the navigation, for each role, checked at a phone's width.

One school with a little of everything (a course with a cycle and an enrolled student, a tutor
with a profile and hours, a campaign draft, a testimonial on the wall), then for the visitor, the
student, the tutor, marketing and the admin: start at the home page, follow the navigation's
links, then the links on those pages (one level deeper), and check each page once at 375 px:

- axe-core's WCAG 2.0/2.1 A and AA rules, failing on serious and critical findings;
- no sideways scrolling (WCAG 1.4.10 Reflow);
- pointer targets of at least 24 x 24 px or with room around them (WCAG 2.5.8);
- the first Tab lands on a visible "Skip to content" link (WCAG 2.4.1, 2.4.7).

The pages are found from the links, not listed here, so a page someone adds is checked as soon
as a menu links to it. Links that differ only in an id or a query's values ("/tutoring/<id>",
"?status=approved") count as one page: the same template with other data. Desktop is not
checked again: colour contrast and labels do not change with the width.

Every finding of every page is collected and the test fails once, grouping a finding that
repeats (a header link on every page) under the pages where it was seen.
"""

from __future__ import annotations

import re
from collections import defaultdict, deque
from dataclasses import dataclass, field
from urllib.parse import urldefrag, urlsplit

import pytest
import requests
from playwright.sync_api import Browser, Page, expect
from playwright.sync_api import Error as PlaywrightError

from services.tutoring.tests.helpers import intake
from tests.e2e.accessibility import (
    PHONE_HEIGHT,
    PHONE_WIDTH,
    SNIPPET_CHARS,
    TARGET_MIN,
    axe_violations,
    horizontal_scroll_problems,
    skip_link_problem,
    small_targets,
    tab_to,
)
from tests.e2e.people import (
    PASSWORD,
    admin_credentials,
    api_login,
    invite_staff,
    register_student,
    sign_in,
)
from tests.e2e.test_accessibility_in_browser import ready_tutor, settled

pytestmark = pytest.mark.browser

COURSE = "usmle-step-1-prep"
PAGES_PER_ROLE = 30
# Not pages to check: files to download, mail and phone links, the API and static files.
SKIPPED = re.compile(r"(\.(ics|csv|pdf|json|js|css|svg|png|xml|txt)$)|^/(api|static)/|logout")
# A path segment that is data rather than a kind of page: ids, tokens, dates, times.
DATA_SEGMENT = re.compile(
    r"^\d+$|^[0-9a-fA-F]{8}-[0-9a-fA-F-]{20,}$|^\d{4}-\d\d-\d\d|^[\w.-]{32,}$"
)


@dataclass
class Finding:
    check: str  # "axe color-contrast [serious]", "target size", ...
    where: str  # a selector or element name
    detail: str  # what is wrong and a snippet of the element


@dataclass
class Crawl:
    """Findings by what is wrong, with the pages (and roles) where each was seen."""

    seen: dict[tuple[str, str, str], list[str]] = field(default_factory=lambda: defaultdict(list))
    pages: list[str] = field(default_factory=list)

    def add(self, page_label: str, findings: list[Finding]) -> None:
        self.pages.append(page_label)
        for f in findings:
            self.seen[(f.check, f.where, f.detail)].append(page_label)

    def report(self) -> str:
        lines = [
            f"{len(self.seen)} distinct finding(s) on {len(self.pages)} page(s) checked at"
            f" {PHONE_WIDTH} px (each with the pages where it was seen):"
        ]
        for (check, where, detail), pages in sorted(self.seen.items()):
            shown = ", ".join(pages[:6]) + (f" and {len(pages) - 6} more" if len(pages) > 6 else "")
            lines += [f"\n- {check}", f"    at {where}", f"    {detail}", f"    on {shown}"]
        return "\n".join(lines)


def shape(url: str) -> str:
    """The kind of page a URL shows: its path with ids and tokens as {}, its query's keys."""
    parts = urlsplit(url)
    path = "/".join("{}" if DATA_SEGMENT.match(s) else s for s in parts.path.split("/"))
    keys = sorted({kv.split("=")[0] for kv in parts.query.split("&") if kv} - {"tz"})
    return path + ("?" + "&".join(keys) if keys else "")


def links(page: Page, site: str, scope: str) -> list[str]:
    """The same-site page links inside ``scope`` (CSS selectors), in document order."""
    selector = ", ".join(f"{s.strip()} a[href]:not([download])" for s in scope.split(","))
    hrefs = page.eval_on_selector_all(
        selector,
        "els => els.map(a => a.href)",
    )
    found = []
    for href in hrefs:
        href = urldefrag(href)[0]
        path = urlsplit(href).path
        if href.startswith(site) and not SKIPPED.search(path) and href not in found:
            found.append(href)
    return found


def axe_findings(page: Page) -> list[Finding]:
    findings = []
    for v in axe_violations(page):
        for node in v.get("nodes", []):
            target = ", ".join(" >> ".join(t) if isinstance(t, list) else t for t in node["target"])
            summary = [
                d.strip()
                for d in str(node.get("failureSummary") or "").splitlines()[1:]
                if d.strip()
            ]
            snippet = " ".join(str(node.get("html", "")).split())[:SNIPPET_CHARS]
            findings.append(
                Finding(
                    f"axe {v['id']} [{v.get('impact')}]: {v.get('help')} ({v.get('helpUrl', '')})",
                    target,
                    f"{'; '.join(summary)} — {snippet}",
                )
            )
    return findings


def card_form_problem(page: Page) -> str | None:
    """Why the card number can't be reached with Tab from the top of the page, or None."""
    card = page.locator("#card-element input").first
    try:
        card.wait_for(state="visible")
        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        tab_to(page, card, max_presses=60)
    except (AssertionError, PlaywrightError) as failed:
        return str(failed).splitlines()[0]
    # The inputs sit in one bordered box that draws the focus for them (:focus-within).
    ring = page.evaluate(
        """() => [document.activeElement, document.activeElement.closest('#card-element')]
          .some(el => { const s = getComputedStyle(el);
            return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0)
              || s.boxShadow !== 'none'; })"""
    )
    return None if ring else "neither the card input nor its box shows a visible focus"


def check_page(page: Page) -> list[Finding]:
    findings = []
    if page.locator("header.site-header").count():  # the site's pages; not an embedded widget
        problem = skip_link_problem(page)
        if problem:
            findings.append(Finding("skip link (WCAG 2.4.1)", "a.skip-link", problem))
    if page.locator("#card-element").count():  # a checkout: the card form from the keyboard
        problem = card_form_problem(page)
        if problem:
            findings.append(Finding("card form by keyboard (WCAG 2.1.1)", "#card-element", problem))
    findings += axe_findings(page)
    for problem in horizontal_scroll_problems(page, "page"):
        head, _, culprits = problem.partition("past the edge:\n")
        findings.append(
            Finding(
                "sideways scrolling at 375 px (WCAG 1.4.10)",
                head.split(") ", 1)[-1].strip(),
                culprits.strip(),
            )
        )
    for small in small_targets(page):
        findings.append(
            Finding(
                f"target smaller than {TARGET_MIN}x{TARGET_MIN} px, too close to another"
                " (WCAG 2.5.8)",
                small["target"],
                f"{small['size']} px — {small['html']}",
            )
        )
    return findings


def crawl_as(page: Page, site: str, role: str, crawl: Crawl) -> None:
    """Breadth first from the home page: the navigation's links, then the links on those pages."""
    queue: deque[tuple[str, int, str]] = deque([(f"{site}/", 0, "the start")])
    visited: set[str] = {shape(f"{site}/")}
    checked = 0
    while queue and checked < PAGES_PER_ROLE:
        url, depth, source = queue.popleft()
        label = f"{urlsplit(url).path or '/'} ({role})"
        try:
            response = page.goto(url)
        except PlaywrightError as failed:  # one page that does not load spoils no other's report
            crawl.add(label, [Finding("page did not load", url, str(failed).splitlines()[0])])
            checked += 1
            continue
        if response is None or "text/html" not in response.headers.get("content-type", ""):
            continue
        if response.status >= 500 or response.status == 404:
            crawl.add(label, [Finding(f"HTTP {response.status}", url, f"linked from {source}")])
            checked += 1
            continue
        checked += 1
        try:
            settled(page)
            crawl.add(label, check_page(page))
        except PlaywrightError as failed:
            crawl.add(
                label, [Finding("page could not be checked", url, str(failed).splitlines()[0])]
            )
            continue
        if depth == 0:
            found = links(page, site, "header nav, footer, main nav")
        elif depth == 1:
            found = links(page, site, "body")
        else:
            continue
        for href in found:
            if shape(href) not in visited:
                visited.add(shape(href))
                queue.append((href, depth + 1, label))


def phone(browser: Browser) -> Page:
    context = browser.new_context(
        viewport={"width": PHONE_WIDTH, "height": PHONE_HEIGHT}, timezone_id="Europe/Berlin"
    )
    context.set_default_timeout(15000)
    return context.new_page()


def some_of_everything(school) -> None:
    """Content for every page to show: an enrolled student with a consultation booked, a tutor
    with hours, a campaign draft and an approved testimonial; the seeded courses and their
    cycles are there already."""
    tutor_id = ready_tutor(school)
    admin = api_login(school, *admin_credentials())
    r = requests.post(
        f"{school.enrollment.url}/api/admin/promo-codes",
        headers=admin,
        json={"code": "CRAWL", "kind": "percent", "value": 100, "course_slug": COURSE},
    )
    assert r.status_code == 201, r.text
    student = register_student(school, "ines@example.com", "Ines Duarte")
    r = requests.post(
        f"{school.enrollment.url}/api/enrollments",
        headers=student,
        json={"course_slug": COURSE, "promo_code": "CRAWL"},
    )
    assert r.status_code == 201, r.text
    # A consultation booked with the tutor: their dashboard and "My tutoring" link to it.
    slots = requests.get(
        f"{school.tutoring.url}/api/tutors/{tutor_id}/slots",
        params={"kind": "consultation", "tz": "Europe/Berlin"},
    ).json()
    r = requests.post(
        f"{school.tutoring.url}/api/consultations",
        headers=student,
        json={
            "tutor_id": tutor_id,
            "starts_at": slots[1]["starts_at"],  # the first may pass its notice meanwhile
            "time_zone": "Europe/Berlin",
            "intake": intake(),
        },
    )
    assert r.status_code == 201, r.text
    # A second course, not paid yet: "My enrollments" links to its checkout and the card form.
    courses = requests.get(f"{school.enrollment.url}/api/courses").json()
    courses = courses if isinstance(courses, list) else courses["items"]
    other = next(c["slug"] for c in courses if c["slug"] != COURSE)
    r = requests.post(
        f"{school.enrollment.url}/api/enrollments", headers=student, json={"course_slug": other}
    )
    assert r.status_code == 201, r.text
    marketer = invite_staff(school, "noor@example.com", "Noor Saleh", "marketing")
    audiences = requests.get(f"{school.email.url}/api/admin/audiences", headers=marketer).json()
    r = requests.post(
        f"{school.email.url}/api/admin/campaigns",
        headers=marketer,
        json={
            "subject": "Step 1 in eight weeks",
            "body_markdown": "Hello {{first_name}},\n\nA plan for the last **eight weeks**.",
            "audience": audiences[0]["key"],
        },
    )
    assert r.status_code == 201, r.text
    r = requests.post(
        f"{school.testimonials.url}/api/testimonials",
        headers=student,
        json={
            "display_name": "Ines D.",
            "program": f"course:{COURSE}",
            "story": "The weekly checks showed me where I was weak; I passed Step 1 with 241.",
            "rating": 5,
            "consent": True,
        },
    )
    assert r.status_code == 201, r.text
    story = r.json()["id"]
    r = requests.post(
        f"{school.testimonials.url}/api/admin/testimonials/{story}/approve", headers=marketer
    )
    assert r.status_code == 200, r.text


def form_errors_take_the_focus(page: Page, site: str) -> None:
    """A form sent with mistakes comes back with its error summary focused, so a screen reader
    reads it out and the next Tab goes on into the form (the summary is also role="alert")."""
    page.goto(f"{site}/register")
    page.get_by_role("button", name="Create account").click()
    summary = page.locator(".form-alert")
    expect(summary).to_be_focused()
    expect(summary).to_have_attribute("role", "alert")


def test_every_page_reachable_from_the_navigation_is_accessible_at_375_px(school, browser):
    some_of_everything(school)
    crawl = Crawl()
    people = [
        ("visitor", None, None),
        ("student", "ines@example.com", PASSWORD),
        ("tutor", "rao@example.com", PASSWORD),
        ("marketing", "noor@example.com", PASSWORD),
        ("admin", *admin_credentials()),
    ]
    for role, email, password in people:
        page = phone(browser)
        if email:
            sign_in(school, page, email, password)
        else:
            form_errors_take_the_focus(page, school.site)
        crawl_as(page, school.site, role, crawl)
        page.context.close()
    assert len(crawl.pages) > 5 * 8, f"too few pages found to trust the crawl: {crawl.pages}"
    assert not crawl.seen, crawl.report()


def test_the_crawl_checks_name_small_crowded_targets_and_a_missing_skip_link(page):
    """The checks themselves: two 16 px buttons side by side fail 2.5.8, a link in a sentence
    and a 16 px button with room around it do not; a page without a skip link is named."""
    page.set_viewport_size({"width": PHONE_WIDTH, "height": PHONE_HEIGHT})
    page.set_content(
        "<html lang='en'><body><main id='main'>"
        "<p>Read <a href='/terms'>the terms</a> first.</p>"
        "<p><button id='near-a' style='width:16px;height:16px;padding:0'>a</button>"
        "<button id='near-b' style='width:16px;height:16px;padding:0'>b</button></p>"
        "<p style='margin-top:60px'><button id='alone' style='width:16px;height:16px'>c</button>"
        "</p></main></body></html>"
    )
    assert sorted(t["target"] for t in small_targets(page)) == ["button#near-a", "button#near-b"]
    problem = skip_link_problem(page)
    assert problem and "not the 'Skip to content' link" in problem and "/terms" in problem

    page.set_content(
        "<html lang='en'><head><style>.skip-link{position:absolute;left:-999px}"
        ".skip-link:focus{left:8px}</style></head><body>"
        "<a class='skip-link' href='#main'>Skip to content</a><main id='main'>Hi</main></body>"
    )
    assert skip_link_problem(page) is None


def test_links_that_differ_in_ids_or_query_values_are_one_page():
    assert shape(
        "http://x/tutoring/3f2a9c1e-0b7d-4e7f-9d55-2c1a9e0b7d4e/book?starts_at=1&tz=UTC"
    ) == ("/tutoring/{}/book?starts_at")
    assert shape("http://x/courses/usmle-step-1-prep") == "/courses/usmle-step-1-prep"
    assert shape("http://x/admin/courses/usmle-step-1-prep/cycles/2026-12-07") == (
        "/admin/courses/usmle-step-1-prep/cycles/{}"
    )


def test_a_finding_seen_on_many_pages_is_reported_once_with_its_pages():
    crawl = Crawl()
    contrast = Finding("axe color-contrast [serious]", "footer a", "2.9:1 — <a>Courses</a>")
    crawl.add("/ (visitor)", [contrast])
    crawl.add("/courses (visitor)", [contrast, Finding("HTTP 404", "/gone", "linked from /")])
    crawl.add("/login (visitor)", [])

    report = crawl.report()

    assert report.startswith("2 distinct finding(s) on 3 page(s) checked at 375 px")
    assert report.count("color-contrast") == 1
    assert "on / (visitor), /courses (visitor)" in report
    assert "at /gone" in report and "linked from /" in report
