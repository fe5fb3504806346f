"""CSRF on every form, escaping, and the ids that let one grep follow a request."""

from __future__ import annotations

import pytest

from services.web.tests.conftest import csrf_from, sign_in

FORMS = [
    ("/", "/subscribe", {"email": "r@example.org", "topics": "step1"}),
    ("/login", "/login", {"email": "s@example.org", "password": "pw"}),
    (
        "/register",
        "/register",
        {"name": "A", "email": "a@example.org", "password": "p", "confirm": "p"},
    ),
    ("/password-reset", "/password-reset", {"email": "a@example.org"}),
    ("/confirm/tok", "/confirm/tok", {}),
    ("/preferences/tok", "/preferences/tok", {"topics": "step1"}),
    ("/invitation/tok", "/invitation/tok", {"password": "p", "confirm": "p"}),
]


@pytest.mark.parametrize(("page", "action", "data"), FORMS)
def test_post_without_csrf_token_is_refused_and_nothing_reaches_a_service(
    client, identity_api, email_api, page, action, data
):
    client.get(page)  # a real session exists; only the token is missing
    before = len(identity_api.calls) + len(email_api.calls)

    response = client.post(action, data=data)

    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert len(identity_api.calls) + len(email_api.calls) == before
    assert all(c.method == "GET" for c in identity_api.calls + email_api.calls)


def test_post_with_another_sessions_csrf_token_is_refused(site, email_api):
    other = site.test_client()
    stolen = csrf_from(other, "/")
    victim = site.test_client()
    victim.get("/")

    response = victim.post(
        "/subscribe", data={"email": "r@example.org", "topics": "step1", "csrf_token": stolen}
    )

    assert response.status_code == 400
    assert email_api.calls_to("POST", "/api/subscriptions") == []


@pytest.mark.parametrize(
    "page", ["/", "/login", "/register", "/password-reset", "/confirm/t", "/preferences/t"]
)
def test_every_form_carries_a_csrf_token(client, page):
    html = client.get(page).get_data(as_text=True)

    assert html.count("<form") == html.count('name="csrf_token"')


def test_signing_in_starts_a_new_session_with_a_new_csrf_token(client, identity_api):
    before = csrf_from(client, "/login")

    sign_in(client)

    assert csrf_from(client, "/account") != before


def test_text_from_services_and_people_is_escaped(client, email_api):
    email_api.answer(
        "POST",
        "/api/subscriptions",
        422,
        {"detail": "bad", "errors": {"email": ["<script>alert(1)</script>"]}},
    )
    token = csrf_from(client, "/")

    html = client.post(
        "/subscribe",
        data={"email": '"><script>x</script>', "topics": "step1", "csrf_token": token},
    ).get_data(as_text=True)

    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_calls_to_services_carry_the_request_and_correlation_ids(client, email_api):
    client.get("/", headers={"X-Request-ID": "req-123", "X-Correlation-ID": "flow-456"})

    [call] = email_api.calls_to("GET", "/api/topics")
    assert call.headers["X-Request-Id"] == "req-123"
    assert call.headers["X-Correlation-Id"] == "flow-456"


def test_signed_in_pages_are_not_cached(client, identity_api):
    sign_in(client)

    assert client.get("/account").headers["Cache-Control"] == "no-store"
