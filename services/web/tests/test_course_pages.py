"""Catalogue, course page and enrolling: what the site shows from enrollment, and what it sends."""

from __future__ import annotations

from services.web.tests.conftest import csrf_from, sign_in

STEP1 = "/courses/usmle-step-1-prep"


def enroll(client, data: dict, path: str = f"{STEP1}/enroll"):
    token = csrf_from(client, STEP1)
    return client.post(path, data={**data, "csrf_token": token})


def test_catalogue_shows_each_course_with_price_next_start_and_seats_left(client, enrollment_api):
    html = client.get("/courses").get_data(as_text=True)

    assert "USMLE Step 1 Prep" in html and "USMLE Step 2 CK Prep" in html
    assert "$1,499.00" in html and "$1,299.00" in html
    assert "Mon 2 Mar 2026" in html  # Step 1's next start
    assert "3 of 25" in html  # seats left in it
    assert "Twelve weeks of systems-based review" in html
    assert 'href="/courses/usmle-step-1-prep"' in html


def test_course_page_lists_cycles_with_dates_seats_and_an_enroll_form_per_open_cycle(
    client, enrollment_api
):
    html = client.get(STEP1).get_data(as_text=True)

    assert "$1,499.00" in html
    assert "Full refund within 14 days" in html
    assert "120 days" in html
    assert "Mon 2 Mar 2026</strong> \u2013 Sun 24 May 2026" in html
    assert "3 of 25 seats left" in html
    assert html.count('name="cycle_start"') == 3  # three open cycles
    for start in ("2026-03-02", "2026-04-27", "2026-05-25"):
        assert f'<input type="hidden" name="cycle_start" value="{start}">' in html
    assert html.count('name="promo_code"') == 3
    assert "/courses/usmle-step-1-prep/cycles/2026-03-30/waitlist" in html
    assert "Join the waitlist" in html


def test_unknown_course_is_a_404_page(client, enrollment_api):
    response = client.get("/courses/no-such-course")

    assert response.status_code == 404
    assert "No such course." in response.get_data(as_text=True)


def test_enrolling_posts_the_cycle_and_promo_code_and_goes_to_checkout(client, enrollment_api):
    sign_in(client, "student@example.org")

    response = enroll(client, {"cycle_start": "2026-04-27", "promo_code": " spring25 "})

    assert response.status_code == 302
    assert response.headers["Location"] == "/checkout/enr-new"
    [call] = enrollment_api.calls_to("POST", "/api/enrollments")
    assert call.json == {
        "course_slug": "usmle-step-1-prep",
        "cycle_start": "2026-04-27",
        "promo_code": "SPRING25",
    }
    assert call.headers["Authorization"] == "Bearer access-1.student@example.org"


def test_enrolling_without_a_promo_code_sends_none(client, enrollment_api):
    sign_in(client)

    enroll(client, {"cycle_start": "2026-03-02", "promo_code": ""})

    [call] = enrollment_api.calls_to("POST", "/api/enrollments")
    assert call.json == {"course_slug": "usmle-step-1-prep", "cycle_start": "2026-03-02"}


def test_a_free_enrollment_goes_straight_to_the_enrolled_page(client, enrollment_api):
    sign_in(client)

    response = enroll(client, {"cycle_start": "2026-03-02", "promo_code": "FREE100"})

    assert response.headers["Location"] == "/checkout/enr-new/done"
    html = client.get("/checkout/enr-new/done").get_data(as_text=True)
    assert "<h1>You're enrolled</h1>" in html


def test_enrolling_while_signed_out_goes_to_sign_in_and_back_to_the_course(client, enrollment_api):
    response = enroll(client, {"cycle_start": "2026-03-02"})

    assert response.status_code == 302
    assert response.headers["Location"] == (
        "/login?next=%2Fcourses%2Fusmle-step-1-prep%3Fcycle%3D2026-03-02"
    )
    assert enrollment_api.calls_to("POST", "/api/enrollments") == []


