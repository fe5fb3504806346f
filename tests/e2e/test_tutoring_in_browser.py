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
from tests.e2e.accessibility import (
    PHONE_HEIGHT,
    assert_accessible,
    assert_no_horizontal_scroll,
    phone_width,
    tab_to,
)
from tests.e2e.mail import wait_for_mail
from tests.e2e.time_travel import start_meeting

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


def invited_tutor(school, weekdays: range = range(7)) -> dict[str, str]:
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
    weekly = [{"weekday": d, "start": "09:00", "end": "17:00"} for d in weekdays]
    r = requests.put(
        f"{school.tutoring.url}/api/tutors/me/availability",
        headers=tutor,
        json={"weekly": weekly, "overrides": []},
    )
    assert r.status_code == 200, r.text
    return {"id": tutor_id, **tutor}


def picks_a_time_in_the_week_picker(student: Page) -> None:
    """The tutor's times one week at a time: the first free week shown, previous/next and the
    days from the keyboard, a day without times disabled, one day's times; short on a phone."""
    picker = student.locator("form.slot-picker")
    week = picker.locator(".picker-range")
    previous = picker.get_by_role("button", name="Previous week")
    following = picker.get_by_role("button", name="Next week")
    days = picker.locator(".picker-day")
    first_week = week.inner_text()
    expect(previous).to_be_disabled()  # the first week with a free time is the one shown
    expect(days).to_have_count(7)
    expect(days.nth(6)).to_be_disabled()  # Sunday in Kolkata: the tutor works Monday to Friday
    chosen = picker.locator("[aria-pressed=true]")
    expect(chosen).to_have_count(1)
    weekday, day = (chosen.locator(c).inner_text() for c in (".picker-weekday", ".picker-date"))
    expect(student.locator(".picker-chosen")).to_contain_text(f"{weekday} {day}")
    tab_to(student, following)
    student.keyboard.press("Enter")
    expect(week).not_to_have_text(first_week)
    expect(previous).to_be_enabled()
    second_week = week.inner_text()
    tab_to(student, previous)
    student.keyboard.press("Enter")
    expect(week).to_have_text(first_week)
    tab_to(student, following)
    student.keyboard.press("Enter")
    expect(week).to_have_text(second_week)
    wednesday = days.nth(2)  # a whole week ahead: no time in it passes its notice mid-test
    tab_to(student, wednesday)
    student.keyboard.press("Enter")
    expect(wednesday).to_have_attribute("aria-pressed", "true")
    expect(student.locator(".picker-chosen")).to_contain_text("Wed")
    expect(days.nth(6)).to_be_disabled()
    assert_accessible(student, "tutor page, week picker on a full day")
    with phone_width(student):
        assert_accessible(student, "tutor page, week picker on a full day at 375 px")
        assert_no_horizontal_scroll(student, "tutor page, week picker on a full day")
        times = student.locator(".picker-times").bounding_box()
        end = times["y"] + times["height"] + student.evaluate("window.scrollY")
        assert end < 2 * PHONE_HEIGHT, f"the day's times end {end} px down the page at 375 px"
        assert times["height"] < PHONE_HEIGHT / 2, "a day's times take more than half a screen"

    times = student.locator(".picker-times a.slot")
    assert times.count() > 1
    times.nth(1).click()


def test_student_books_tutor_runs_the_consultation_and_the_plan_reaches_the_calendar(
    school, browser
):
    # Monday to Friday in New York: in Kolkata (9:30 or 10:30 hours ahead) never a Sunday.
    invited_tutor(school, weekdays=range(5))
    admin = browser.new_context().new_page()
    admin.goto(f"{school.site}/login")
    admin.get_by_label("Email address").fill(config.env("ADMIN_EMAIL", "admin@preceptor.localhost"))
    admin.get_by_label("Password").fill(config.admin_password())
    admin.get_by_role("button", name="Sign in").click()
    admin.goto(f"{school.site}/admin/tutors")
    expect(admin.get_by_role("row", name=re.compile("Dr Anita Rao"))).to_contain_text(
        re.compile(r"New York time \(E[SD]T\)")
    )
    requests.post(
        f"{school.identity.url}/api/users",
        json={"email": "priya@example.com", "password": PASSWORD, "name": "Priya Nair"},
    )

    student = browser.new_context(timezone_id="Asia/Kolkata").new_page()
    browser_sign_in(school, student, "priya@example.com")
    student.goto(f"{school.site}/tutoring")
    student.get_by_role("link", name="Dr Anita Rao").first.click()
    expect(student.locator(".zone-note")).to_contain_text(re.compile("Kolkata|Calcutta"))
    picks_a_time_in_the_week_picker(student)
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
    # Not before it has started: no Mark completed or No-show yet, and the page says when.
    expect(tutor_page.get_by_text(re.compile("once it has started"))).to_be_visible()
    expect(tutor_page.get_by_role("button", name="Mark completed")).to_have_count(0)
    expect(tutor_page.get_by_role("button", name="No-show")).to_have_count(0)
    consultation_id = tutor_page.url.rstrip("/").rsplit("/", 1)[-1]
    refused = requests.post(
        f"{school.tutoring.url}/api/consultations/{consultation_id}/complete",
        headers={"Authorization": api_login(school, "rao@example.com")["Authorization"]},
    )
    assert refused.status_code == 409 and "once it has started" in refused.json()["detail"]
    student.goto(f"{school.site}/my/tutoring")
    expect(student.locator("#upcoming-consultations")).to_contain_text("Dr Anita Rao")
    start_meeting(school.tutoring, consultation_id)  # the hour has come
    tutor_page.reload()
    tutor_page.get_by_role("button", name="Mark completed").click()
    expect(tutor_page.get_by_text("Marked as completed.")).to_be_visible()
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
    expect(student.locator("#past-consultations")).to_contain_text("Dr Anita Rao")
    expect(student.locator("#upcoming-consultations")).to_have_count(0)
    expect(student.get_by_role("link", name="Subscribe in your calendar")).to_be_visible()
    feed_url = student.locator("a.break").first.inner_text()
    feed = Calendar.from_ical(requests.get(feed_url).content)
    events = feed.walk("VEVENT")
    assert any("consultation" in str(e["SUMMARY"]).lower() for e in events)
    assert any(e["DTSTART"].params.get("VALUE") == "DATE" for e in events)


