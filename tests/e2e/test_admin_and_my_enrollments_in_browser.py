"""The admin's and the student's own pages against the real services (not contract stand-ins).

An admin creates promotion codes and reads courses, a roster and the ledger; a student uses
one code, is enrolled without paying, and defers to a later cycle from "My enrollments"; with
another code the checkout names the list price, the code and the discount, she pays by card,
asks (and confirms) for her money back, and the admin's ledger names who paid, for what, and
the refund of that payment.
"""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import Page, expect

from shared import config
from tests.e2e.mail import wait_for_mail
from tests.e2e.test_enrollment_in_browser import fill_card

pytestmark = pytest.mark.browser


def sign_in(school, page: Page, email: str, password: str) -> None:
    page.goto(f"{school.site}/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(email).first).to_be_visible()


def test_admin_creates_codes_a_student_uses_them_defers_pays_and_is_refunded_admin_sees_it_all(
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
    admin.get_by_label("Code", exact=True).fill("BOARDS25")
    admin.get_by_label("Kind").select_option("percent")
    admin.get_by_label("Discount").fill("25")
    admin.get_by_label("Course", exact=False).select_option("usmle-step-2-ck-prep")
    admin.get_by_label("Total uses").fill("5")
    admin.get_by_label("Uses per student").fill("1")
    admin.get_by_role("button", name="Create promo code").click()
    expect(admin.get_by_text("BOARDS25").first).to_be_visible()

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
    # The roster's seat count comes from enrollment's real answer (the stand-in once hid that
    # the page asked for a field the API never sends).
    expect(admin.get_by_text(re.compile(r"^\d+ of \d+ seats left\.$"))).to_be_visible()

    # The one deferral is used and nothing was paid: no Defer, no refund is offered.
    student.goto(f"{school.site}/my/enrollments")
    step_1 = student.locator("article").filter(has_text="USMLE Step 1 Prep")
    expect(step_1.get_by_text("Active")).to_be_visible()
    expect(step_1.get_by_role("button", name="Defer")).to_have_count(0)
    expect(step_1.get_by_role("link", name="Request a refund")).to_have_count(0)

    # A paid checkout with a code says what the code took off.
    student.goto(f"{school.site}/courses/usmle-step-2-ck-prep")
    first = student.locator("form").filter(has=student.get_by_role("button", name="Enroll")).first
    first.get_by_label(re.compile("Promo code")).fill("boards25")
    first.get_by_role("button", name="Enroll").click()
    details = student.locator(".checkout .details")
    expect(details).to_contain_text("List price")
    expect(details).to_contain_text("$1,299.00")
    expect(details).to_contain_text("Promotion code BOARDS25")
    expect(details).to_contain_text("\u2212$324.75")  # a minus sign
    expect(details).to_contain_text("$974.25")
    fill_card(student, "4242424242424242")
    student.get_by_role("button", name=re.compile(r"^Pay \$974\.25")).click()
    expect(student.get_by_role("heading", name="You're enrolled")).to_be_visible(timeout=30000)

    # A refund is asked for on a page of its own, then shown once with its amount.
    student.goto(f"{school.site}/my/enrollments")
    step_2 = student.locator("article").filter(has_text="USMLE Step 2 CK Prep")
    step_2.get_by_role("link", name="Request a refund").click()
    expect(student.get_by_role("heading", name=re.compile("Request a refund"))).to_be_visible()
    student.get_by_role("button", name="Yes, refund $974.25").click()
    step_2 = student.locator("article").filter(has_text="USMLE Step 2 CK Prep")
    expect(step_2.get_by_text("Refund under way")).to_be_visible()
    expect(step_2.get_by_role("link", name="Request a refund")).to_have_count(0)
    expect(step_2.get_by_role("button", name="Defer")).to_have_count(0)
    wait_for_mail(school.smtp, "mei@example.com", "refund")
    student.reload()
    step_2 = student.locator("article").filter(has_text="USMLE Step 2 CK Prep")
    expect(step_2.locator(".details")).to_contain_text(re.compile(r"Refunded\s*\$974\.25 on"))
    expect(step_2.get_by_text("Refund requested")).to_have_count(0)

    # The ledger names who paid, for what, and which payment the refund gave back.
    admin.goto(f"{school.site}/admin/payments")
    expect(admin.get_by_role("heading", name="Payments").first).to_be_visible()
    paid = admin.locator("tr").filter(has_text="USMLE Step 2 CK Prep").first
    expect(paid).to_contain_text("Mei Chen")
    expect(paid).to_contain_text("mei@example.com")
    expect(paid).to_contain_text("$974.25")
    expect(paid).not_to_contain_text("enrollment:")
    refunds = admin.locator(".page-card").filter(has=admin.get_by_role("heading", name="Refunds"))
    refund = refunds.locator("tbody tr").first
    expect(refund).to_contain_text("USMLE Step 2 CK Prep")
    expect(refund).to_contain_text("Mei Chen, mei@example.com")
    expect(refund).to_contain_text("$974.25")
