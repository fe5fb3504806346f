"""The assessment → plan loop (issue 12) in headless Chromium against the real services.

A student retaking Step 1 writes a reflection before the consultation; the tutor reads it with
the intake, completes the consultation and generates a reset plan (protected rest days first).
The plan is then moved four weeks into the past (``time_travel.age_plan``) so the student can
live through it: three results taken weeks apart (one with a refused per-area score first), the
chart and its table, a readiness warning (the last two below passing, the exam weeks away), a
rebalance the tutor accepts, days marked missed (one from the keyboard alone), the worker's
recovery proposal, accepted by the tutor from the keyboard, and the weekly digest's one-click
check link and unsubscribe page. Every page of the loop is checked with axe-core for each role
that sees it, at desktop and 375 px (one ``PageAudit``, failing once with every finding).
An admin adds and edits an assessment form (its pages checked the same way).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from playwright.sync_api import Page, expect

from services.tutoring import worker
from services.tutoring.use_cases.day_checks import check_token
from shared import config
from tests.e2e.accessibility import PageAudit, tab_to
from tests.e2e.conftest import Suite
from tests.e2e.mail import link, wait_for_mail
from tests.e2e.test_accessibility_in_browser import person
from tests.e2e.test_tutoring_in_browser import (
    PASSWORD,
    api_login,
    browser_sign_in,
    invited_tutor,
)
from tests.e2e.time_travel import age_plan, start_meeting

pytest.importorskip("services.tutoring.api_progress", reason="tutoring's progress API")
pytest.importorskip("services.tutoring.api_tracking", reason="tutoring's tracking API")

pytestmark = pytest.mark.browser

STUDENT_ZONE = "Asia/Kolkata"
AGE_DAYS = 28
"""How far the plan is moved back: four weeks lived, 32 days (under six weeks) to the exam."""


def booked_retake(school, tutor: dict[str, str]) -> str:
    """Priya, who sat Step 1 once before, books a consultation (so a reflection is asked)."""
    requests.post(
        f"{school.identity.url}/api/users",
        json={"email": "priya@example.com", "password": PASSWORD, "name": "Priya Nair"},
    )
    me = api_login(school, "priya@example.com")
    slots = requests.get(
        f"{school.tutoring.url}/api/tutors/{tutor['id']}/slots",
        params={"kind": "consultation", "tz": STUDENT_ZONE},
    ).json()
    intake = {
        "exam": "step1",
        "exam_date": (date.today() + timedelta(days=60)).isoformat(),
        "attempts": 1,
        "weekly_hours": 25,
        "weak_areas": ["renal", "pharmacology"],
    }
    booked = requests.post(
        f"{school.tutoring.url}/api/consultations",
        headers=me,
        json={
            "tutor_id": tutor["id"],
            "starts_at": slots[1]["starts_at"],  # the first may pass its notice mid-test
            "time_zone": STUDENT_ZONE,
            "intake": intake,
        },
    )
    assert booked.status_code == 201, booked.text
    return booked.json()["id"]


def student_today() -> date:
    return datetime.now(ZoneInfo(STUDENT_ZONE)).date()


def last_digest_moment(zone: str) -> datetime:
    """The latest Monday 12:00 in ``zone`` not in the future: the digest job's moment."""
    now = datetime.now(ZoneInfo(zone))
    monday = now.date() - timedelta(days=now.weekday())
    moment = datetime.combine(monday, time(12), ZoneInfo(zone))
    return moment - timedelta(days=7) if moment > now else moment


def record_result(page: Page, site: str, taken_on: date, score: str, areas: dict[str, str]):
    page.goto(f"{site}/tutoring/plan/results/new?tz={STUDENT_ZONE}")
    uworld = page.locator("#form_id option", has_text="UWorld Self-Assessment (Step 1)")
    page.get_by_label("Assessment").select_option(uworld.first.get_attribute("value"))
    page.get_by_label("Date taken").fill(taken_on.isoformat())
    page.get_by_label("Score").fill(score)
    for area, value in areas.items():
        page.get_by_label(re.compile(f"^{area}")).fill(value)
    page.get_by_role("button", name="Record result").click()
    expect(page.get_by_text(f"Result recorded: {score}")).to_be_visible()