def test_signing_in_to_enroll_comes_back_with_the_chosen_cycle_and_typed_code(
    client, identity_api, enrollment_api
):
    sent = enroll(client, {"cycle_start": "2026-04-27", "promo_code": " spring25 "})
    login_page = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert login_page.count("sign in to enroll") == 1  # one reason, not two messages
    assert "Sign in (or create a free account)" not in login_page

    token = csrf_from(client, sent.headers["Location"])
    back = client.post(
        sent.headers["Location"],
        data={"email": "student@example.org", "password": "correct-horse", "csrf_token": token},
    )
    assert back.headers["Location"] == f"{STEP1}?cycle=2026-04-27&code=SPRING25"

    html = client.get(back.headers["Location"]).get_data(as_text=True)
    assert (
        'id="promo-2026-04-27" name="promo_code" type="text" autocomplete="off" value="SPRING25"'
        in html
    )
    assert 'id="promo-2026-03-02" name="promo_code" type="text" autocomplete="off" value=""' in html


def test_a_course_link_carries_only_an_open_cycle_and_a_plain_code(client, enrollment_api):
    for query in (
        "cycle=2099-01-01&code=SPRING25",  # no such cycle: nothing preselected
        "cycle=2026-04-27&code=%3Cscript%3E",  # not a code: the cycle alone
        "cycle=../../admin&code=X",
    ):
        html = client.get(f"{STEP1}?{query}").get_data(as_text=True)
        assert 'value="SPRING25"' not in html and "<script>" not in html
        assert 'value="X"' not in html
    html = client.get(f"{STEP1}?cycle=2026-04-27&code=%3Cscript%3E").get_data(as_text=True)
    assert 'id="promo-2026-04-27" name="promo_code" type="text" autocomplete="off" value=""' in html


def test_a_full_cycle_shows_the_message_on_the_course_page(client, enrollment_api):
    sign_in(client)

    response = enroll(client, {"cycle_start": "2026-03-30"})

    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "That cycle is full." in html
    assert "3 of 25 seats left" in html  # the cycles are shown again to choose another


def test_a_bad_promo_code_is_shown_next_to_that_cycles_promo_field(client, enrollment_api):
    sign_in(client)

    response = enroll(client, {"cycle_start": "2026-04-27", "promo_code": "nope"})

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<p class="field-error" id="promo_code-error">Unknown promotion code.</p>' in html
    assert (
        'id="promo-2026-04-27" name="promo_code" type="text" autocomplete="off" value="nope"'
        in (html)
    )


def test_joining_the_waitlist_of_a_full_cycle_posts_and_shows_the_position(client, enrollment_api):
    sign_in(client)

    response = enroll(client, {}, path=f"{STEP1}/cycles/2026-03-30/waitlist")

    assert response.headers["Location"] == STEP1
    [call] = enrollment_api.calls_to(
        "POST", "/api/courses/usmle-step-1-prep/cycles/2026-03-30/waitlist"
    )
    assert call.headers["Authorization"] == "Bearer access-1.student@example.org"
    assert "You&#39;re number 3 in line." in client.get(STEP1).get_data(as_text=True)


def test_the_catalogue_is_a_503_page_while_enrollment_is_down(
    client, monkeypatch, nothing_listening
):
    monkeypatch.setenv("ENROLLMENT_URL", nothing_listening)

    response = client.get("/courses")

    assert response.status_code == 503
    assert "temporarily unavailable" in response.get_data(as_text=True)


def test_navigation_offers_courses_and_my_enrollments_to_a_student(client):
    sign_in(client, "student@example.org")

    html = client.get("/courses").get_data(as_text=True)

    assert 'href="/courses">Courses</a>' in html
    assert 'href="/my/enrollments">My enrollments</a>' in html
    assert 'href="/admin/courses"' not in html
