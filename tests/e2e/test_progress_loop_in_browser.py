"""The assessment → plan loop (issue 12) in headless Chromium against the real services.

A student retaking Step 1 writes a reflection before the consultation; the tutor reads it with
the intake, completes the consultation and generates a reset plan (protected rest days first);
the student records a result (a refused per-area score is shown next to its field), sees the
chart and asks for a rebalance; the tutor accepts it from the dashboard; an admin adds and edits
an assessment form. Skipped until tutoring's progress and tracking APIs are both present.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import requests
from playwright.sync_api import expect

from shared import config
from tests.e2e.test_tutoring_in_browser import (
    PASSWORD,
    api_login,
    browser_sign_in,
    invited_tutor,
)

pytest.importorskip("services.tutoring.api_progress", reason="tutoring's progress API")
pytest.importorskip("services.tutoring.api_tracking", reason="tutoring's tracking API")

pytestmark = pytest.mark.browser


def booked_retake(school, tutor: dict[str, str]) -> str:
    """Priya, who sat Step 1 once before, books a consultation (so a reflection is asked)."""
    requests.post(
        f"{school.identity.url}/api/users",
        json={"email": "priya@example.com", "password": PASSWORD, "name": "Priya Nair"},
    )
    me = api_login(school, "priya@example.com")
    slots = requests.get(
        f"{school.tutoring.url}/api/tutors/{tutor['id']}/slots",
        params={"kind": "consultation", "tz": "Asia/Kolkata"},
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
            "time_zone": "Asia/Kolkata",
            "intake": intake,
        },
    )
    assert booked.status_code == 201, booked.text
    return booked.json()["id"]


def test_reflection_reset_plan_result_chart_and_an_accepted_rebalance(school, browser):
    tutor = invited_tutor(school)
    consultation_id = booked_retake(school, tutor)
    student = browser.new_context(timezone_id="Asia/Kolkata").new_page()
    browser_sign_in(school, student, "priya@example.com")
    student.goto(f"{school.site}/my/tutoring?tz=Asia/Kolkata")
    student.get_by_role("link", name=re.compile("Before you meet")).click()
    student.get_by_label(re.compile("^Your schedule")).fill("Night shifts\nevery week")
    student.get_by_role("button", name="Save my reflection").click()
    expect(student.get_by_text("Your reflection is saved")).to_be_visible()

    tutor_page = browser.new_context(timezone_id="America/New_York").new_page()
    browser_sign_in(school, tutor_page, "rao@example.com")
    tutor_page.goto(f"{school.site}/tutor/consultations/{consultation_id}")
    expect(tutor_page.locator("#reflection + dl")).to_contain_text("Night shifts")
    tutor_page.get_by_role("button", name="Mark completed").click()
    tutor_page.get_by_role("button", name="Generate study plan").click()
    expect(tutor_page.get_by_role("heading", name="Study plan")).to_be_visible()

    student.goto(f"{school.site}/tutoring/plan?tz=Asia/Kolkata")
    expect(student.get_by_text("A fresh start.")).to_be_visible()
    expect(student.get_by_text("Protected rest").first).to_be_visible()

    student.goto(f"{school.site}/tutoring/plan/results/new?tz=Asia/Kolkata")
    uworld = student.locator("#form_id option", has_text="UWorld Self-Assessment (Step 1)")
    student.get_by_label("Assessment").select_option(uworld.first.get_attribute("value"))
    student.get_by_label("Score").fill("55")
    student.get_by_label(re.compile("^Renal")).fill("48")
    student.get_by_label(re.compile("^Pharmacology")).fill("140")
    student.get_by_role("button", name="Record result").click()
    expect(student.locator("#area_scores-error")).to_contain_text("pharmacology")
    expect(student.locator("#area-pharmacology")).to_have_attribute("aria-invalid", "true")
    student.get_by_label(re.compile("^Pharmacology")).fill("61")
    student.get_by_role("button", name="Record result").click()
    expect(student.get_by_text("Result recorded: 55")).to_be_visible()
    expect(student.get_by_role("img", name=re.compile("Percent correct over time"))).to_be_visible()
    expect(student.locator("#chart-percent-numbers")).to_contain_text("55")

    student.goto(f"{school.site}/tutoring/plan?tz=Asia/Kolkata")
    student.get_by_role("button", name="Rebalance from tomorrow").click()
    expect(student.get_by_text(re.compile("your tutor decides on it"))).to_be_visible()

    tutor_page.goto(f"{school.site}/tutor")
    expect(tutor_page.locator("#plans")).to_contain_text("1 open proposal")
    tutor_page.locator("#plans").get_by_role("link", name=re.compile("^Progress")).click()
    tutor_page.get_by_role("button", name="Accept the new plan").click()
    expect(tutor_page.get_by_text("The new plan is in place (version 2).")).to_be_visible()


def test_an_admin_adds_and_edits_an_assessment_form(school, browser):
    admin = browser.new_context().new_page()
    admin.goto(f"{school.site}/login")
    admin.get_by_label("Email address").fill(config.env("ADMIN_EMAIL", "admin@preceptor.localhost"))
    admin.get_by_label("Password").fill(config.admin_password())
    admin.get_by_role("button", name="Sign in").click()
    admin.goto(f"{school.site}/admin/assessment-forms")
    admin.get_by_label("Name").fill("NBME 31")
    admin.get_by_label("Passing score").fill("160")
    admin.get_by_role("button", name="Add form").click()
    expect(admin.locator("#passing_score-error")).to_be_visible()
    admin.get_by_label("Passing score").fill("60")
    admin.get_by_role("button", name="Add form").click()
    expect(admin.get_by_text("NBME 31 is added")).to_be_visible()
    admin.get_by_role("link", name="NBME 31").click()
    admin.get_by_label("Passing score").fill("62")
    admin.get_by_role("button", name="Save").click()
    expect(admin.get_by_text("NBME 31 is saved")).to_be_visible()
    expect(admin.get_by_role("row", name=re.compile("NBME 31"))).to_contain_text("62")

    admin.goto(f"{school.site}/plan/check/not-a-token")
    expect(admin.get_by_role("heading", name="This link is not valid")).to_be_visible()
