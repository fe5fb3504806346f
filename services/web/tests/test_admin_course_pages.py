"""Admin pages for courses, rosters, promo codes and the payments ledger."""

from __future__ import annotations

import pytest

from services.web.tests.conftest import csrf_from, sign_in

ADMIN_PAGES = [
    "/admin/courses",
    "/admin/courses/usmle-step-1-prep",
    "/admin/courses/usmle-step-1-prep/cycles/2026-03-02",
    "/admin/promo-codes",
    "/admin/payments",
]

COURSE_FORM = {
    "slug": "usmle-step-3-prep",
    "title": "USMLE Step 3 Prep",
    "description": "Four weeks before Step 3.",
    "price": "1,099.50",
    "currency": "usd",
    "cycle_length_days": "28",
    "cadence_days": "28",
    "anchor_date": "2026-02-02",
    "seats_per_cycle": "20",
    "access_days": "60",
    "refund_window_days": "7",
    "published": "on",
}


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_admin_pages_are_forbidden_to_a_student(client, enrollment_api, payments_api, path):
    sign_in(client, "student@example.org")

    response = client.get(path)

    assert response.status_code == 403
    assert enrollment_api.calls == [] and payments_api.calls == []


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_admin_pages_send_a_signed_out_visitor_to_sign_in(client, path):
    assert client.get(path).headers["Location"].startswith("/login?next=")


def test_admin_sees_every_course_and_the_admin_navigation(client, enrollment_api):
    sign_in(client, "admin@example.org")

    html = client.get("/admin/courses").get_data(as_text=True)

    assert "USMLE Step 1 Prep" in html and "$1,499.00" in html
    assert 'href="/admin/courses/usmle-step-1-prep"' in html
    for path in ("/admin/courses", "/admin/promo-codes", "/admin/payments", "/admin/users"):
        assert f'href="{path}"' in html


def test_creating_a_course_sends_every_field_with_the_price_in_minor_units(client, enrollment_api):
    sign_in(client, "admin@example.org")
    token = csrf_from(client, "/admin/courses")

    response = client.post("/admin/courses", data={**COURSE_FORM, "csrf_token": token})

    assert response.headers["Location"] == "/admin/courses"
    [call] = enrollment_api.calls_to("POST", "/api/admin/courses")
    assert call.json == {
        "slug": "usmle-step-3-prep",
        "title": "USMLE Step 3 Prep",
        "description": "Four weeks before Step 3.",
        "price_minor": 109950,
        "currency": "USD",
        "cycle_length_days": 28,
        "cadence_days": 28,
        "anchor_date": "2026-02-02",
        "seats_per_cycle": 20,
        "access_days": 60,
        "refund_window_days": 7,
        "published": True,
    }
    assert call.headers["Authorization"] == "Bearer access-1.admin@example.org"
    assert "created and published" in client.get("/admin/courses").get_data(as_text=True)


def test_a_course_created_unpublished_is_said_to_be_a_draft_with_how_to_publish(
    client, enrollment_api
):
    sign_in(client, "admin@example.org")
    token = csrf_from(client, "/admin/courses")
    draft = {k: v for k, v in COURSE_FORM.items() if k != "published"}

    client.post("/admin/courses", data={**draft, "csrf_token": token})

    [call] = enrollment_api.calls_to("POST", "/api/admin/courses")
    assert call.json["published"] is False
    html = client.get("/admin/courses").get_data(as_text=True)
    assert "USMLE Step 3 Prep created as a draft: students can&#39;t see it yet." in html
    assert "tick Published and save" in html


def test_a_price_with_too_many_decimals_never_reaches_the_service(client, enrollment_api):
    sign_in(client, "admin@example.org")
    token = csrf_from(client, "/admin/courses")

    response = client.post(
        "/admin/courses", data={**COURSE_FORM, "price": "10.999", "csrf_token": token}
    )

    assert response.status_code == 422
    assert "at most 2 decimals" in response.get_data(as_text=True)
    assert enrollment_api.calls_to("POST", "/api/admin/courses") == []


def test_a_service_refusal_of_the_price_is_shown_next_to_the_price_field(client, enrollment_api):
    enrollment_api.answer(
        "POST",
        "/api/admin/courses",
        422,
        {"detail": "Invalid", "errors": {"price_minor": ["The price is too high."]}},
    )
    sign_in(client, "admin@example.org")
    token = csrf_from(client, "/admin/courses")

    response = client.post("/admin/courses", data={**COURSE_FORM, "csrf_token": token})

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<p class="field-error" id="price-error">The price is too high.</p>' in html


