"""Student stories: the public wall, the two ways to submit one, and the embeddable widget."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask

from services.web.tests.conftest import csrf_from, sign_in
from shared.testing.fixtures import serve_in_thread

STORY = {
    "display_name": "Ade O.",
    "program": "tutoring",
    "story": "Three sessions turned my plan around; I knew what to fix each week.",
    "rating": "4",
    "consent": "yes",
}


def test_wall_shows_only_approved_stories_featured_first(client, testimonials_api):
    html = client.get("/testimonials").get_data(as_text=True)

    assert html.index("Maya R.") < html.index("Tom T.") < html.index("Sam Staff")
    for hidden in ("Priya P.", "Quiet Q.", "Spammy S."):  # pending, private, rejected
        assert hidden not in html
    assert "testimonial testimonial-featured" in html


def test_wall_shows_the_verified_badge_the_role_labels_and_stars(client, testimonials_api):
    html = client.get("/testimonials").get_data(as_text=True)

    maya = html[html.index("Maya R.") - 1500 : html.index("Maya R.") + 400]
    tom = html[html.index("Tom T.") : html.index("Tom T.") + 400]
    sam = html[html.index("Sam Staff") : html.index("Sam Staff") + 400]
    assert "Verified student" in maya and 'aria-label="5 out of 5 stars"' in maya
    assert '<span class="badge badge-role">Tutor</span>' in tom and "Verified" not in tom
    assert '<span class="badge badge-role">Staff</span>' in sam
    assert 'href="/testimonials/new"' in html


def test_wall_filters_by_program(client, testimonials_api):
    html = client.get("/testimonials?program=tutoring").get_data(as_text=True)

    assert "Tom T." in html and "Maya R." not in html
    assert '<option value="tutoring" selected>1:1 tutoring</option>' in html
    assert testimonials_api.calls_to("GET", "/api/testimonials")[-1].query == {
        "program": "tutoring"
    }


def test_an_unknown_program_filter_shows_every_program(client, testimonials_api):
    html = client.get("/testimonials?program=<b>x</b>").get_data(as_text=True)

    assert "Maya R." in html and "<b>x</b>" not in html
    assert testimonials_api.calls_to("GET", "/api/testimonials")[-1].query == {}


def test_the_form_sends_a_signed_out_visitor_to_sign_in(client):
    response = client.get("/testimonials/new")

    assert response.headers["Location"] == "/login?next=%2Ftestimonials%2Fnew"


def test_the_form_offers_the_programs_and_the_consent_text(client, testimonials_api):
    sign_in(client, "student@example.org")

    html = client.get("/testimonials/new").get_data(as_text=True)

    assert '<option value="course:usmle-step-1-prep">USMLE Step 1 Prep</option>' in html
    assert '<option value="tutoring">1:1 tutoring</option>' in html
    assert "I agree that Preceptor may publish my story" in html
    assert 'name="consent" value="yes"' in html
    assert 'value="Ada Student"' in html  # the display name starts as the account name
    assert html.count("<form") == html.count('name="csrf_token"')


def test_submitting_sends_the_story_with_the_users_token(client, testimonials_api):
    sign_in(client, "student@example.org")
    token = csrf_from(client, "/testimonials/new")

    response = client.post(
        "/testimonials/new", data={**STORY, "csrf_token": token}, follow_redirects=True
    )

    html = response.get_data(as_text=True)
    assert "Thank you for your story" in html
    assert "we'll email you when yours is published" in html
    [call] = testimonials_api.calls_to("POST", "/api/testimonials")
    assert call.json == {
        "display_name": "Ade O.",
        "program": "tutoring",
        "story": STORY["story"],
        "rating": 4,
        "consent": True,
    }
    assert call.headers["Authorization"] == "Bearer access-1.student@example.org"


def test_without_consent_the_story_is_sent_as_private_feedback(client, testimonials_api):
    sign_in(client, "student@example.org")
    token = csrf_from(client, "/testimonials/new")
    data = {k: v for k, v in STORY.items() if k != "consent"}

    response = client.post(
        "/testimonials/new", data={**data, "csrf_token": token}, follow_redirects=True
    )

    [call] = testimonials_api.calls_to("POST", "/api/testimonials")
    assert call.json["consent"] is False
    assert "stays private feedback" in response.get_data(as_text=True)
    assert "Ade O." not in client.get("/testimonials").get_data(as_text=True)


def test_the_page_checks_length_and_rating_before_calling_the_service(client, testimonials_api):
    sign_in(client, "student@example.org")
    token = csrf_from(client, "/testimonials/new")

    response = client.post(
        "/testimonials/new",
        data={**STORY, "story": "Too short", "rating": "9", "csrf_token": token},
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="story-error">Tell us a little more: at least 20 characters.' in html
    assert 'id="rating-error">Choose a rating from 1 to 5 stars.' in html
    assert "Too short</textarea>" in html
    assert testimonials_api.calls_to("POST", "/api/testimonials") == []


def test_a_service_refusal_is_shown_at_its_field(client, testimonials_api):
    testimonials_api.answer(
        "POST",
        "/api/testimonials",
        422,
        {"detail": "Invalid", "errors": {"display_name": ["That name is not allowed."]}},
    )
    sign_in(client, "student@example.org")
    token = csrf_from(client, "/testimonials/new")

    response = client.post("/testimonials/new", data={**STORY, "csrf_token": token})

    assert response.status_code == 422
    assert (
        '<p class="field-error" id="display_name-error">That name is not allowed.</p>'
        in response.get_data(as_text=True)
    )


def test_the_form_needs_its_csrf_token(client, testimonials_api):
    sign_in(client, "student@example.org")

    response = client.post("/testimonials/new", data=STORY)

    assert response.status_code == 400
    assert testimonials_api.calls_to("POST", "/api/testimonials") == []


def test_a_tutor_submits_and_is_labelled_by_the_service(client, testimonials_api):
    sign_in(client, "tutor@example.org")
    token = csrf_from(client, "/testimonials/new")

    client.post("/testimonials/new", data={**STORY, "csrf_token": token})

    [record] = [r for r in testimonials_api.records.values() if r["display_name"] == "Ade O."]
    assert record["author_role"] == "tutor"


def test_the_email_link_prefills_the_form_without_signing_in(client, testimonials_api):
    html = client.get("/testimonials/new/request-ok").get_data(as_text=True)

    assert 'value="Rosa Requested"' in html
    assert '<option value="course:usmle-step-1-prep" selected>' in html
    assert 'action="/testimonials/new/request-ok"' in html
    assert "I agree that Preceptor may publish my story" in html


def test_the_email_link_submits_with_the_request_token_and_no_bearer(client, testimonials_api):
    token = csrf_from(client, "/testimonials/new/request-ok")

    response = client.post(
        "/testimonials/new/request-ok",
        data={**STORY, "csrf_token": token},
        follow_redirects=True,
    )

    assert "Thank you for your story" in response.get_data(as_text=True)
    [call] = testimonials_api.calls_to("POST", "/api/testimonials")
    assert call.json["request_token"] == "request-ok"
    assert "Authorization" not in call.headers


def test_an_expired_email_link_gets_a_friendly_page(client, testimonials_api):
    response = client.get("/testimonials/new/request-expired")

    html = response.get_data(as_text=True)
    assert response.status_code == 410
    assert "This link has expired" in html
    assert 'href="/testimonials/new"' in html


def test_a_bad_email_link_is_not_found(client, testimonials_api):
    response = client.get("/testimonials/new/forged")

    assert response.status_code == 404
    assert "This link is not valid" in response.get_data(as_text=True)


def test_thank_you_page_without_a_submission_goes_to_the_wall(client):
    assert client.get("/testimonials/thanks").headers["Location"] == "/testimonials"


# --------------------------------------------------------------------------- widget


def test_widget_renders_only_approved_stories(client, testimonials_api):
    response = client.get("/testimonials/widget")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Maya R." in html and "Tom T." in html
    for hidden in ("Priya P.", "Quiet Q.", "Spammy S."):
        assert hidden not in html
    assert "Verified student" in html and ">Tutor<" in html and ">Staff<" in html
    assert "<form" not in html and "site-header" not in html  # self-contained, nothing to click
    assert 'target="_blank" rel="noopener"' in html


def test_widget_passes_program_and_a_bounded_limit(client, testimonials_api):
    html = client.get("/testimonials/widget?program=tutoring&limit=500").get_data(as_text=True)

    assert "Maya R." not in html and "Tom T." in html
    assert testimonials_api.calls_to("GET", "/api/testimonials")[-1].query == {
        "program": "tutoring",
        "limit": "20",
    }


def test_widget_may_be_framed_by_any_site(client, testimonials_api):
    response = client.get("/testimonials/widget")

    policy = response.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in response.headers
    assert "frame-ancestors *" in policy and "'none'" in policy.split("frame-ancestors")[0]
    assert "form-action 'none'" in policy
    assert response.headers["Cache-Control"].startswith("public")


def test_every_other_page_still_refuses_to_be_framed(client, testimonials_api):
    for path in ("/testimonials", "/testimonials/new/request-ok", "/"):
        response = client.get(path)
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_widget_while_the_service_is_down_says_so_calmly(client, monkeypatch, nothing_listening):
    monkeypatch.setenv("TESTIMONIALS_URL", nothing_listening)

    response = client.get("/testimonials/widget")

    assert response.status_code == 503
    assert "unavailable right now" in response.get_data(as_text=True)
    assert "X-Frame-Options" not in response.headers


def test_widget_script_is_javascript_that_can_be_cached(client):
    response = client.get("/testimonials/widget.js")

    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert re.fullmatch(r"public, max-age=\d+", response.headers["Cache-Control"])
    body = response.get_data(as_text=True)
    assert "data-preceptor-testimonials" in body and "/testimonials/widget" in body


# --------------------------------------------------------------------------- in Chromium


@pytest.fixture
def other_site(live_site: str) -> Iterator[str]:
    """A plain marketing page on another origin (localhost vs 127.0.0.1) that embeds the widget."""
    page = Flask("other-site")
    html = f"""<!doctype html><html><head><title>Partner page</title></head><body>
