"""Marketing journey 2 in headless Chromium: a student leaves a testimonial.

A student finishes a course; testimonials learns it from enrollment's event and asks them, by
email, for their story; they follow the signed link (no sign-in), tell it with a rating and
consent; marketing approves and features it; it heads the public wall and the embeddable widget
with a "Verified student" badge, and the author is thanked. A story sent without consent stays
private feedback: marketing cannot approve it and no public page ever shows it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from playwright.sync_api import Page, expect

from services.enrollment.use_cases import jobs as enrollment_jobs
from shared.db import utcnow
from shared.testing.fixtures import wait_for
from tests.e2e.mail import link, wait_for_mail
from tests.e2e.people import (
    admin_credentials,
    api_login,
    invite_staff,
    register_student,
    sign_in,
)

pytestmark = pytest.mark.browser

COURSE = "usmle-step-1-prep"
STORY = (
    "I failed Step 1 once. The cycle's weekly assessments showed me that renal and pharmacology "
    "were the problem, and the plan left me free days so I did not burn out. I passed with 238."
)


def enrolled_free(school, student: dict[str, str], code: str) -> dict:
    """A scholarship: the admin's 100% code makes the enrollment active without a payment."""
    r = requests.post(
        f"{school.enrollment.url}/api/enrollments",
        headers=student,
        json={"course_slug": COURSE, "promo_code": code},
    )
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "active"
    return r.json()


def scholarship(school, code: str) -> None:
    r = requests.post(
        f"{school.enrollment.url}/api/admin/promo-codes",
        headers=api_login(school, *admin_credentials()),
        json={"code": code, "kind": "percent", "value": 100, "course_slug": COURSE},
    )
    assert r.status_code == 201, r.text


def tell_story(page: Page, *, name: str, story: str, rating: int, consent: bool) -> None:
    page.get_by_label("Your name as shown").fill(name)
    page.get_by_label("Your story", exact=True).fill(story)
    page.get_by_label(f"{rating} star", exact=False).first.check()
    if consent:
        page.locator("input[name=consent]").check()
    page.get_by_role("button", name="Send my story").click()
    expect(page.get_by_role("heading", name="Thank you for your story")).to_be_visible()


def test_a_student_who_finished_a_course_shares_a_story_marketing_features_on_the_wall(
    school, browser
):
    invite_staff(school, "mira@example.com", "Mira Okafor", "marketing")
    scholarship(school, "FULLRIDE")
    maya = register_student(school, "maya@example.com", "Maya Reyes")
    enrolled_free(school, maya, "FULLRIDE")

    # The access period ends (enrollment's daily job, run with the clock a year on).
    wait_for(
        lambda: enrollment_jobs.complete_finished(
            school.enrollment.runtime.uow, now=utcnow() + timedelta(days=400)
        ),
        message="enrollment to complete the access period",
    )
    request_mail = wait_for_mail(school.smtp, "maya@example.com", "tell us in a few lines")
    story_link = link(request_mail, "/testimonials/new/")

    author = browser.new_context().new_page()
    author.goto(story_link)
    expect(author.get_by_label("Your story is about")).to_have_value(f"course:{COURSE}")
    tell_story(author, name="Maya R.", story=STORY, rating=4, consent=True)

    # Someone else's story arrives without consent to publish it: private feedback only.
    register_student(school, "omar@example.com", "Omar Haddad")
    omar = browser.new_context().new_page()
    sign_in(school, omar, "omar@example.com")
    omar.goto(f"{school.site}/testimonials/new")
    omar.get_by_label("Your story is about").select_option("tutoring")
    tell_story(
        omar,
        name="Omar H.",
        story="Please pass on to the team: the booking page was confusing on my phone.",
        rating=2,
        consent=False,
    )

    marketer = browser.new_context().new_page()
    sign_in(school, marketer, "mira@example.com")
    marketer.goto(f"{school.site}/marketing/testimonials")
    mayas = marketer.locator("li.testimonial-card", has_text="Maya R.")
    expect(mayas).to_contain_text("Verified student")
    omars = marketer.locator("li.testimonial-card", has_text="Omar H.")
    expect(omars).to_contain_text("private feedback")
    expect(omars.get_by_role("button", name="Approve")).to_have_count(0)
    mayas.get_by_role("button", name="Approve").click()
    marketer.goto(f"{school.site}/marketing/testimonials?status=approved")
    marketer.locator("li.testimonial-card", has_text="Maya R.").get_by_role(
        "button", name="Feature"
    ).click()
    expect(
        marketer.locator("li.testimonial-card", has_text="Maya R.").get_by_text("Featured")
    ).to_be_visible()

    thanks = wait_for_mail(school.smtp, "maya@example.com", "your story is on our wall")
    assert "/testimonials" in link(thanks, "/testimonials")

    visitor = browser.new_context().new_page()
    visitor.goto(f"{school.site}/testimonials")
    first = visitor.locator("ul.testimonial-wall > li").first
    expect(first).to_contain_text("Maya R.")
    expect(first).to_contain_text("Verified student")
    expect(first).to_have_class("testimonial testimonial-featured")
    expect(visitor.get_by_text("Omar H.")).to_have_count(0)

    visitor.goto(f"{school.site}/testimonials/widget")
    expect(visitor.locator("li.pw-item")).to_have_count(1)
    expect(visitor.locator("li.pw-item").first).to_contain_text("Maya R.")
    public = requests.get(f"{school.testimonials.url}/api/testimonials").json()
    assert [t["display_name"] for t in public] == ["Maya R."]
    assert public[0]["verified"] and public[0]["featured"]
