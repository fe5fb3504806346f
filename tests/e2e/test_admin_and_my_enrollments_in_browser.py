"""The admin's and the student's own pages against the real services (not contract stand-ins).

An admin creates a promotion code and reads courses, a roster and the ledger; a student uses
the code, is enrolled without paying, and defers to a later cycle from "My enrollments".
"""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import Page, expect

from shared import config
from tests.e2e.mail import wait_for_mail

pytestmark = pytest.mark.browser


def sign_in(school, page: Page, email: str, password: str) -> None:
    page.goto(f"{school.site}/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(email).first).to_be_visible()


def test_admin_creates_a_code_a_student_uses_it_and_defers_then_admin_sees_the_roster(
    school, browser
):
    admin = browser.new_context().new_page()
    sign_in(
        school,
        admin,
        config.env("ADMIN_EMAIL", "admin@preceptor.localhost"),
        config.admin_password(),
    )
    admin.goto(f"{school.site}/admin/courses")
    expect(admin.get_by_role("cell", name=re.compile("USMLE Step 1 Prep")).first).to_be_visible()

    admin.goto(f"{school.site}/admin/promo-codes")
    admin.get_by_label("Code", exact=True).fill("SCHOLARSHIP")
    admin.get_by_label("Kind").select_option("percent")
    admin.get_by_label("Discount").fill("100")
    admin.get_by_label("Course", exact=False).select_option("usmle-step-1-prep")
    admin.get_by_label("Total uses").fill("1")
    admin.get_by_label("Uses per student").fill("1")
    admin.get_by_role("button", name="Create promo code").click()
    expect(admin.get_by_text("SCHOLARSHIP").first).to_be_visible()

    requests.post(
        f"{school.identity.url}/api/users",
        json={"email": "mei@example.com", "password": "a student password", "name": "Mei Chen"},
    )
    student = browser.new_context().new_page()
    sign_in(school, student, "mei@example.com", "a student password")
    student.goto(f"{school.site}/courses/usmle-step-1-prep")
    first = student.locator("form").filter(has=student.get_by_role("button", name="Enroll")).first
    first.get_by_label(re.compile("Promo code")).fill("scholarship")
    first.get_by_role("button", name="Enroll").click()
    expect(student.get_by_role("heading", name="You're enrolled")).to_be_visible()
    wait_for_mail(school.smtp, "mei@example.com", "welcome to usmle step 1 prep")

    student.goto(f"{school.site}/my/enrollments")
    student.get_by_role("button", name="Defer").click()
    expect(student.get_by_text(re.compile("deferr|moved", re.I)).first).to_be_visible()
    wait_for_mail(school.smtp, "mei@example.com", "seat moved to a new cycle")
    enrollments = requests.get(
        f"{school.enrollment.url}/api/enrollments",
        headers={
            "Authorization": "Bearer "
            + requests.post(
                f"{school.identity.url}/api/auth/login",
                json={"email": "mei@example.com", "password": "a student password"},
            ).json()["access_token"]
        },
    ).json()
    [mine] = enrollments if isinstance(enrollments, list) else enrollments["items"]
    assert mine["status"] == "active" and mine["deferrals_used"] == 1

    admin.goto(f"{school.site}/admin/courses/usmle-step-1-prep/cycles/{mine['cycle_start']}")
    expect(admin.get_by_text("mei@example.com")).to_be_visible()
    admin.goto(f"{school.site}/admin/payments")
    expect(admin.get_by_role("heading", name=re.compile("Payments|Ledger")).first).to_be_visible()