<h1>Why students choose Preceptor</h1>
<div data-preceptor-testimonials data-program="tutoring" data-limit="5">Loading stories…</div>
<div data-preceptor-testimonials></div>
<script src="{live_site}/testimonials/widget.js"></script>
</body></html>"""

    @page.get("/")
    def index():
        return html

    server = serve_in_thread(page)
    yield f"http://localhost:{server.server_port}"
    server.shutdown()


@pytest.mark.browser
def test_widget_script_embeds_the_stories_on_a_page_of_another_origin(
    page, other_site, live_site, testimonials_api
):
    page.goto(other_site)

    frames = page.locator("iframe[title='Student stories from Preceptor']")
    frames.first.wait_for()
    assert frames.count() == 2
    assert frames.first.get_attribute("src") == (
        f"{live_site}/testimonials/widget?program=tutoring&limit=5"
    )
    tutoring = page.frame_locator("iframe >> nth=0")
    every = page.frame_locator("iframe >> nth=1")
    tutoring.get_by_text("Tom T.").wait_for()
    assert tutoring.get_by_text("Maya R.").count() == 0  # the program filter
    every.get_by_text("Maya R.").wait_for()
    assert every.get_by_text("Verified student").count() == 1
    assert every.get_by_text("Priya P.").count() == 0  # pending: never public
    assert page.get_by_text("Loading stories…").count() == 0
    # The frame reports its height, and the script sizes the iframe to it.
    page.wait_for_function(
        "() => [...document.querySelectorAll('iframe')].every(f => f.style.height !== '360px')"
    )


def test_the_email_link_form_needs_its_csrf_token(client, testimonials_api):
    client.get("/testimonials/new/request-ok")

    response = client.post("/testimonials/new/request-ok", data=STORY)

    assert response.status_code == 400
    assert testimonials_api.calls_to("POST", "/api/testimonials") == []


def test_the_email_link_always_offers_the_program_it_asks_about(client, testimonials_api):
    testimonials_api.answer(
        "GET",
        "/api/programs",
        200,
        [{"program": "tutoring", "label": "1:1 tutoring"}],
    )

    html = client.get("/testimonials/new/request-ok").get_data(as_text=True)

    assert '<option value="course:usmle-step-1-prep" selected>USMLE Step 1 Prep</option>' in html


def test_a_link_used_or_expired_meanwhile_gets_the_friendly_page_on_submit(
    client, testimonials_api
):
    token = csrf_from(client, "/testimonials/new/request-ok")
    testimonials_api.answer("POST", "/api/testimonials", 410, {"detail": "Used already."})

    response = client.post("/testimonials/new/request-ok", data={**STORY, "csrf_token": token})

    assert response.status_code == 410
    assert "This link has expired" in response.get_data(as_text=True)
