"""The marketing console: who may open it, and what each page sends to the email and
testimonials services (their stand-ins implement the issue 5 contract in memory)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.web.tests.conftest import csrf_from, sign_in

MARKETING_PAGES = [
    "/marketing",
    "/marketing/subscribers",
    "/marketing/campaigns",
    "/marketing/campaigns/new",
    "/marketing/campaigns/cmp-1",
    "/marketing/campaigns/cmp-1/figures",
    "/marketing/campaigns/cmp-1/preview",
    "/marketing/suppressions",
    "/marketing/testimonials",
    "/marketing/testimonials?status=approved",
    "/marketing/testimonials/t-4",
]

MARKETING_POSTS = [
    ("/marketing/campaigns/new", {"subject": "s", "body_markdown": "b", "audience": "topic:step1"}),
    ("/marketing/campaigns/cmp-1", {"subject": "s", "body_markdown": "b", "audience": "x"}),
    ("/marketing/campaigns/cmp-1/test", {}),
    ("/marketing/campaigns/cmp-1/schedule", {"send_at": "2030-01-01T09:00"}),
    ("/marketing/campaigns/cmp-1/send", {"confirm": "yes"}),
    ("/marketing/campaigns/cmp-1/pause", {}),
    ("/marketing/campaigns/cmp-1/resume", {}),
    ("/marketing/campaigns/cmp-1/cancel", {}),
    ("/marketing/suppressions", {"email": "x@example.org"}),
    ("/marketing/testimonials/t-4/approve", {}),
    ("/marketing/testimonials/t-4/reject", {"reason": "spam"}),
    ("/marketing/testimonials/t-4", {"display_name": "X", "story": "y" * 30, "note": "n"}),
    ("/marketing/testimonials/t-1/feature", {}),
    ("/marketing/testimonials/t-1/unfeature", {}),
    ("/marketing/testimonials/t-2/move/up", {}),
]

DRAFT = {
    "subject": "Step 1 cycle opens, {{first_name}}",
    "body_markdown": "Hello {{first_name}},\n\nThe **next cycle** of {{course}} starts soon.",
    "audience": "students:active:usmle-step-1-prep",
}


def _marketer(client) -> str:
    sign_in(client, "marketing@example.org")
    return csrf_from(client, "/marketing/campaigns/new")


def _service_calls(email_api, testimonials_api) -> list:
    return [c for c in email_api.calls + testimonials_api.calls if c.path.startswith("/api/admin")]


@pytest.mark.parametrize("email", ["student@example.org", "tutor@example.org"])
@pytest.mark.parametrize("path", MARKETING_PAGES)
def test_marketing_pages_are_forbidden_to_students_and_tutors(
    client, email_api, testimonials_api, email, path
):
    email_api.add_campaign()
    sign_in(client, email)

    response = client.get(path)

    assert response.status_code == 403
    assert "You don&#39;t have access to this page" in response.get_data(as_text=True)
    assert _service_calls(email_api, testimonials_api) == []


@pytest.mark.parametrize("email", ["student@example.org", "tutor@example.org"])
@pytest.mark.parametrize(("path", "data"), MARKETING_POSTS)
def test_marketing_actions_are_forbidden_to_students_and_tutors(
    client, email_api, testimonials_api, email, path, data
):
    email_api.add_campaign()
    sign_in(client, email)
    token = csrf_from(client, "/account")

    response = client.post(path, data={**data, "csrf_token": token})

    assert response.status_code == 403
    assert _service_calls(email_api, testimonials_api) == []


@pytest.mark.parametrize("path", MARKETING_PAGES)
def test_marketing_pages_send_a_signed_out_visitor_to_sign_in(client, path):
    assert client.get(path).headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize(("path", "data"), MARKETING_POSTS)
def test_marketing_actions_need_the_forms_csrf_token(
    client, email_api, testimonials_api, path, data
):
    email_api.add_campaign()
    sign_in(client, "marketing@example.org")

    response = client.post(path, data=data)

    assert response.status_code == 400
    assert _service_calls(email_api, testimonials_api) == []


@pytest.mark.parametrize("email", ["marketing@example.org", "admin@example.org"])
def test_marketing_and_admin_see_the_console_and_its_nav_link(client, email_api, email):
    sign_in(client, email)

    response = client.get("/marketing")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'href="/marketing">Marketing</a>' in html
    for path in ("/marketing/campaigns", "/marketing/subscribers", "/marketing/suppressions"):
        assert f'href="{path}"' in html
    assert "2 to moderate" in html  # the pending queue, private feedback included


def test_students_have_no_marketing_link(client):
    sign_in(client, "student@example.org")

    assert 'href="/marketing"' not in client.get("/account").get_data(as_text=True)


def test_subscribers_page_shows_topic_counts_and_audience_sizes(client, email_api):
    sign_in(client, "marketing@example.org")

    html = client.get("/marketing/subscribers").get_data(as_text=True)

    assert "USMLE Step 1" in html and ">120<" in html  # confirmed subscribers of step1
    assert "Active students: USMLE Step 1 Prep" in html and ">42<" in html
    [call] = email_api.calls_to("GET", "/api/admin/topics")
    assert call.headers["Authorization"] == "Bearer access-1.marketing@example.org"


def test_subscribers_page_lists_people_and_filters_them_by_status(client, email_api):
    sign_in(client, "marketing@example.org")

    everyone = client.get("/marketing/subscribers").get_data(as_text=True)
    gone = client.get("/marketing/subscribers?status=unsubscribed").get_data(as_text=True)
    unknown = client.get("/marketing/subscribers?status=bogus")

    assert "ada@example.com" in everyone and "ben@example.com" in everyone
    assert "ben@example.com" in gone and "ada@example.com" not in gone
    assert unknown.status_code == 200  # an unknown filter shows everyone, never an error
    [*_, last] = email_api.calls_to("GET", "/api/admin/subscribers")
    assert "status" not in last.query


def test_new_campaign_form_offers_audiences_with_sizes_and_merge_field_help(client, email_api):
    sign_in(client, "marketing@example.org")

    html = client.get("/marketing/campaigns/new").get_data(as_text=True)

    assert 'value="students:past"' in html and "15 people" in html
    assert "{{first_name}}" in html and "{{course}}" in html


def test_campaign_editor_round_trip(client, email_api):
    token = _marketer(client)

    created = client.post("/marketing/campaigns/new", data={**DRAFT, "csrf_token": token})

    assert created.status_code == 302
    location = created.headers["Location"]
    assert location == "/marketing/campaigns/cmp-1"
    [call] = email_api.calls_to("POST", "/api/admin/campaigns")
    assert call.json == DRAFT

    page = client.get(location).get_data(as_text=True)
    assert 'value="Step 1 cycle opens, {{first_name}}"' in page
    assert "The **next cycle** of {{course}} starts soon.</textarea>" in page
    assert 'value="students:active:usmle-step-1-prep" checked' in page
    assert "Yes, send it now to 42 people" in page

    edited = {**DRAFT, "subject": "Last seats, {{first_name}}", "audience": "students:past"}
    saved = client.post(location, data={**edited, "csrf_token": token})

    assert saved.status_code == 302
    [put] = email_api.calls_to("PUT", "/api/admin/campaigns/cmp-1")
    assert put.json == edited
    page = client.get(location).get_data(as_text=True)
    assert 'value="Last seats, {{first_name}}"' in page
    assert 'value="students:past" checked' in page


def test_preview_is_shown_in_a_sandboxed_frame_with_a_policy_of_its_own(client, email_api):
    campaign = email_api.add_campaign(body_markdown="Hi {{first_name}} <script>alert(1)</script>")
    sign_in(client, "marketing@example.org")

    html = client.get(f"/marketing/campaigns/{campaign['id']}").get_data(as_text=True)
    frame = client.get(f"/marketing/campaigns/{campaign['id']}/preview")

    tag = re.search(r"<iframe[^>]*>", html).group(0)
    assert " sandbox " in tag and 'src="/marketing/campaigns/cmp-1/preview"' in tag
    assert "<script>alert" not in html
    assert "Subject:</strong> Step 1 cycle opens, Ada" in html
    policy = frame.headers["Content-Security-Policy"]
    assert policy.startswith("sandbox;") and "script-src" not in policy
    assert "default-src 'none'" in policy and "frame-ancestors 'self'" in policy
    assert frame.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert frame.headers["Cache-Control"] == "no-store"
    assert '<p style="color:#1f6feb">Hi Ada' in frame.get_data(as_text=True)


def test_the_preview_names_its_real_recipient_or_says_plainly_what_stands_in(client, email_api):
    campaign = email_api.add_campaign(body_markdown="Hi {{first_name}}, about {{course}}")
    sign_in(client, "marketing@example.org")

    html = client.get(f"/marketing/campaigns/{campaign['id']}").get_data(as_text=True)
    assert "As Ada Lovelace (ada@example.com), the first of this audience by name" in html
    assert "(your course)" not in html

    email_api.answer(
        "GET",
        f"/api/admin/campaigns/{campaign['id']}/preview",
        200,
        {
            "subject": "News for Ada",
            "html": "<p>Hi Ada, about your course</p>",
            "text": "Hi Ada, about your course",
            "sample": {"first_name": "Ada", "course": "your course"},
            "recipient": {"email": None, "name": "Ada", "sample": True},
            "fallbacks": [{"field": "course", "value": "your course"}],
        },
    )
    html = client.get(f"/marketing/campaigns/{campaign['id']}").get_data(as_text=True)
    assert "Nobody is in this audience yet, so this is how a sample person, Ada, would" in html
    assert "{{course}} reads \u201cyour course\u201d here: Ada has no course on record." in html


def test_a_campaign_that_cannot_be_previewed_says_why(client, email_api):
    campaign = email_api.add_campaign()
    email_api.answer(
        "GET",
        f"/api/admin/campaigns/{campaign['id']}/preview",
        422,
        {"detail": "Invalid", "errors": {"audience": ["Nobody is in this audience."]}},
    )
    sign_in(client, "marketing@example.org")

    html = client.get(f"/marketing/campaigns/{campaign['id']}").get_data(as_text=True)
    frame = client.get(f"/marketing/campaigns/{campaign['id']}/preview")

    assert "Nobody is in this audience." in html
    assert "Nobody is in this audience." in frame.get_data(as_text=True)


def test_an_unknown_merge_field_is_shown_next_to_the_field_it_is_in(client, email_api):
    token = _marketer(client)

    response = client.post(
        "/marketing/campaigns/new",
        data={**DRAFT, "body_markdown": "Hello {{nickname}}", "csrf_token": token},
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert (
        '<p class="field-error" id="body_markdown-error">Unknown merge field {{nickname}}.</p>'
        in html
    )
    assert "Hello {{nickname}}</textarea>" in html  # what they typed stays


def test_missing_fields_are_answered_by_the_page(client, email_api):
    token = _marketer(client)

    response = client.post("/marketing/campaigns/new", data={"csrf_token": token})

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="subject-error">Enter the subject line.' in html
    assert 'id="audience-error">Choose who receives it.' in html
    assert email_api.calls_to("POST", "/api/admin/campaigns") == []


def test_send_me_a_test_goes_to_the_callers_address_by_default(client, email_api):
    campaign = email_api.add_campaign()
    token = _marketer(client)

    response = client.post(
        f"/marketing/campaigns/{campaign['id']}/test",
        data={"email": "", "csrf_token": token},
        follow_redirects=True,
    )

    assert "Test sent to marketing@example.org." in response.get_data(as_text=True)
    [call] = email_api.calls_to("POST", f"/api/admin/campaigns/{campaign['id']}/test")
    assert call.json == {}


def test_a_test_to_a_bad_address_shows_the_error_at_the_email_field(client, email_api):
    campaign = email_api.add_campaign()
    token = _marketer(client)

    response = client.post(
        f"/marketing/campaigns/{campaign['id']}/test", data={"email": "nope", "csrf_token": token}
    )

    assert response.status_code == 422
    assert (
        '<p class="field-error" id="email-error">Not a valid email address.</p>'
        in response.get_data(as_text=True)
    )


def test_send_now_needs_the_confirmation_box(client, email_api):
    campaign = email_api.add_campaign()
    token = _marketer(client)
    path = f"/marketing/campaigns/{campaign['id']}/send"

    refused = client.post(path, data={"csrf_token": token})

    assert refused.status_code == 422
    assert 'id="confirm-error">Tick the box' in refused.get_data(as_text=True)
    assert email_api.calls_to("POST", f"/api/admin/campaigns/{campaign['id']}/send") == []

    sent = client.post(path, data={"confirm": "yes", "csrf_token": token}, follow_redirects=True)

    html = sent.get_data(as_text=True)
    assert "Sending has started." in html
    assert 'data-poll="/marketing/campaigns/cmp-1/figures"' in html
    assert "campaign.js" in html
    assert email_api.campaigns["cmp-1"]["status"] == "sending"


def test_schedule_reads_the_time_on_the_marketers_clock(client, email_api):
    campaign = email_api.add_campaign()
    token = _marketer(client)
    form = client.get(f"/marketing/campaigns/{campaign['id']}?tz=Asia/Kolkata").get_data(
        as_text=True
    )
    assert "Send at, Kolkata time (IST)" in form and "On your clock: Kolkata time (IST)." in form
    local = (datetime.now(UTC) + timedelta(days=3)).astimezone(ZoneInfo("Asia/Kolkata"))
    typed = local.strftime("%Y-%m-%dT%H:%M")

    response = client.post(
        f"/marketing/campaigns/{campaign['id']}/schedule?tz=Asia/Kolkata",
        data={"send_at": typed, "tz": "Asia/Kolkata", "csrf_token": token},
        follow_redirects=True,
    )

    [call] = email_api.calls_to("POST", f"/api/admin/campaigns/{campaign['id']}/schedule")
    sent = datetime.fromisoformat(call.json["send_at"])
    assert sent.utcoffset() == timedelta(0)
    assert sent == local.replace(second=0, microsecond=0).astimezone(UTC)
    html = response.get_data(as_text=True)
    assert "Scheduled for" in html and "Kolkata time (IST)" in html
    assert email_api.campaigns["cmp-1"]["status"] == "scheduled"


def test_a_time_in_the_past_is_refused_at_the_send_at_field(client, email_api):
    campaign = email_api.add_campaign()
    token = _marketer(client)

    response = client.post(
        f"/marketing/campaigns/{campaign['id']}/schedule",
        data={"send_at": "2020-01-01T09:00", "csrf_token": token},
    )

    assert response.status_code == 422
    assert (
        '<p class="field-error" id="send_at-error">Choose a time in the future.</p>'
        in response.get_data(as_text=True)
    )


def test_pause_resume_and_cancel_follow_the_campaigns_status(client, email_api):
    campaign = email_api.add_campaign("sending")
    token = _marketer(client)
    path = f"/marketing/campaigns/{campaign['id']}"

    page = client.get(path).get_data(as_text=True)
    assert f'action="{path}/pause' in page and f'action="{path}/resume' not in page

    client.post(f"{path}/pause", data={"csrf_token": token})
    page = client.get(path).get_data(as_text=True)
    assert email_api.campaigns["cmp-1"]["status"] == "paused"
    assert f'action="{path}/resume' in page and "data-poll" not in page

    client.post(f"{path}/resume", data={"csrf_token": token})
    assert email_api.campaigns["cmp-1"]["status"] == "sending"
    client.post(f"{path}/cancel", data={"csrf_token": token})
    assert email_api.campaigns["cmp-1"]["status"] == "cancelled"


def test_an_action_the_status_does_not_allow_is_explained(client, email_api):
    campaign = email_api.add_campaign("sent")
    token = _marketer(client)

    response = client.post(
        f"/marketing/campaigns/{campaign['id']}/pause",
        data={"csrf_token": token},
        follow_redirects=True,
    )

    assert "A sent campaign cannot do that." in response.get_data(as_text=True)


def test_figures_route_follows_the_campaign_while_it_sends(client, email_api):
    campaign = email_api.add_campaign("sending", audience="students:past")
    sign_in(client, "marketing@example.org")
    path = f"/marketing/campaigns/{campaign['id']}/figures"

    first = client.get(path)
    email_api.progress(campaign["id"], sent=10, failed=1)
    second = client.get(path).get_json()
    email_api.progress(campaign["id"], sent=4)
    third = client.get(path).get_json()

    assert first.headers["Cache-Control"] == "no-store"
    assert first.get_json()["figures"]["queued"] == 15
    assert second["figures"] == {
        "recipients": 15,
        "queued": 4,
        "sent": 10,
        "failed": 1,
        "suppressed": 0,
        "unsubscribed": 0,
    }
    assert (third["status"], third["status_label"]) == ("sent", "Sent")


def test_a_finished_campaign_shows_its_figures_and_deliveries(client, email_api):
    campaign = email_api.add_campaign("sending", audience="students:consulted")
    email_api.progress(campaign["id"], sent=7, failed=1)
    sign_in(client, "marketing@example.org")

    html = client.get(f"/marketing/campaigns/{campaign['id']}").get_data(as_text=True)
    failed = client.get(f"/marketing/campaigns/{campaign['id']}?deliveries=failed")

    assert 'data-figure="sent">7<' in html and 'data-figure="failed">1<' in html
    assert "data-poll" not in html  # nothing moves any more
    assert "reader0@example.org" in html
    assert "550 mailbox unavailable" in failed.get_data(as_text=True)
    [call, *_] = email_api.calls_to("GET", f"/api/admin/campaigns/{campaign['id']}/deliveries")
    assert call.query == {"limit": "50"}
    assert email_api.calls_to("GET", f"/api/admin/campaigns/{campaign['id']}/deliveries")[
        -1
    ].query == {"status": "failed", "limit": "50"}


def test_campaign_list_shows_status_and_progress(client, email_api):
    email_api.add_campaign("sending", subject="Spring cycle")
    email_api.progress("cmp-1", sent=20)
    sign_in(client, "marketing@example.org")

    html = client.get("/marketing/campaigns").get_data(as_text=True)

    assert "Spring cycle" in html and "20 of 120" in html and "Sending" in html


def test_suppression_list_and_adding_an_address_by_hand(client, email_api):
    token = _marketer(client)

    page = client.get("/marketing/suppressions").get_data(as_text=True)
    assert "bounced@example.org" in page and "Hard bounce" in page

    added = client.post(
        "/marketing/suppressions",
        data={"email": "Asked@Example.org", "csrf_token": token},
        follow_redirects=True,
    )

    [call] = email_api.calls_to("POST", "/api/admin/suppressions")
    assert call.json == {"email": "Asked@Example.org", "reason": "manual"}
    html = added.get_data(as_text=True)
    assert "asked@example.org" in html and "Added by hand" in html


def test_a_refused_suppression_is_shown_at_the_email_field(client, email_api):
    token = _marketer(client)

    response = client.post(
        "/marketing/suppressions", data={"email": "not-an-address", "csrf_token": token}
    )

    assert response.status_code == 422
    assert (
        '<p class="field-error" id="email-error">Not a valid email address.</p>'
        in response.get_data(as_text=True)
    )


# --------------------------------------------------------------------------- moderation


def test_moderation_queue_has_tabs_and_marks_private_feedback(client, testimonials_api):
    sign_in(client, "marketing@example.org")

    pending = client.get("/marketing/testimonials").get_data(as_text=True)
    rejected = client.get("/marketing/testimonials?status=rejected").get_data(as_text=True)

    assert "Priya P." in pending and "Quiet Q." in pending and "Maya R." not in pending
    assert "No consent: private feedback" in pending
    assert 'action="/marketing/testimonials/t-4/approve"' in pending
    assert 'action="/marketing/testimonials/t-5/approve"' not in pending  # no consent
    assert "Spammy S." in rejected and "Spam or advertising" in rejected
    assert testimonials_api.calls_to("GET", "/api/admin/testimonials")[0].query == {
        "status": "pending",
        "limit": "200",
    }


def test_approving_puts_the_story_on_the_wall(client, testimonials_api):
    token = _marketer(client)

    response = client.post(
        "/marketing/testimonials/t-4/approve",
        data={"tab": "pending", "csrf_token": token},
        follow_redirects=True,
    )

    assert "Approved: it is on the public wall now." in response.get_data(as_text=True)
    assert "Priya P." in client.get("/testimonials").get_data(as_text=True)


def test_approving_without_consent_is_refused_with_the_services_words(client, testimonials_api):
    token = _marketer(client)

    response = client.post(
        "/marketing/testimonials/t-5/approve", data={"csrf_token": token}, follow_redirects=True
    )

    assert "Without consent this story stays private feedback." in response.get_data(as_text=True)
    assert testimonials_api.records["t-5"]["status"] == "pending"


def test_rejecting_sends_the_reason_and_note(client, testimonials_api):
    token = _marketer(client)

    client.post(
        "/marketing/testimonials/t-4/reject",
        data={"reason": "personal_data", "note": "Names a patient", "csrf_token": token},
    )

    [call] = testimonials_api.calls_to("POST", "/api/admin/testimonials/t-4/reject")
    assert call.json == {"reason": "personal_data", "note": "Names a patient"}
    assert testimonials_api.records["t-4"]["status"] == "rejected"


def test_rejecting_without_a_reason_is_shown_at_the_reason_field(client, testimonials_api):
    token = _marketer(client)

    response = client.post(
        "/marketing/testimonials/t-4/reject", data={"reason": "", "csrf_token": token}
    )

    assert response.status_code == 422
    assert '<p class="field-error" id="reason-error">' in response.get_data(as_text=True)
    assert testimonials_api.calls_to("POST", "/api/admin/testimonials/t-4/reject") == []


def test_the_rating_is_not_a_reason_to_reject(client, testimonials_api):
    sign_in(client, "marketing@example.org")

    html = client.get("/marketing/testimonials").get_data(as_text=True)

    options = re.findall(r'<option value="([a-z_]+)">', html)
    assert set(options) == {
        "spam",
        "offensive",
        "personal_data",
        "not_about_us",
        "duplicate",
        "author_request",
    }


def test_editing_needs_a_note_and_keeps_the_history(client, testimonials_api):
    token = _marketer(client)
    path = "/marketing/testimonials/t-4"
    story = "The CK cycle was intense but the question reviews were worth every hour."

    refused = client.post(
        path, data={"display_name": "Priya P.", "story": story, "note": "", "csrf_token": token}
    )
    assert refused.status_code == 422
    assert 'id="note-error">Say why' in refused.get_data(as_text=True)
    assert testimonials_api.calls_to("PUT", "/api/admin/testimonials/t-4") == []

    saved = client.post(
        path,
        data={"display_name": "Priya", "story": story, "note": "Typo", "csrf_token": token},
        follow_redirects=True,
    )

    [call] = testimonials_api.calls_to("PUT", "/api/admin/testimonials/t-4")
    assert call.json == {"display_name": "Priya", "story": story, "note": "Typo"}
    html = saved.get_data(as_text=True)
    assert "As the author wrote it" in html
    assert "The CK cycle was intense but the question reviews were worth it." in html  # original
    assert "Ada Student" in html  # the editor, by name
    assert "“Typo”" in html
    assert "<del>Priya P.</del> → <ins>Priya</ins>" in html


def test_a_service_refusal_of_the_edit_is_shown_at_the_field(client, testimonials_api):
    testimonials_api.answer(
        "PUT",
        "/api/admin/testimonials/t-4",
        422,
        {"detail": "Invalid", "errors": {"story": ["Length must be between 20 and 2000."]}},
    )
    token = _marketer(client)

    response = client.post(
        "/marketing/testimonials/t-4",
        data={"display_name": "P", "story": "short", "note": "n", "csrf_token": token},
    )

    assert response.status_code == 422
    assert (
        '<p class="field-error" id="story-error">Length must be between 20 and 2000.</p>'
        in response.get_data(as_text=True)
    )


def test_feature_and_unfeature(client, testimonials_api):
    token = _marketer(client)

    client.post("/marketing/testimonials/t-2/feature", data={"csrf_token": token})
    assert testimonials_api.records["t-2"]["featured"] is True
    client.post("/marketing/testimonials/t-1/unfeature", data={"csrf_token": token})
    assert testimonials_api.records["t-1"]["featured"] is False


def test_moving_a_story_sends_the_whole_wall_in_its_new_order(client, testimonials_api):
    token = _marketer(client)
    page = client.get("/marketing/testimonials?status=approved").get_data(as_text=True)
    assert page.index("Maya R.") < page.index("Tom T.") < page.index("Sam Staff")

    client.post("/marketing/testimonials/t-3/move/up", data={"csrf_token": token})

    [call] = testimonials_api.calls_to("PUT", "/api/admin/testimonials/wall-order")
    assert call.json == {"ids": ["t-1", "t-3", "t-2"]}
    wall = client.get("/testimonials").get_data(as_text=True)
    assert wall.index("Sam Staff") < wall.index("Tom T.")


def test_moving_the_first_story_up_changes_nothing(client, testimonials_api):
    token = _marketer(client)

    client.post("/marketing/testimonials/t-1/move/up", data={"csrf_token": token})

    assert testimonials_api.calls_to("PUT", "/api/admin/testimonials/wall-order") == []


@pytest.mark.browser
def test_campaign_page_in_chromium_previews_in_a_sandbox_and_follows_the_figures(
    page, live_site, email_api
):
    campaign = email_api.add_campaign("sending", audience="students:past")
    page.goto(f"{live_site}/login")
    page.get_by_label("Email").fill("marketing@example.org")
    page.get_by_label("Password").fill("correct-horse")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Marketing").first.click()
    page.get_by_role("link", name="Campaigns", exact=True).click()
    page.get_by_role("link", name=campaign["subject"]).click()

    preview = page.frame_locator("iframe.email-preview")
    preview.get_by_text("Hello Ada").wait_for()
    colour = preview.locator("p").evaluate("p => getComputedStyle(p).color")
    assert colour == "rgb(31, 111, 235)"  # the email's inline styles apply in its own frame
    sent = page.locator('[data-figure="sent"]')
    assert sent.text_content() == "0"

    email_api.progress(campaign["id"], sent=9)
    page.wait_for_function(
        "() => document.querySelector('[data-figure=\"sent\"]').textContent === '9'"
    )
    email_api.progress(campaign["id"], sent=6)  # the last ones: the campaign is sent
    page.locator("[data-campaign-status]", has_text="Sent").wait_for()
    assert page.locator('[data-figure="sent"]').text_content() == "15"
    assert page.locator("[data-poll]").count() == 0


def test_editing_a_campaign_that_is_no_longer_a_draft_is_explained(client, email_api):
    campaign = email_api.add_campaign()
    token = _marketer(client)
    email_api.campaigns[campaign["id"]]["status"] = "sending"  # someone else pressed send

    response = client.post(
        f"/marketing/campaigns/{campaign['id']}",
        data={**DRAFT, "csrf_token": token},
        follow_redirects=True,
    )

    html = response.get_data(as_text=True)
    assert "Only a draft can be edited." in html
    assert 'data-figure="sent"' in html  # the page of a sending campaign


@pytest.mark.parametrize(
    "path", [p for p in MARKETING_PAGES if not p.endswith(("figures", "preview"))]
)
def test_every_marketing_form_that_posts_carries_a_csrf_token(client, email_api, path):
    email_api.add_campaign()
    sign_in(client, "marketing@example.org")

    html = client.get(path).get_data(as_text=True)

    posting = re.findall(r'<form[^>]*method="post"[^>]*>(.*?)</form>', html, re.S)
    assert posting
    assert all('name="csrf_token"' in form for form in posting)
