"""Checkout: the Stripe card form's page, its CSP, the status endpoint and the enrolled page."""

from __future__ import annotations

import pytest

from services.web.tests.conftest import csrf_from, sign_in

STRIPE_BASE = "http://127.0.0.1:48420"


@pytest.fixture
def stripe_at(monkeypatch):
    monkeypatch.setenv("STRIPE_API_BASE", STRIPE_BASE)
    monkeypatch.delenv("STRIPE_JS_URL", raising=False)
    return STRIPE_BASE


def directives(csp: str) -> dict[str, list[str]]:
    parsed = {}
    for part in csp.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def test_checkout_page_carries_the_key_the_client_secret_and_the_stripe_js_url(
    client, enrollment_api, stripe_at
):
    sign_in(client)

    response = client.get("/checkout/enr-pending")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-publishable-key="pk_test_contract"' in html
    assert 'data-client-secret="pi_contract1_secret_abc"' in html
    assert 'data-done-url="/checkout/enr-pending/done"' in html
    assert f'<script src="{stripe_at}/js.stripe.com/v3/"></script>' in html
    assert '<script src="/static/checkout.js" defer></script>' in html
    assert '<div id="card-element"' in html
    assert "$1,499.00" in html
    assert "Fri 20 Feb 2026, 14:30 UTC" in html  # the hold's expiry
    assert html.count("<script") == 3  # no inline script (Stripe, checkout.js, timezone.js)


def test_checkout_csp_allows_the_stripe_js_origin_and_still_forbids_others(
    client, enrollment_api, stripe_at
):
    sign_in(client)

    policy = directives(client.get("/checkout/enr-pending").headers["Content-Security-Policy"])

    for name in ("script-src", "frame-src", "connect-src"):
        assert policy[name] == ["'self'", stripe_at], name
    assert policy["style-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in str(policy) and "'unsafe-eval'" not in str(policy)


def test_checkout_csp_follows_a_production_stripe_js_url(client, enrollment_api, monkeypatch):
    monkeypatch.setenv("STRIPE_API_BASE", "https://api.stripe.com")
    monkeypatch.setenv("STRIPE_JS_URL", "https://js.stripe.com/v3/")
    sign_in(client)

    response = client.get("/checkout/enr-pending")

    policy = directives(response.headers["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'", "https://js.stripe.com"]
    assert policy["frame-src"] == ["'self'", "https://js.stripe.com"]
    assert policy["connect-src"] == ["'self'", "https://js.stripe.com", "https://api.stripe.com"]
    assert '<script src="https://js.stripe.com/v3/"></script>' in response.get_data(as_text=True)


def test_other_pages_keep_the_strict_same_origin_policy(client, enrollment_api, stripe_at):
    sign_in(client)

    for path in ("/courses", "/my/enrollments", "/checkout/enr-pending/done"):
        csp = client.get(path).headers["Content-Security-Policy"]
        assert stripe_at not in csp, path
        assert "script-src 'self';" in csp


def test_checkout_of_an_active_enrollment_goes_to_the_enrolled_page(client, enrollment_api):
    sign_in(client)

    response = client.get("/checkout/enr-active")

    assert response.headers["Location"] == "/checkout/enr-active/done"


def test_checkout_of_an_expired_hold_offers_to_start_again_without_stripe(client, enrollment_api):
    enrollment_api.add_enrollment("enr-late", "student@example.org", "expired")
    sign_in(client)

    html = client.get("/checkout/enr-late").get_data(as_text=True)

    assert "can't be paid any more: hold expired" in html
    assert "<script" not in html


def test_checkout_requires_sign_in(client, enrollment_api):
    response = client.get("/checkout/enr-pending")

    assert response.headers["Location"] == "/login?next=%2Fcheckout%2Fenr-pending"


def test_checkout_of_another_students_enrollment_is_403(client, enrollment_api):
    sign_in(client, "student@example.org")

    assert client.get("/checkout/enr-other").status_code == 403
    assert client.get("/checkout/enr-other/done").status_code == 403


def test_done_page_says_confirming_and_polls_while_the_payment_is_pending(client, enrollment_api):
    sign_in(client)

    html = client.get("/checkout/enr-pending/done").get_data(as_text=True)

    assert "Confirming your payment…" in html
    assert 'data-status-url="/checkout/enr-pending/status"' in html
    assert '<script src="/static/checkout.js" defer></script>' in html


def test_done_page_says_enrolled_with_dates_once_active(client, enrollment_api):
    sign_in(client)

    html = client.get("/checkout/enr-active/done").get_data(as_text=True)

    assert "<h1>You're enrolled</h1>" in html
    assert "Mon 2 Mar 2026 \u2013 Sun 24 May 2026" in html
    assert "Tue 30 Jun 2026" in html  # access end
    assert "<script" not in html  # nothing to poll


def test_status_endpoint_answers_the_enrollments_status_as_json(client, enrollment_api):
    sign_in(client)

    response = client.get("/checkout/enr-pending/status")

    assert response.status_code == 200
    assert response.json == {"id": "enr-pending", "status": "pending_payment"}
    [call] = enrollment_api.calls_to("GET", "/api/enrollments/enr-pending")
    assert call.headers["Authorization"] == "Bearer access-1.student@example.org"

    enrollment_api.enrollments["enr-pending"]["status"] = "active"
    assert client.get("/checkout/enr-pending/status").json["status"] == "active"


def test_status_endpoint_refuses_another_students_enrollment(client, enrollment_api):
    sign_in(client, "student@example.org")

    response = client.get("/checkout/enr-other/status")

    assert response.status_code == 403
    assert response.json == {"error": "This enrollment belongs to someone else."}


def test_status_endpoint_answers_401_json_when_signed_out(client, enrollment_api):
    response = client.get("/checkout/enr-pending/status")

    assert response.status_code == 401
    assert response.is_json
    assert enrollment_api.calls == []


def test_checkout_script_is_served_from_our_origin(client):
    response = client.get("/static/checkout.js")

    assert response.status_code == 200
    assert "javascript" in response.mimetype


def test_the_card_step_charges_the_token_into_this_enrollments_payment(
    client, enrollment_api, payments_api
):
    sign_in(client)
    csrf = csrf_from(client, "/checkout/enr-pending")

    response = client.post(
        "/checkout/enr-pending/card", json={"token": "tok_visa"}, headers={"X-CSRF-Token": csrf}
    )

    assert response.status_code == 200
    assert response.get_json() == {
        "status": "succeeded",
        "client_secret": "pi_contract1_secret_abc",
    }
    [call] = payments_api.calls_to("POST", "/api/payments/pay-enr-pending/card")
    assert call.json == {"token": "tok_visa"}


def test_a_declined_card_comes_back_as_the_message_to_show(client, enrollment_api, payments_api):
    sign_in(client)
    csrf = csrf_from(client, "/checkout/enr-pending")

    response = client.post(
        "/checkout/enr-pending/card",
        json={"token": "tok_chargeDeclined"},
        headers={"X-CSRF-Token": csrf},
    )

    assert response.status_code == 402
    assert response.get_json() == {"detail": "Your card was declined."}


def test_the_card_step_needs_the_csrf_token(client, enrollment_api, payments_api):
    sign_in(client)

    response = client.post("/checkout/enr-pending/card", json={"token": "tok_visa"})

    assert response.status_code == 400
    assert payments_api.calls_to("POST", "/api/payments/pay-enr-pending/card") == []