def test_a_retake_lives_through_results_a_rebalance_missed_days_and_the_digest(school, browser):
    audit = PageAudit()
    tutor = invited_tutor(school)
    consultation_id = booked_retake(school, tutor)
    student = person(browser, STUDENT_ZONE)
    browser_sign_in(school, student, "priya@example.com")
    student.goto(f"{school.site}/my/tutoring?tz={STUDENT_ZONE}")
    student.get_by_role("link", name=re.compile("Before you meet")).click()
    audit.check(student, "reflection form (student)")
    student.get_by_label(re.compile("^Your schedule")).fill("Night shifts\nevery week")
    student.get_by_role("button", name="Save my reflection").click()
    expect(student.get_by_text("Your reflection is saved")).to_be_visible()
    audit.check(student, "My tutoring with the reflection saved (student)")

    tutor_page = person(browser, "America/New_York")
    browser_sign_in(school, tutor_page, "rao@example.com")
    tutor_page.goto(f"{school.site}/tutor/consultations/{consultation_id}")
    expect(tutor_page.locator("#reflection + dl")).to_contain_text("Night shifts")
    audit.check(tutor_page, "consultation with the reflection (tutor)")
    start_meeting(school.tutoring, consultation_id)  # held only once it has begun
    tutor_page.reload()
    tutor_page.get_by_role("button", name="Mark completed").click()
    tutor_page.get_by_role("button", name="Generate study plan").click()
    expect(tutor_page.get_by_role("heading", name="Study plan")).to_be_visible()

    me = api_login(school, "priya@example.com")
    [plan] = requests.get(f"{school.tutoring.url}/api/plans/mine", headers=me).json()
    assert plan["reset"] is True
    age_plan(school.tutoring, plan["id"], AGE_DAYS)  # four weeks of it are behind her now
    today = student_today()

    # The failed attempt's protected rest block opens the plan.
    student.goto(f"{school.site}/tutoring/plan?tz={STUDENT_ZONE}")
    expect(student.get_by_text("A fresh start.")).to_be_visible()
    first_day = date.fromisoformat(plan["starts_on"]) - timedelta(days=AGE_DAYS)
    expect(student.locator(f"#day-{first_day}")).to_contain_text("Protected rest")

    # Three results, weeks apart; the first refused once for a per-area score out of range.
    student.goto(f"{school.site}/tutoring/plan/results/new?tz={STUDENT_ZONE}")
    audit.check(student, "record a result, blank (student)")
    uworld = student.locator("#form_id option", has_text="UWorld Self-Assessment (Step 1)")
    student.get_by_label("Assessment").select_option(uworld.first.get_attribute("value"))
    student.get_by_label("Date taken").fill((today - timedelta(days=19)).isoformat())
    student.get_by_label("Score").fill("52")
    student.get_by_label(re.compile("^Renal")).fill("40")
    student.get_by_label(re.compile("^Pharmacology")).fill("140")
    student.get_by_role("button", name="Record result").click()
    expect(student.locator("#area_scores-error")).to_contain_text("Pharmacology")
    expect(student.locator("#area-pharmacology")).to_have_attribute("aria-invalid", "true")
    audit.check(student, "record a result with errors (student)")
    student.get_by_label(re.compile("^Pharmacology")).fill("61")
    student.get_by_role("button", name="Record result").click()
    expect(student.get_by_text("Result recorded: 52")).to_be_visible()
    record_result(
        student,
        school.site,
        today - timedelta(days=12),
        "55",
        {"Renal": "44", "Pharmacology": "63"},
    )
    record_result(
        student, school.site, today - timedelta(days=5), "57", {"Renal": "47", "Pharmacology": "66"}
    )
    expect(student.get_by_role("img", name=re.compile("Percent correct over time"))).to_be_visible()
    numbers = student.locator("#chart-percent-numbers tbody tr")
    expect(numbers).to_have_count(3)
    expect(student.locator("#chart-percent-numbers")).to_contain_text("57")
    expect(student.locator(".estimate-note").first).to_contain_text("Estimate for")
    expect(student.locator("#readiness")).to_contain_text("below the passing mark")
    audit.check(student, "progress with a chart and a readiness warning (student)")

    # A rebalance from tomorrow, which the tutor accepts from the dashboard's plans table.
    student.goto(f"{school.site}/tutoring/plan?tz={STUDENT_ZONE}")
    student.get_by_role("button", name="Rebalance from tomorrow").click()
    expect(student.get_by_text(re.compile("your tutor decides on it"))).to_be_visible()
    expect(student.locator("#readiness")).to_be_visible()

    tutor_page.goto(f"{school.site}/tutor")
    expect(tutor_page.locator("#plans")).to_contain_text("1 open proposal")
    expect(tutor_page.locator("#plans")).to_contain_text("Readiness")
    audit.check(tutor_page, "tutor dashboard with the plans table (tutor)")
    tutor_page.locator("#plans").get_by_role("link", name=re.compile("^Progress")).click()
    expect(tutor_page.locator(".hours-table")).to_contain_text("Renal")
    audit.check(tutor_page, "a student's progress with a proposal (tutor)")
    tutor_page.get_by_role("link", name=re.compile("^Record a result for")).click()
    expect(
        tutor_page.get_by_role("heading", name="Record a result for the student")
    ).to_be_visible()
    audit.check(tutor_page, "record a result for a student, blank (tutor)")
    tutor_page.go_back()
    tutor_page.get_by_role("button", name="Accept the new plan").click()
    expect(tutor_page.get_by_text("The new plan is in place (version 2).")).to_be_visible()

    [accepted] = requests.get(
        f"{school.tutoring.url}/api/plans/{plan['id']}/proposals", headers=me
    ).json()
    assert accepted["status"] == "accepted"
    assert accepted["hours_after"]["renal"] > accepted["hours_before"]["renal"]
    student.goto(f"{school.site}/tutoring/plan?tz={STUDENT_ZONE}")
    expect(student.locator(".plan-facts")).to_contain_text("version 2")
    student.get_by_text("Earlier proposals (1)").click()
    # The change in hours per area, in words a student reads (area names, not ids).
    expect(student.locator("#proposals")).to_contain_text("Renal")

    # Missed days this past week (the first from the keyboard alone), then the worker's
    # hourly recovery job, run here at the real "now": a catch-up proposal on the plan page.
    [current] = requests.get(f"{school.tutoring.url}/api/plans/mine", headers=me).json()
    week = [
        d
        for d in current["days"]
        if str(today - timedelta(days=7)) <= d["day"] < str(today)
        and d["kind"] in ("study", "review")
    ]
    missed, hours = [], 0.0
    for day in week:
        missed.append(day["day"])
        hours += sum(b["hours"] for b in day["blocks"])
        if hours >= config.env_int("RECOVERY_MISSED_HOURS", 6):
            break
    assert hours >= 6, week
    student.goto(f"{school.site}/tutoring/plan?tz={STUDENT_ZONE}")  # the focus from the top
    for n, day in enumerate(missed):
        button = student.locator(f"#day-{day}").get_by_role("button", name="Missed")
        if n == 0:
            tab_to(student, button, max_presses=400)
            student.keyboard.press("Enter")
        else:
            button.click()
        expect(student.locator(f"#day-{day}")).to_contain_text("Your answer: Missed")
    assert worker.recovery(school.tutoring.runtime, datetime.now(ZoneInfo("UTC"))) == 1
    student.goto(f"{school.site}/tutoring/plan?tz={STUDENT_ZONE}")
    expect(student.locator("#proposals")).to_contain_text("Catch up missed hours")
    expect(student.locator("#proposals")).to_contain_text("Waiting for your tutor")
    expect(student.locator("#readiness")).to_be_visible()
    # One check of the long plan page (axe-core takes seconds on it): a proposal's card is the
    # same for a rebalance and a recovery, and the readiness warning still shows.
    audit.check(student, "plan with a proposal and a readiness warning (student)")

    tutor_page.goto(f"{school.site}/tutor/plans/{plan['id']}/progress")
    accept = tutor_page.get_by_role("button", name="Accept the new plan")
    tab_to(tutor_page, accept, max_presses=200)
    tutor_page.keyboard.press("Enter")
    expect(tutor_page.get_by_text("The new plan is in place (version 3).")).to_be_visible()

    # The weekly digest (the worker's job at the student's last Monday noon): a one-click link
    # asks, confirms, and the day is marked on the plan; the digest's unsubscribe page.
    moment = last_digest_moment(STUDENT_ZONE)
    assert worker.digests(school.tutoring.runtime, moment) >= 1
    digest = wait_for_mail(school.smtp, "priya@example.com", "Your study week")
    check_url = link(digest, "/plan/check/")
    token_day = requests.get(
        f"{school.tutoring.url}/api/plan-checks/{check_url.rsplit('/', 1)[1]}"
    ).json()["day"]
    inbox = person(browser, STUDENT_ZONE)
    inbox.goto(check_url)
    expect(inbox.get_by_role("heading", name=re.compile("^Mark .* as done"))).to_be_visible()
    audit.check(inbox, "check link, asking (public)")
    inbox.get_by_role("button", name="Yes, mark it done").click()
    expect(inbox.get_by_role("heading", name=re.compile("is marked done"))).to_be_visible()
    audit.check(inbox, "check link, recorded (public)")
    student.goto(f"{school.site}/tutoring/plan?tz={STUDENT_ZONE}")
    expect(student.locator(f"#day-{token_day}")).to_contain_text("Your answer: Done")

    inbox.goto(link(digest, "/unsubscribe/"))
    expect(inbox.get_by_role("button", name="Unsubscribe")).to_be_visible()
    audit.check(inbox, "unsubscribe from the weekly digest (public)")
    inbox.get_by_role("button", name="Unsubscribe").click()
    expect(inbox.get_by_role("heading", name="You're unsubscribed")).to_be_visible()
    expect(inbox.locator(".lead")).to_contain_text("weekly progress email")
    audit.check(inbox, "unsubscribed from the weekly digest (public)")

    audit.assert_clean()