def test_editing_a_course_shows_its_values_and_patches_the_changes(client, enrollment_api):
    sign_in(client, "admin@example.org")
    page = client.get("/admin/courses/usmle-step-1-prep").get_data(as_text=True)
    assert 'value="1499.00"' in page
    assert 'value="2026-01-05"' in page
    assert "/admin/courses/usmle-step-1-prep/cycles/2026-03-02" in page  # roster link
    token = csrf_from(client, "/admin/courses/usmle-step-1-prep")

    response = client.post(
        "/admin/courses/usmle-step-1-prep",
        data={**COURSE_FORM, "slug": "ignored", "price": "1599", "csrf_token": token},
    )

    assert response.headers["Location"] == "/admin/courses/usmle-step-1-prep"
    [call] = enrollment_api.calls_to("PATCH", "/api/admin/courses/usmle-step-1-prep")
    assert call.json["price_minor"] == 159900
    assert "slug" not in call.json
    assert call.json["published"] is True


def test_editing_an_unknown_course_is_404(client, enrollment_api):
    sign_in(client, "admin@example.org")

    assert client.get("/admin/courses/no-such-course").status_code == 404


def test_roster_lists_the_students_of_a_cycle(client, enrollment_api):
    sign_in(client, "admin@example.org")

    html = client.get("/admin/courses/usmle-step-1-prep/cycles/2026-03-02").get_data(as_text=True)

    assert "Rita Roster" in html and "rita@example.org" in html
    assert "23 of 25 seats left" in html
    assert "Roster: USMLE Step 1 Prep" in html  # the course's title, not its slug
    assert enrollment_api.calls_to(
        "GET", "/api/admin/courses/usmle-step-1-prep/cycles/2026-03-02/roster"
    )


def test_promo_codes_are_listed_and_a_percent_code_is_created(client, enrollment_api):
    sign_in(client, "admin@example.org")
    assert "SPRING25" in client.get("/admin/promo-codes").get_data(as_text=True)
    token = csrf_from(client, "/admin/promo-codes")

    response = client.post(
        "/admin/promo-codes",
        data={
            "code": "welcome10",
            "kind": "percent",
            "value": "10",
            "currency": "USD",
            "course_slug": "usmle-step-1-prep",
            "max_redemptions": "50",
            "per_student_limit": "1",
            "expires_at": "2026-12-31T23:59",
            "csrf_token": token,
        },
    )

    assert response.headers["Location"] == "/admin/promo-codes"
    [call] = enrollment_api.calls_to("POST", "/api/admin/promo-codes")
    assert call.json == {
        "code": "WELCOME10",
        "kind": "percent",
        "value": 10,
        "course_slug": "usmle-step-1-prep",
        "max_redemptions": 50,
        "per_student_limit": 1,
        "expires_at": "2026-12-31T23:59:00+00:00",
    }


def test_an_amount_code_sends_minor_units_and_its_currency(client, enrollment_api):
    sign_in(client, "admin@example.org")
    token = csrf_from(client, "/admin/promo-codes")

    client.post(
        "/admin/promo-codes",
        data={
            "code": "LESS50",
            "kind": "amount",
            "value": "50",
            "currency": "usd",
            "per_student_limit": "",
            "csrf_token": token,
        },
    )

    [call] = enrollment_api.calls_to("POST", "/api/admin/promo-codes")
    assert call.json == {
        "code": "LESS50",
        "kind": "amount",
        "value": 5000,
        "currency": "USD",
        "per_student_limit": 1,
    }


def test_payments_ledger_shows_payments_refunds_and_disputes(client, payments_api):
    sign_in(client, "admin@example.org")

    html = client.get("/admin/payments").get_data(as_text=True)

    assert "Paula Payer" in html and "$1,499.00 USD" in html and "$500.00 USD" in html
    assert "pay-9" in html  # the disputed payment
    assert "fraudulent" in html and "$1,299.00" in html
    # who paid and for what, not the purchase's reference; a refund names its payment
    assert "payer@example.org" in html and "enr-1" not in html
    refunds = html.split('<h2 class="h3">Refunds</h2>')[1].split("Disputes")[0]
    assert "USMLE Step 1 Prep" in refunds and "Paula Payer, payer@example.org" in refunds
    assert "$500.00 USD" in refunds  # the code, not "$" alone: which dollars
    # a signed Stripe event that did not match its payment waits for a person
    assert "evt_flagged_1" in html and "Stripe says 100 usd" in html
    [call] = payments_api.calls_to("GET", "/api/admin/ledger")
    assert call.headers["Authorization"] == "Bearer access-1.admin@example.org"


def test_admin_navigation_link_is_only_for_admins(client):
    sign_in(client, "admin@example.org")

    assert 'href="/admin/courses">Admin</a>' in client.get("/courses").get_data(as_text=True)


def test_money_with_code_names_the_currency_once():
    from services.web.pages.formatting import format_money_with_code

    assert format_money_with_code(60000, "usd") == "$600.00 USD"
    assert format_money_with_code(60000, "CHF") == "600.00 CHF"  # no symbol: the code once
    assert format_money_with_code(None, "USD") == ""
