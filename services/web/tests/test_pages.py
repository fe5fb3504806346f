"""Every page renders inside the site's layout, with its stylesheet and protective headers."""

from __future__ import annotations

import pytest

from services.web.tests.conftest import csrf_from, sign_in

PUBLIC_PAGES = [
    "/",
    "/login",
    "/register",
    "/password-reset",
    "/password-reset/some-token",
    "/invitation/some-token",
    "/confirm/some-token",
    "/unsubscribe/some-token",
    "/preferences/some-token",
    "/subscribe/check-your-inbox",
]


def assert_in_layout(html: str) -> None:
    assert '<header class="site-header">' in html
    assert 'href="/static/site.css"' in html
    assert '<footer class="site-footer">' in html


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_page_renders_in_the_layout(client, path):
    response = client.get(path)

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert_in_layout(response.get_data(as_text=True))


def test_account_page_renders_for_a_signed_in_student(client):
    sign_in(client, "student@example.org")

    response = client.get("/account")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert_in_layout(html)
    assert "student@example.org" in html
    assert ">student</span>" in html


def test_admin_users_page_lists_users_for_an_admin(client):
    sign_in(client, "admin@example.org")

    response = client.get("/admin/users")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert_in_layout(html)
    assert "Tom Tutor" in html and "invited" in html


def test_stylesheet_is_served(client):
    response = client.get("/static/site.css")

    assert response.status_code == 200
    assert response.mimetype == "text/css"
    assert b"--teal-600" in response.data


def test_home_page_offers_the_email_topics_and_the_courses(client):
    html = client.get("/").get_data(as_text=True)

    assert "USMLE Step 1" in html and "Step 2 CK" in html
    assert "initial consultation" in html
    for slug in ("step1", "step2ck", "tutoring"):
        assert f'value="{slug}"' in html


@pytest.mark.parametrize("path", ["/", "/login", "/static/site.css", "/nowhere", "/healthz"])
def test_security_headers_are_on_every_response(client, path):
    response = client.get(path)

    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_pages_load_nothing_from_other_sites(client):
    html = client.get("/").get_data(as_text=True)

    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in html
    assert "<script" not in html


def test_unknown_page_is_a_friendly_404_in_the_layout(client):
    response = client.get("/no-such-page")

    assert response.status_code == 404
    assert "We couldn&#39;t find that page" in response.get_data(as_text=True)
    assert_in_layout(response.get_data(as_text=True))


def test_service_that_is_down_gives_the_unavailable_page_not_a_500(
    client, monkeypatch, nothing_listening
):
    monkeypatch.setenv("EMAIL_URL", nothing_listening)

    response = client.get("/unsubscribe/some-token")

    assert response.status_code == 503
    assert "temporarily unavailable" in response.get_data(as_text=True)
    assert response.headers["Retry-After"]
    assert_in_layout(response.get_data(as_text=True))


def test_home_page_still_works_while_the_email_service_is_down(
    client, monkeypatch, nothing_listening
):
    monkeypatch.setenv("EMAIL_URL", nothing_listening)

    response = client.get("/")

    assert response.status_code == 200
    assert "Email sign-up is temporarily unavailable" in response.get_data(as_text=True)


def test_service_answering_500_gives_the_unavailable_page(client, identity_api):
    identity_api.answer("POST", "/api/auth/login", 500, None)
    token = csrf_from(client, "/login")
    response = client.post(
        "/login", data={"email": "a@example.org", "password": "pw", "csrf_token": token}
    )

    assert response.status_code == 503


def test_health_and_spec_endpoints_come_from_the_shared_factory(client):
    assert client.get("/healthz").json == {"status": "ok", "service": "web"}
    assert client.get("/readyz").status_code == 200
    assert client.get("/openapi.json").json["info"]["title"] == "Preceptor site"