@pytest.fixture
def forms_site(services, smtp_server, monkeypatch) -> Suite:
    """Only what the admin's assessment forms need (identity, tutoring, the site): the whole
    school would double the setup and slow the loop's test running beside this one."""
    identity = services("identity", serve=True)
    tutoring = services("tutoring", serve=True)
    web = services("web", serve=True)
    monkeypatch.setenv("PUBLIC_URL", web.url)
    return Suite(identity, None, web, smtp_server, tutoring=tutoring)


def test_an_admin_adds_and_edits_an_assessment_form(forms_site, browser):
    school = forms_site
    audit = PageAudit()
    admin = person(browser, "Europe/London")
    admin.goto(f"{school.site}/login")
    admin.get_by_label("Email address").fill(config.env("ADMIN_EMAIL", "admin@preceptor.localhost"))
    admin.get_by_label("Password").fill(config.admin_password())
    admin.get_by_role("button", name="Sign in").click()
    admin.goto(f"{school.site}/admin/assessment-forms")
    audit.check(admin, "assessment forms (admin)")
    admin.get_by_label("Name").fill("NBME 31")
    admin.get_by_label("Passing score").fill("160")
    admin.get_by_role("button", name="Add form").click()
    expect(admin.locator("#passing_score-error")).to_be_visible()
    audit.check(admin, "add an assessment form with errors (admin)")
    admin.get_by_label("Passing score").fill("60")
    admin.get_by_role("button", name="Add form").click()
    expect(admin.get_by_text("NBME 31 is added")).to_be_visible()
    admin.get_by_role("link", name="NBME 31").click()
    audit.check(admin, "edit an assessment form (admin)")
    admin.get_by_label("Passing score").fill("62")
    admin.get_by_role("button", name="Save").click()
    expect(admin.get_by_text("NBME 31 is saved")).to_be_visible()
    expect(admin.get_by_role("row", name=re.compile("NBME 31"))).to_contain_text("62")

    admin.goto(f"{school.site}/plan/check/not-a-token")
    expect(admin.get_by_role("heading", name="This link is not valid")).to_be_visible()
    audit.check(admin, "check link, not valid (public)")
    sent = datetime.now(ZoneInfo("UTC")) - timedelta(days=config.env_int("CHECK_LINK_DAYS", 14) + 1)
    old = check_token("a-plan", sent.date(), "done", "a-student", issued_at=sent)
    admin.goto(f"{school.site}/plan/check/{old}")
    expect(admin.get_by_role("heading", name="This link has expired")).to_be_visible()
    audit.check(admin, "check link, expired (public)")
    audit.assert_clean()
