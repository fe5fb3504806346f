"""Where sign-in sends people: only ever a path on this site (issue 11, point 2).

Each hostile target goes through the real login flow, as the link a phisher would mail, both in
the query string of the form's page and in the form's hidden field, and the Location the site
answers with must be the home page, never anything a browser could take to another host.
"""

from __future__ import annotations

import pytest

from services.web import security
from services.web.tests.conftest import csrf_from

HOSTILE = [
    "/%09/evil.example/",  # the reported one: a browser drops the tab and sees //evil.example
    "/\t/evil.example/",
    "/\n/evil.example/",
    "/\r\n/evil.example/",
    "/%0a/evil.example/",
    "/%0d%0a/evil.example/",
    "/%0d%0aSet-Cookie:%20x=1",
    "/\r\nLocation: https://evil.example/",
    "//evil.example",
    "//evil.example/path",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "/%5Cevil.example",
    "/%5C%5Cevil.example",
    "/%2F/evil.example",
    "/%2f%2fevil.example",
    "%2F%2Fevil.example",
    "/%252F/evil.example",  # double-encoded
    "/%25252F/evil.example",  # triple
    "https://evil.example/",
    "https:evil.example",
    "https:/evil.example",
    "http:\\\\evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(document.domain)",
    "data:text/html,<script>alert(1)</script>",
    " /account",
    "/ /evil.example",
    "\x00/account",
    "/account\x00",
    "/\x0b/evil.example",
    "/\x0c/evil.example",
    "/\u00a0/evil.example",  # no-break space
    "/\u2028/evil.example",  # line separator
    "/\u3000/evil.example",  # ideographic space
    "/\u200b/evil.example",  # zero-width space
    "/\ufeff/evil.example",  # byte-order mark
    "/\u202e/evil.example",  # right-to-left override
    "/%E2%80%A8/evil.example",  # line separator, encoded
    "/%C2%A0/evil.example",
    "/\uff0fevil.example",  # fullwidth solidus: NFKC makes it /
    "/\uff3cevil.example",  # fullwidth reverse solidus
    "/%ff/evil.example",  # not UTF-8
    "evil.example",
    "account",
    "/" + "a" * 3000,
]

LOCAL = [
    "/admin/users",
    "/account",
    "/courses/step-1-prep",
    "/courses/step-1-prep?cycle=2027-01-04&promo=SPRING-SALE",
    "/tutoring/tutors/t-1?tz=Europe%2FBerlin#hours",
    "/my/enrollments",
]


def _login(client, next_in_query: str | None, next_in_form: str | None):
    page = "/login" if next_in_query is None else "/login?next=" + _quote(next_in_query)
    token = csrf_from(client, page)
    data = {"email": "student@example.org", "password": "correct-horse", "csrf_token": token}
    if next_in_form is not None:
        data["next"] = next_in_form
    return client.post(page if next_in_form is None else "/login", data=data)


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


@pytest.mark.parametrize("target", HOSTILE, ids=repr)
def test_a_hostile_next_in_the_form_leads_to_the_home_page(client, identity_api, target):
    response = _login(client, None, target)

    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", HOSTILE, ids=repr)
def test_a_hostile_next_in_the_link_leads_to_the_home_page(client, identity_api, target):
    response = _login(client, target, None)

    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", HOSTILE, ids=repr)
def test_the_sign_in_form_never_carries_a_hostile_next(client, target):
    html = client.get("/login?next=" + _quote(target)).get_data(as_text=True)

    assert 'name="next" value="/"' in html
    assert "Please sign in" not in html  # no reason to give for a place we will not go


@pytest.mark.parametrize("target", LOCAL)
def test_a_path_on_this_site_is_where_sign_in_returns(client, identity_api, target):
    response = _login(client, None, target)

    assert response.headers["Location"] == target


def test_without_next_sign_in_opens_the_account(client, identity_api):
    assert _login(client, None, None).headers["Location"] == "/account"


@pytest.mark.parametrize("target", HOSTILE, ids=repr)
def test_every_redirect_to_sign_in_carries_only_a_local_next(site, target):
    """The other place a request names a target: the link to sign in and come back."""
    with site.test_request_context("/courses"):
        assert security.login_url(target) == "/login"


def test_a_visitor_sent_to_sign_in_is_told_why_and_comes_back_to_that_page(
    client, identity_api, enrollment_api
):
    sent = client.get("/my/enrollments")
    assert sent.headers["Location"] == "/login?next=%2Fmy%2Fenrollments"

    html = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Please sign in to see your enrollments." in html
    assert "come back to it after signing in" in html

    response = _login(client, "/my/enrollments", None)
    assert response.headers["Location"] == "/my/enrollments"
    assert "My enrollments" in client.get("/my/enrollments").get_data(as_text=True)


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("/admin/payments", "Please sign in to see the payments ledger."),
        ("/courses/step-1-prep?cycle=2027-01-04", "Please sign in to enroll in a course."),
        ("/tutoring/tutors/t-1#hours", "Please sign in to book a tutor."),
        ("/tutor/availability", "Please sign in to see your tutor pages."),
        ("/testimonials/new", "Please sign in to share your experience of Preceptor."),
        ("/somewhere/else", "Please sign in to see that page."),
    ],
)
def test_the_sign_in_page_names_the_page_it_returns_to(client, target, reason):
    html = client.get("/login?next=" + _quote(target)).get_data(as_text=True)

    assert reason in html
