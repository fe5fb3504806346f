"""Tutoring journeys 1 and 2 in headless Chromium, each person in their own time zone.

A student in India books a free initial consultation with a tutor in New York, answering the
intake, and receives an invite; the tutor runs it, records the assessment and generates and
adjusts the study plan; the student sees the plan and subscribes to it as a calendar feed.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import requests
from icalendar import Calendar
from playwright.sync_api import Page, expect

from shared import config
from shared.testing.fixtures import wait_for
from tests.e2e.mail import wait_for_mail

pytestmark = pytest.mark.browser

PASSWORD = "a long enough password"


def api_login(school, email: str) -> dict[str, str]:
    r = requests.post(
        f"{school.identity.url}/api/auth/login", json={"email": email, "password": PASSWORD}
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def browser_sign_in(school, page: Page, email: str) -> None:
    page.goto(f"{school.site}/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(email).first).to_be_visible()


def invited_tutor(school) -> dict[str, str]:
    """An admin invites Dr Rao, who accepts and sets up profile and weekly hours."""
    admin = requests.post(
        f"{school.identity.url}/api/auth/login",
        json={
            "email": config.env("ADMIN_EMAIL", "admin@preceptor.localhost"),
            "password": config.admin_password(),
        },
    ).json()["access_token"]
    r = requests.post(
        f"{school.identity.url}/api/admin/users",
        headers={"Authorization": f"Bearer {admin}"},
        json={"email": "rao@example.com", "name": "Dr Anita Rao", "role": "tutor"},
    )
    assert r.status_code == 201, r.text
    [invited] = school.identity.recorded("user.invited")
    accepted = requests.post(
        f"{school.identity.url}/api/invitations/accept",
        json={"token": invited["token"], "password": PASSWORD},
    )
    assert accepted.status_code == 200, accepted.text
    tutor = api_login(school, "rao@example.com")
    tutor_id = accepted.json()["id"]
    wait_for(
        lambda: (
            requests.put(
                f"{school.tutoring.url}/api/tutors/me",
                headers=tutor,
                json={
                    "bio": "Internal medicine; fifteen years of Step 1 and Step 2 CK teaching.",
                    "exams": ["step1", "step2ck"],
                    "time_zone": "America/New_York",
                    "session_rate_minor": 12000,
                    "currency": "USD",
                },
            ).status_code
            == 200
        ),
        message="tutoring to learn of the new tutor from user.registered",
    )
    weekly = [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(7)]
    r = requests.put(
        f"{school.tutoring.url}/api/tutors/me/availability",
        headers=tutor,
        json={"weekly": weekly, "overrides": []},
    )
    assert r.status_code == 200, r.text
    return {"id": tutor_id, **tutor}


def test_student_books_tutor_runs_the_consultation_and_the_plan_reaches_the_calendar(
    school, browser
):
    invited_tutor(school)
    requests.post(
        f"{school.identity.url}/api/users",
        json={"email": "priya@example.com", "password": PASSWORD, "name": "Priya Nair"},
    )

    student = browser.new_context(timezone_id="Asia/Kolkata").new_page()
    browser_sign_in(school, student, "priya@example.com")
    student.goto(f"{school.site}/tutoring")
    student.get_by_role("link", name="Dr Anita Rao").first.click()
    expect(student.locator(".zone-note")).to_contain_text(re.compile("Kolkata|Calcutta"))
    student.locator("a.slot").first.click()
    student.get_by_label("Exam", exact=True).select_option("step1")
    student.get_by_label("Exam date").fill((date.today() + timedelta(days=120)).isoformat())
    student.get_by_label("Attempts so far").fill("1")
    student.get_by_label("Study hours a week").fill("25")
    student.get_by_label("Renal").check()
    student.get_by_label("Pharmacology").check()
    student.get_by_role("button", name="Book consultation").click()
    expect(student.get_by_role("heading", name="Consultation booked")).to_be_visible()

    invite_mail = wait_for_mail(school.smtp, "priya@example.com", "consultation")
    [ics] = [p for p in invite_mail.iter_attachments() if p.get_filename() == "invite.ics"]
    calendar = Calendar.from_ical(ics.get_content())
    assert str(calendar["METHOD"]) == "REQUEST"
    [meeting] = calendar.walk("VEVENT")
    assert meeting["DTSTART"].params["TZID"] in ("Asia/Kolkata", "Asia/Calcutta")

    tutor_page = browser.new_context(timezone_id="America/New_York").new_page()
    browser_sign_in(school, tutor_page, "rao@example.com")
    tutor_page.goto(f"{school.site}/tutor")
    row = tutor_page.get_by_role("row", name=re.compile("Priya Nair"))
    expect(row).to_contain_text(re.compile("EST|EDT|New York|AM|PM|:"))
    row.get_by_role("link", name="Open").click()
    tutor_page.get_by_role("button", name="Mark completed").click()
    tutor_page.get_by_label("Strengths").fill("Strong physiology; good test stamina")
    tutor_page.get_by_label("Weaknesses").fill("Renal acid-base; pharmacology mechanisms")
    tutor_page.get_by_label("Goals").fill("Pass Step 1 on the second attempt with margin")
    tutor_page.get_by_role("button", name="Save assessment").click()
    tutor_page.get_by_role("button", name="Generate study plan").click()
    expect(tutor_page.get_by_role("heading", name="Study plan")).to_be_visible()
    tutor_page.get_by_text("Edit days").click()
    first_kind = tutor_page.locator("select[id^=kind-]").first
    first_kind.select_option("free")
    tutor_page.get_by_role("button", name="Save plan changes").click()
    expect(tutor_page.get_by_text(re.compile("version 2|v2", re.I)).first).to_be_visible()

    wait_for_mail(school.smtp, "priya@example.com", "study plan")
    student.goto(f"{school.site}/my/tutoring")
    expect(student.get_by_role("link", name="Subscribe in your calendar")).to_be_visible()
    feed_url = student.locator("a.break").first.inner_text()
    feed = Calendar.from_ical(requests.get(feed_url).content)
    events = feed.walk("VEVENT")
    assert any("consultation" in str(e["SUMMARY"]).lower() for e in events)
    assert any(e["DTSTART"].params.get("VALUE") == "DATE" for e in events)