def completed_consultation(school, tutor: dict[str, str], email: str, name: str) -> None:
    """A student whose initial consultation with the tutor is done (journeys 1 and 2)."""
    requests.post(
        f"{school.identity.url}/api/users",
        json={"email": email, "password": PASSWORD, "name": name},
    )
    me = api_login(school, email)
    slots = requests.get(
        f"{school.tutoring.url}/api/tutors/{tutor['id']}/slots",
        params={"kind": "consultation", "tz": "Europe/London"},
    ).json()
    booked = requests.post(
        f"{school.tutoring.url}/api/consultations",
        headers=me,
        json={
            "tutor_id": tutor["id"],
            "starts_at": slots[1]["starts_at"],  # the first may pass its notice mid-test
            "time_zone": "Europe/London",
            "intake": {
                "exam": "step2ck",
                "exam_date": (date.today() + timedelta(days=90)).isoformat(),
                "attempts": 0,
                "weekly_hours": 20,
                "weak_areas": ["cardiovascular"],
            },
        },
    )
    assert booked.status_code == 201, booked.text
    headers = {"Authorization": tutor["Authorization"]}
    start_meeting(school.tutoring, booked.json()["id"])  # held only once it has begun
    done = requests.post(
        f"{school.tutoring.url}/api/consultations/{booked.json()['id']}/complete", headers=headers
    )
    assert done.status_code == 200, done.text


def test_student_buys_hours_by_card_and_books_a_session_from_them(school, browser):
    tutor = invited_tutor(school)
    completed_consultation(school, tutor, "sam@example.com", "Sam Okoye")

    page = browser.new_context(timezone_id="Europe/London").new_page()
    browser_sign_in(school, page, "sam@example.com")
    page.goto(f"{school.site}/tutoring/{tutor['id']}")
    page.get_by_role("radio", name=re.compile(r"5 hours")).check()
    page.get_by_role("button", name="Continue to payment").click()
    card = page.locator("#card-element")
    expect(card.locator("input")).to_have_count(5)
    for placeholder, value in (
        ("number", "4242424242424242"),
        ("exp_month", "12"),
        ("exp_year", "34"),
        ("cvc", "123"),
        ("postal_code", "SW1A1AA"),
    ):
        card.locator(f"input[placeholder={placeholder}]").fill(value)
    page.get_by_role("button", name=re.compile("^Pay")).click()
    expect(page.get_by_role("heading", name="Hours added")).to_be_visible(timeout=30000)
    wait_for_mail(school.smtp, "sam@example.com", "receipt")

    page.get_by_role("link", name="Book a session").click()
    page.locator("#sessions").get_by_role("button", name="Next week").click()  # past the notice
    page.locator("#sessions a.slot").nth(1).click()
    page.get_by_role("button", name="Book this session").click()
    expect(page.get_by_role("heading", name="Session booked")).to_be_visible()
    invite_mail = wait_for_mail(school.smtp, "sam@example.com", "session")
    [ics] = [p for p in invite_mail.iter_attachments() if p.get_filename() == "invite.ics"]
    assert str(Calendar.from_ical(ics.get_content())["METHOD"]) == "REQUEST"

    page.goto(f"{school.site}/my/tutoring")
    expect(page.get_by_text(re.compile(r"4 hours")).first).to_be_visible()
