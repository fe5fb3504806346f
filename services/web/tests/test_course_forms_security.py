"""CSRF on every form of the course, checkout and admin pages."""

from __future__ import annotations

import pytest

from services.web.tests.conftest import sign_in

NEW_FORMS = [
    ("/courses/usmle-step-1-prep/enroll", {"cycle_start": "2026-03-02"}),
    ("/courses/usmle-step-1-prep/cycles/2026-03-30/waitlist", {}),
    ("/my/enrollments/enr-active/defer", {"cycle_start": "2026-04-27"}),
    ("/my/enrollments/enr-active/refund", {}),
    ("/admin/courses", {"slug": "x", "title": "X", "price": "1"}),
    ("/admin/courses/usmle-step-1-prep", {"title": "X", "price": "1"}),
    ("/admin/promo-codes", {"code": "ABC", "kind": "percent", "value": "5"}),
]


@pytest.mark.parametrize(("action", "data"), NEW_FORMS)
def test_post_without_csrf_token_is_refused_and_nothing_reaches_a_service(
    client, enrollment_api, payments_api, action, data
):
    sign_in(client, "admin@example.org")  # admins may use every form
    enrollment_api.reset()

    response = client.post(action, data=data)

    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert enrollment_api.calls == []


@pytest.mark.parametrize(
    "page",
    [
        "/courses/usmle-step-1-prep",
        "/my/enrollments",
        "/admin/courses",
        "/admin/courses/usmle-step-1-prep",
        "/admin/promo-codes",
    ],
)
def test_every_form_on_the_new_pages_carries_a_csrf_token(client, enrollment_api, page):
    sign_in(client, "admin@example.org")
    enrollment_api.add_enrollment("enr-admin", "admin@example.org", "active")

    html = client.get(page).get_data(as_text=True)

    assert html.count("<form") == html.count('name="csrf_token"')
    assert html.count("<form") >= 2  # the page's own form(s) and sign-out


def test_the_card_form_never_posts_to_our_server(client, enrollment_api):
    sign_in(client)

    html = client.get("/checkout/enr-pending").get_data(as_text=True)

    start = html.index('<form id="payment-form"')
    tag = html[start : html.index(">", start)]
    assert "method=" not in tag and "action=" not in tag
