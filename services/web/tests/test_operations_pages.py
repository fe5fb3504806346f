"""Admin → Operations: every service's outbox, dead letters and last events on one page."""

from __future__ import annotations

import pytest

from services.web.tests.conftest import csrf_from, sign_in

LETTER = {
    "message_id": "9a1f0e64-2f7c-4c55-9d4e-3d1f3c2b7a10",
    "type": "enrollment.activated",
    "attempts": 5,
    "error": "RuntimeError: moderation store unavailable",
    "dead_lettered_at": "2026-11-30T09:15:00+00:00",
    "correlation_id": "flow-123",
    "data": {"student_id": "s-1"},
}


def report(service: str, **changes) -> dict:
    return {
        "service": service,
        "outbox": {"backlog": 0, "oldest_age_seconds": None},
        "last_events": [],
        "dead_letters": [],
        "problems": [],
        **changes,
    }


def test_the_page_shows_each_service_its_backlog_dead_letters_and_last_events(
    client, testimonials_api, email_api
):
    testimonials_api.answer(
        "GET",
        "/api/admin/operations",
        200,
        report(
            "testimonials",
            outbox={"backlog": 3, "oldest_age_seconds": 12.5},
            dead_letters=[LETTER],
            last_events=[
                {
                    "id": "e-42",
                    "type": "session.completed",
                    "handled_at": "2026-11-30T09:00:00+00:00",
                }
            ],
        ),
    )
    sign_in(client, "admin@example.org")

    response = client.get("/admin/operations")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for service in ("identity", "email", "enrollment", "payments", "tutoring", "testimonials"):
        assert f'id="service-{service}"' in html
    assert "N/A: the site keeps no data" in html
    testimonials = html.split('id="service-testimonials"')[1].split('id="service-')[0]
    assert '<dd data-figure="backlog">3</dd>' in testimonials
    assert "12.5 s" in testimonials
    assert LETTER["message_id"] in testimonials and "moderation store unavailable" in testimonials
    assert "Replay all 1" in testimonials
    assert "session.completed" in testimonials and "e-42" in testimonials
    [call] = email_api.calls_to("GET", "/api/admin/operations")
    assert call.headers["Authorization"] == "Bearer access-1.admin@example.org"
    assert 'href="/admin/operations"' in html  # in the admin navigation


def test_a_service_that_does_not_answer_is_named_and_the_page_still_renders(
    client, tutoring_api, payments_api, nothing_listening, monkeypatch
):
    monkeypatch.setenv("TUTORING_URL", nothing_listening)
    payments_api.answer("GET", "/api/admin/operations", 503, {"detail": "Database down"})
    sign_in(client, "admin@example.org")

    response = client.get("/admin/operations")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "tutoring is unreachable" in html
    assert "payments is unreachable (HTTP 503)" in html
    assert 'id="service-testimonials"' in html and "No dead letters." in html


def test_replaying_one_letter_asks_its_service_and_says_how_many(client, testimonials_api):
    sign_in(client, "admin@example.org")
    token = csrf_from(client, "/admin/operations")

    response = client.post(
        "/admin/operations/testimonials/replay",
        data={"message_id": LETTER["message_id"], "csrf_token": token},
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/operations#service-testimonials"
    [call] = testimonials_api.calls_to("POST", "/api/admin/operations/dead-letters/replay")
    assert call.json == {"ids": [LETTER["message_id"]]}
    assert "Replayed 1 dead letter of testimonials." in client.get("/admin/operations").get_data(
        as_text=True
    )


def test_replay_all_sends_all_true(client, email_api):
    sign_in(client, "admin@example.org")
    token = csrf_from(client, "/admin/operations")

    client.post("/admin/operations/email/replay", data={"all": "1", "csrf_token": token})

    [call] = email_api.calls_to("POST", "/api/admin/operations/dead-letters/replay")
    assert call.json == {"all": True}


def test_a_replay_for_an_unknown_service_or_without_csrf_is_refused(client, email_api):
    sign_in(client, "admin@example.org")
    token = csrf_from(client, "/admin/operations")

    unknown = client.post("/admin/operations/web/replay", data={"all": "1", "csrf_token": token})
    forged = client.post("/admin/operations/email/replay", data={"all": "1"})

    assert (unknown.status_code, forged.status_code) == (404, 400)
    assert email_api.calls_to("POST", "/api/admin/operations/dead-letters/replay") == []


@pytest.mark.parametrize("who", ["student@example.org", "marketing@example.org"])
def test_operations_are_for_admins_only(client, email_api, who):
    sign_in(client, who)

    assert client.get("/admin/operations").status_code == 403
    token = csrf_from(client, "/account")
    refused = client.post("/admin/operations/email/replay", data={"all": "1", "csrf_token": token})
    assert refused.status_code == 403
    assert email_api.calls_to("GET", "/api/admin/operations") == []


def test_a_signed_out_visitor_is_sent_to_sign_in(client):
    assert client.get("/admin/operations").headers["Location"].startswith("/login?next=")
