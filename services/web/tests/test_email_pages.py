"""Email updates pages: what the site sends to the email service and what the person sees."""

from __future__ import annotations

from services.web.tests.conftest import csrf_from


def test_signup_sends_email_name_and_chosen_topics_and_asks_to_check_the_inbox(client, email_api):
    token = csrf_from(client, "/")

    response = client.post(
        "/subscribe",
        data={
            "email": "reader@example.org",
            "name": "Rita",
            "topics": ["step1", "tutoring"],
            "csrf_token": token,
        },
        follow_redirects=True,
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Check your inbox" in html
    assert "reader@example.org" in html
    [call] = email_api.calls_to("POST", "/api/subscriptions")
    assert call.json == {
        "email": "reader@example.org",
        "topics": ["step1", "tutoring"],
        "name": "Rita",
    }


def test_signup_shows_the_email_services_error_next_to_the_email_field(client, email_api):
    email_api.answer(
        "POST",
        "/api/subscriptions",
        422,
        {"detail": "Invalid fields: email", "errors": {"email": ["Not a valid email address."]}},
    )
    token = csrf_from(client, "/")

    response = client.post(
        "/subscribe",
        data={"email": "not-an-email", "topics": ["step1"], "csrf_token": token},
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<p class="field-error" id="email-error">Not a valid email address.</p>' in html
    assert 'aria-describedby="email-error"' in html
    assert 'value="not-an-email"' in html  # what they typed stays in the field


def test_signup_without_topics_is_answered_by_the_page_without_calling_the_service(
    client, email_api
):
    token = csrf_from(client, "/")

    response = client.post("/subscribe", data={"email": "reader@example.org", "csrf_token": token})

    assert response.status_code == 422
    assert "Choose at least one topic." in response.get_data(as_text=True)
    assert email_api.calls_to("POST", "/api/subscriptions") == []


def test_confirm_link_shows_a_button_and_only_the_post_confirms(client, email_api):
    page = client.get("/confirm/tok-1")

    assert "Confirm my subscription" in page.get_data(as_text=True)
    assert email_api.calls_to("POST", "/api/subscriptions/confirm") == []

    token = csrf_from(client, "/confirm/tok-1")
    response = client.post("/confirm/tok-1", data={"csrf_token": token})

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "You're subscribed" in html
    assert 'href="/preferences/manage-abc"' in html
    [call] = email_api.calls_to("POST", "/api/subscriptions/confirm")
    assert call.json == {"token": "tok-1"}


def test_expired_confirmation_link_says_so(client, email_api):
    token = csrf_from(client, "/confirm/expired")

    response = client.post("/confirm/expired", data={"csrf_token": token})

    assert response.status_code == 422
    assert "This link has expired." in response.get_data(as_text=True)


def test_unsubscribe_link_asks_first_and_never_unsubscribes_on_get(client, email_api):
    response = client.get("/unsubscribe/tok-9")

    assert response.status_code == 200
    assert "Unsubscribe reader@example.org?" in response.get_data(as_text=True)
    assert email_api.calls_to("POST", "/api/unsubscribe/tok-9") == []
    assert len(email_api.calls_to("GET", "/api/preferences/tok-9")) == 1


def test_one_click_unsubscribe_works_without_session_or_csrf_token(site, email_api):
    mail_provider = site.test_client(use_cookies=False)

    response = mail_provider.post(
        "/unsubscribe/tok-9",
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert "You're unsubscribed" in response.get_data(as_text=True)
    assert len(email_api.calls_to("POST", "/api/unsubscribe/tok-9")) == 1
    assert "Set-Cookie" not in response.headers


def test_a_weekly_digest_link_says_it_stops_that_email_only(client, email_api):
    page = client.get("/unsubscribe/digest-weekly").get_data(as_text=True)
    assert "Stop the weekly progress email?" in page
    assert "all Preceptor email updates" not in page
    assert "Choose your topics instead" not in page

    token = csrf_from(client, "/unsubscribe/digest-weekly")
    response = client.post("/unsubscribe/digest-weekly", data={"csrf_token": token})
    done = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "receive the weekly progress email any more" in done
    assert len(email_api.calls_to("POST", "/api/unsubscribe/digest-weekly")) == 1


def test_unsubscribe_with_an_unknown_link_is_a_404_page(site, email_api):
    response = site.test_client().post(
        "/unsubscribe/missing", data={"List-Unsubscribe": "One-Click"}
    )

    assert response.status_code == 404
    assert "not valid any more" in response.get_data(as_text=True)


def test_preferences_show_the_topics_and_save_the_chosen_ones(client, email_api):
    page = client.get("/preferences/manage-abc").get_data(as_text=True)
    assert 'value="step1" checked' in page
    assert 'value="tutoring">' in page

    token = csrf_from(client, "/preferences/manage-abc")
    response = client.post(
        "/preferences/manage-abc",
        data={"topics": ["step2ck", "tutoring"], "csrf_token": token},
        follow_redirects=True,
    )

    assert "Your email preferences are saved." in response.get_data(as_text=True)
    [call] = email_api.calls_to("PUT", "/api/preferences/manage-abc")
    assert call.json == {"topics": ["step2ck", "tutoring"]}


def test_preferences_page_has_an_unsubscribe_from_everything_button(client, email_api):
    html = client.get("/preferences/manage-abc").get_data(as_text=True)

    assert 'action="/unsubscribe/manage-abc"' in html
    assert "Unsubscribe from all emails" in html


def test_a_token_reaches_the_service_whole_as_one_path_segment(client, email_api):
    client.get("/unsubscribe/tok%3Fx%3D1%26y")

    [call] = [c for c in email_api.calls if c.path.startswith("/api/preferences/")]
    assert call.path == "/api/preferences/tok?x=1&y"


def test_opening_subscribe_in_the_browser_goes_to_the_sign_up_form(client, email_api):
    response = client.get("/subscribe")

    assert response.status_code == 302
    assert response.headers["Location"] == "/#updates"
    html = client.get("/").get_data(as_text=True)
    assert 'id="updates"' in html and 'action="/subscribe"' in html
