"""Paid tutoring for students: buying hours through the card checkout, booking and managing sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from services.web.tests.conftest import csrf_from, sign_in

STRIPE_BASE = "http://127.0.0.1:48420"
SESSION_SLOT = "2026-03-04T15:00:00+00:00"
BOOK_SESSION = f"/tutoring/user-tutor/sessions/book?starts_at={quote(SESSION_SLOT)}&tz=Asia/Kolkata"


@pytest.fixture
def stripe_at(monkeypatch):
    monkeypatch.setenv("STRIPE_API_BASE", STRIPE_BASE)
    monkeypatch.delenv("STRIPE_JS_URL", raising=False)
    return STRIPE_BASE


def post(client, page: str, action: str, data: dict | None = None):
    token = csrf_from(client, page)
    return client.post(action, data={**(data or {}), "csrf_token": token})


def test_a_consulted_student_sees_hour_prices_from_the_rate_with_ten_hours_discounted(
    client, tutoring_api
):
    sign_in(client)

    html = client.get("/tutoring/user-tutor?tz=Asia/Kolkata").get_data(as_text=True)

    assert 'action="/tutoring/user-tutor/packages?tz=Asia/Kolkata"' in html
    assert "1 hour · $120.00" in html
    assert "5 hours · $600.00" in html
    assert "10 hours · $1,080.00" in html  # 10% off $1,200
    assert "<s>$1,200.00</s> · save $120.00" in html
    assert "You have <strong>3 h</strong> with Tom Tutor" in html
    assert "Book a free consultation" not in html


def test_session_slots_are_shown_in_the_viewers_zone_and_link_to_booking(client, tutoring_api):
    sign_in(client)

    html = client.get("/tutoring/user-tutor?tz=Asia/Kolkata").get_data(as_text=True)

    # 15:00 UTC is 20:30 in Kolkata.
    assert ">20:30<" in html and "Wed 4 Mar 2026" in html
    assert (
        'href="/tutoring/user-tutor/sessions/book?starts_at=2026-03-04T15:00:00%2B00:00'
        '&amp;tz=Asia/Kolkata"' in html
    )
    assert ">19:30<" not in html  # consultation slots are no longer offered
    [call] = tutoring_api.calls_to("GET", "/api/tutors/user-tutor/slots")
    assert call.query == {"kind": "session", "tz": "Asia/Kolkata"}


def test_without_credit_the_session_slots_ask_to_buy_hours_first(client, tutoring_api):
    tutoring_api.credits = {}
    sign_in(client)

    html = client.get("/tutoring/user-tutor?tz=UTC").get_data(as_text=True)

    assert "Buy hours above to book one of these times." in html
    assert '<span class="slot slot-disabled">15:00</span>' in html
    assert "/sessions/book" not in html


def test_a_student_without_a_completed_consultation_is_offered_the_consultation(
    client, tutoring_api
):
    sign_in(client)

    html = client.get("/tutoring/user-tina?tz=UTC").get_data(as_text=True)

    assert "Book a free consultation" in html
    assert "Buy hours" not in html


def test_buying_hours_posts_the_package_and_goes_to_its_card_checkout(client, tutoring_api):
    sign_in(client)

    response = post(
        client, "/tutoring/user-tutor?tz=UTC", "/tutoring/user-tutor/packages", {"hours": "10"}
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/tutoring/packages/pkg-new/checkout"
    [call] = tutoring_api.calls_to("POST", "/api/packages")
    assert call.json == {"tutor_id": "user-tutor", "hours": 10}
    assert call.headers["Authorization"] == "Bearer access-1.student@example.org"


def test_an_unknown_number_of_hours_is_refused_without_calling_tutoring(client, tutoring_api):
    sign_in(client)

    response = post(
        client, "/tutoring/user-tutor?tz=UTC", "/tutoring/user-tutor/packages", {"hours": "7"}
    )

    assert response.headers["Location"] == "/tutoring/user-tutor#hours"
    assert tutoring_api.calls_to("POST", "/api/packages") == []
    assert "Choose 1, 5 or 10 hours." in client.get("/tutoring/user-tutor?tz=UTC").get_data(
        as_text=True
    )


def test_buying_before_the_consultation_shows_the_services_reason(client, tutoring_api):
    sign_in(client)

    response = post(
        client, "/tutoring/user-tutor?tz=UTC", "/tutoring/user-tina/packages", {"hours": "1"}
    )

    assert response.headers["Location"] == "/tutoring/user-tina#hours"
    html = client.get("/tutoring/user-tina?tz=UTC").get_data(as_text=True)
    assert "Have your free consultation with this tutor first." in html


def test_package_checkout_renders_the_card_form_with_the_payment_data_and_stripe_csp(
    client, tutoring_api, stripe_at
):
    sign_in(client)

    response = client.get("/tutoring/packages/pkg-pending/checkout")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "5 hours with Tom Tutor" in html
    assert 'data-publishable-key="pk_test_tutoring"' in html
    assert 'data-client-secret="pi_pkg-pending_secret"' in html
    assert 'data-card-url="/tutoring/packages/pkg-pending/card"' in html
    assert 'data-done-url="/tutoring/packages/pkg-pending/done"' in html
    assert "Pay $600.00" in html
    assert f'<script src="{stripe_at}/js.stripe.com/v3/"></script>' in html
    assert '<script src="/static/checkout.js" defer></script>' in html
    assert html.count("<script") == 2  # no inline script
    csp = response.headers["Content-Security-Policy"]
    assert f"script-src 'self' {stripe_at};" in csp
    assert f"frame-src 'self' {stripe_at};" in csp


def test_a_paid_package_skips_checkout_and_says_hours_added(client, tutoring_api):
    sign_in(client)

    response = client.get("/tutoring/packages/pkg-paid/checkout")

    assert response.headers["Location"] == "/tutoring/packages/pkg-paid/done"
    html = client.get("/tutoring/packages/pkg-paid/done").get_data(as_text=True)
    assert "<h1>Hours added</h1>" in html
    assert "<strong>5 hours</strong> with Tom Tutor are in your credit" in html
    assert "<script" not in html


def test_package_done_polls_the_package_status_while_payment_is_pending(client, tutoring_api):
    sign_in(client)

    html = client.get("/tutoring/packages/pkg-pending/done").get_data(as_text=True)

    assert "Confirming your payment…" in html
    assert 'data-status-url="/tutoring/packages/pkg-pending/status"' in html
    assert '<a href="/my/tutoring">My tutoring</a> shows your credit' in html
    assert '<script src="/static/checkout.js" defer></script>' in html
    assert client.get("/tutoring/packages/pkg-pending/status").json == {
        "id": "pkg-pending",
        "status": "pending_payment",
    }
    tutoring_api.packages["pkg-pending"]["status"] = "paid"
    assert client.get("/tutoring/packages/pkg-pending/status").json["status"] == "paid"


def test_the_package_card_step_posts_the_token_to_the_packages_payment(
    client, tutoring_api, payments_api
):
    sign_in(client)
    csrf = csrf_from(client, "/tutoring/packages/pkg-pending/checkout")

    response = client.post(
        "/tutoring/packages/pkg-pending/card",
        json={"token": "tok_visa"},
        headers={"X-CSRF-Token": csrf},
    )

    assert response.status_code == 200
    assert response.get_json()["status"] == "succeeded"
    [call] = payments_api.calls_to("POST", "/api/payments/pay-pkg-pending/card")
    assert call.json == {"token": "tok_visa"}
    assert call.headers["Authorization"] == "Bearer access-1.student@example.org"


def test_the_package_card_step_refuses_a_paid_package_and_needs_csrf(
    client, tutoring_api, payments_api
):
    sign_in(client)
    csrf = csrf_from(client, "/my/tutoring")

    paid = client.post(
        "/tutoring/packages/pkg-paid/card",
        json={"token": "tok_visa"},
        headers={"X-CSRF-Token": csrf},
    )
    forged = client.post("/tutoring/packages/pkg-pending/card", json={"token": "tok_visa"})

    assert paid.status_code == 409
    assert paid.get_json() == {"detail": "This package can't be paid any more."}
    assert forged.status_code == 400
    assert payments_api.calls == []


def test_another_students_package_is_403(client, tutoring_api, payments_api):
    sign_in(client)
    csrf = csrf_from(client, "/my/tutoring")

    assert client.get("/tutoring/packages/pkg-other/checkout").status_code == 403
    card = client.post(
        "/tutoring/packages/pkg-other/card",
        json={"token": "tok_visa"},
        headers={"X-CSRF-Token": csrf},
    )
    assert card.status_code == 403
    assert payments_api.calls == []


def test_booking_a_session_confirms_then_posts_the_slot_and_zone(client, tutoring_api):
    sign_in(client)

    page = client.get(BOOK_SESSION).get_data(as_text=True)
    response = post(client, BOOK_SESSION, BOOK_SESSION)

    assert "Wed 4 Mar 2026, 20:30 Kolkata time (IST)" in page
    assert "uses one of your <strong>3 h</strong>" in page
    assert response.headers["Location"] == "/my/tutoring/sessions/ses-new/booked?tz=Asia/Kolkata"
    [call] = tutoring_api.calls_to("POST", "/api/sessions")
    assert call.json == {
        "tutor_id": "user-tutor",
        "starts_at": SESSION_SLOT,
        "time_zone": "Asia/Kolkata",
    }
    booked = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<h1>Session booked</h1>" in booked
    assert "Wed 4 Mar 2026, 20:30 Kolkata time (IST)" in booked


def test_booking_without_credit_shows_no_credit_and_offers_to_buy_hours(client, tutoring_api):
    sign_in(client)
    token = csrf_from(client, BOOK_SESSION)
    tutoring_api.credits = {}

    response = client.post(BOOK_SESSION, data={"csrf_token": token})

    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "You have no hours left with this tutor. Buy a package first." in html
    assert 'href="/tutoring/user-tutor?tz=Asia/Kolkata#hours">Buy hours</a>' in html


def test_booking_before_the_consultation_shows_consultation_first(client, tutoring_api):
    sign_in(client)
    path = BOOK_SESSION.replace("user-tutor", "user-tina")
    token = csrf_from(client, "/my/tutoring")

    response = client.post(path, data={"csrf_token": token})

    assert response.status_code == 409
    assert "Have your free consultation with this tutor first." in response.get_data(as_text=True)


def test_booking_a_session_needs_the_csrf_token(client, tutoring_api):
    sign_in(client)

    response = client.post(BOOK_SESSION)

    assert response.status_code == 400
    assert tutoring_api.calls_to("POST", "/api/sessions") == []


def test_my_tutoring_shows_credits_upcoming_sessions_and_past_lesson_notes(client, tutoring_api):
    sign_in(client)

    html = client.get("/my/tutoring?tz=Asia/Kolkata").get_data(as_text=True)

    assert "<strong>3 h</strong> with Tom Tutor" in html
    assert "Mon 4 Mar 2030, 20:30 Kolkata time (IST)" in html
    assert 'action="/my/tutoring/sessions/ses-booked/cancel?tz=Asia/Kolkata"' in html
    assert (
        'href="/my/tutoring/sessions/ses-booked/reschedule?tz=Asia/Kolkata">Reschedule</a>' in html
    )
    assert "Acid-base went well; next time: renal tubular acidosis." in html
    assert "hour returned" in html  # the cancelled one
    assert "ses-other" not in html


def test_cancelling_inside_24_hours_warns_that_the_hour_is_forfeited(client, tutoring_api):
    sign_in(client)

    html = client.get("/my/tutoring?tz=UTC").get_data(as_text=True)

    soon = html[html.index('id="session-ses-soon"') :]
    soon = soon[: soon.index("</article>")]
    assert "if you cancel now, the hour is forfeited" in soon
    assert "Cancel and forfeit the hour" in soon
    assert "/reschedule" not in soon
    later = html[html.index('id="session-ses-booked"') :]
    assert "forfeit" not in later[: later.index("</article>")]


def test_cancelling_a_session_posts_the_reason_and_says_where_the_hour_went(client, tutoring_api):
    sign_in(client)

    response = post(
        client,
        "/my/tutoring?tz=UTC",
        "/my/tutoring/sessions/ses-soon/cancel?tz=UTC",
        {"reason": "Sick"},
    )

    assert response.headers["Location"] == "/my/tutoring?tz=UTC"
    [call] = tutoring_api.calls_to("POST", "/api/sessions/ses-soon/cancel")
    assert call.json == {"reason": "Sick"}
    html = client.get("/my/tutoring?tz=UTC").get_data(as_text=True)
    assert "It was less than 24 hours away, so the hour is used." in html


def test_rescheduling_offers_session_slots_and_posts_the_new_time(client, tutoring_api):
    sign_in(client)
    page = "/my/tutoring/sessions/ses-booked/reschedule?tz=Asia/Kolkata"

    html = client.get(page).get_data(as_text=True)
    response = post(client, page, page, {"starts_at": "2026-03-05T16:00:00+00:00"})

    assert 'name="starts_at" value="2026-03-04T15:00:00+00:00"' in html
    assert ">20:30<" in html
    assert response.headers["Location"] == "/my/tutoring?tz=Asia/Kolkata"
    [call] = tutoring_api.calls_to("POST", "/api/sessions/ses-booked/reschedule")
    assert call.json == {"starts_at": "2026-03-05T16:00:00+00:00"}
    assert "moved to Thu 5 Mar 2026, 21:30 Kolkata time (IST)" in client.get(
        "/my/tutoring?tz=Asia/Kolkata"
    ).get_data(as_text=True)


def test_the_reschedule_picker_moves_to_the_day_asked_and_keeps_the_zone(client, tutoring_api):
    sign_in(client)
    page = "/my/tutoring/sessions/ses-booked/reschedule?tz=Asia/Kolkata"

    first = client.get(page).get_data(as_text=True)
    thursday = client.get(f"{page}&day=2026-03-05").get_data(as_text=True)

    assert '<form method="get" action="#times" class="slot-picker"' in first
    assert '<input type="hidden" name="tz" value="Asia/Kolkata">' in first
    assert '<h2 class="slot-date picker-chosen">Wed 4 Mar 2026</h2>' in first
    assert ">20:30<" in first and ">21:30<" not in first  # one day's times at a time
    assert '<h2 class="slot-date picker-chosen">Thu 5 Mar 2026</h2>' in thursday
    assert 'name="starts_at" value="2026-03-05T16:00:00+00:00"' in thursday
    assert 'value="2026-03-05" class="picker-day" aria-pressed="true">' in thursday


def test_a_refused_reschedule_shows_the_services_message(client, tutoring_api):
    sign_in(client)
    page = "/my/tutoring/sessions/ses-soon/reschedule?tz=UTC"

    response = post(client, page, page, {"starts_at": "2026-03-05T16:00:00+00:00"})

    assert response.status_code == 409
    assert "A session can only be moved until 24 hours before it starts." in response.get_data(
        as_text=True
    )


def test_a_student_gets_403_on_tutor_session_pages(client, tutoring_api):
    sign_in(client)
    token = csrf_from(client, "/my/tutoring")

    assert client.get("/tutor/sessions/ses-booked").status_code == 403
    complete = client.post(
        "/tutor/sessions/ses-booked/complete", data={"lesson_note": "x", "csrf_token": token}
    )
    assert complete.status_code == 403
    assert tutoring_api.calls_to("POST", "/api/sessions/ses-booked/complete") == []


def test_my_tutoring_lists_meetings_by_time_not_by_state(client, tutoring_api):
    """Upcoming, past and cancelled by their start: a cancelled future session is not "past",
    a booked one whose hour has come is no longer "upcoming" (the tutor's note is to come)."""
    sign_in(client)
    tutoring_api.add_session(
        "ses-called-off", "student@example.org", "cancelled", "2030-03-06T15:00:00+00:00"
    )
    began = (datetime.now(UTC) - timedelta(minutes=10)).isoformat()
    tutoring_api.add_session("ses-begun", "student@example.org", "booked", began)

    html = client.get("/my/tutoring?tz=UTC").get_data(as_text=True)

    upcoming = html[html.index('id="upcoming-sessions"') : html.index('id="past-sessions"')]
    past = html[html.index('id="past-sessions"') : html.index('id="cancelled-sessions"')]
    cancelled = html[html.index('id="cancelled-sessions"') : html.index('id="credits"')]
    assert 'id="session-ses-booked"' in upcoming and "Mon 4 Mar 2030, 15:00" in upcoming
    assert "ses-begun" not in upcoming and "ses-called-off" not in upcoming
    assert "Lesson note to come" in past and "Acid-base went well" in past
    assert "Wed 6 Mar 2030" not in past
    assert "Wed 6 Mar 2030, 15:00" in cancelled and "Sat 21 Feb 2026" in cancelled

    consultations = html[html.index('id="upcoming-consultations"') : html.index("Your calendar")]
    upcoming, past = consultations.split('id="past-consultations"')
    assert 'id="consultation-con-booked"' in upcoming
    assert "Completed" in past and "Mon 2 Mar 2026" in past
