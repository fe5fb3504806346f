"""My enrollments: status, dates, paying a pending one, deferring and asking for a refund."""

from __future__ import annotations

from services.web.tests.conftest import csrf_from, sign_in


def post(client, path: str, data: dict | None = None):
    token = csrf_from(client, "/my/enrollments")
    return client.post(path, data={**(data or {}), "csrf_token": token})


def test_my_enrollments_lists_each_with_status_dates_and_access_end(client, enrollment_api):
    sign_in(client, "student@example.org")

    html = client.get("/my/enrollments").get_data(as_text=True)

    assert html.count('class="page-card enrollment"') == 2  # not the other student's
    assert "Awaiting payment" in html and "Active" in html
    assert "Mon 2 Mar 2026 \u2013 Sun 24 May 2026" in html
    assert "Tue 30 Jun 2026" in html
    assert 'href="/checkout/enr-pending">Pay now</a>' in html
    [call] = enrollment_api.calls_to("GET", "/api/enrollments")
    assert call.headers["Authorization"] == "Bearer access-1.student@example.org"


def test_an_ended_enrollment_shows_no_access_date(client, enrollment_api):
    for ended in ("refunded", "cancelled", "expired"):
        record = enrollment_api.add_enrollment(f"enr-{ended}", "student@example.org", ended)
        record["refunded_minor"] = 149900
    sign_in(client, "student@example.org")

    html = client.get("/my/enrollments").get_data(as_text=True)

    assert html.count('class="page-card enrollment"') == 5
    assert html.count("<dt>Access until</dt>") == 2  # the active and the pending one only
    for ended in ("refunded", "cancelled", "expired"):
        card = html.split(f'id="enrollment-enr-{ended}"', 1)[1].split("</article>", 1)[0]
        assert "Access until" not in card


def test_an_active_enrollment_can_defer_only_to_later_open_cycles(client, enrollment_api):
    sign_in(client)

    html = client.get("/my/enrollments").get_data(as_text=True)

    assert 'action="/my/enrollments/enr-active/defer"' in html
    assert '<option value="2026-04-27">' in html and '<option value="2026-05-25">' in html
    assert '<option value="2026-03-02">' not in html  # its own cycle
    assert '<option value="2026-03-30">' not in html  # full
    assert 'href="/my/enrollments/enr-active/refund"' in html  # asks first, see below
    assert "/my/enrollments/enr-pending/refund" not in html
    assert "/my/enrollments/enr-pending/defer" not in html


def test_a_refund_is_confirmed_on_a_page_of_its_own_before_it_is_requested(client, enrollment_api):
    sign_in(client)

    html = client.get("/my/enrollments/enr-active/refund").get_data(as_text=True)

    assert "Request a refund of USMLE Step 1 Prep?" in html
    assert 'action="/my/enrollments/enr-active/refund"' in html
    assert "Yes, refund $1,499.00" in html and 'href="/my/enrollments">No, keep' in html
    assert enrollment_api.calls_to("POST", "/api/enrollments/enr-active/refund") == []


def test_deferring_posts_the_chosen_cycle(client, enrollment_api):
    sign_in(client)

    response = post(client, "/my/enrollments/enr-active/defer", {"cycle_start": "2026-04-27"})

    assert response.headers["Location"] == "/my/enrollments"
    [call] = enrollment_api.calls_to("POST", "/api/enrollments/enr-active/defer")
    assert call.json == {"cycle_start": "2026-04-27"}
    assert call.headers["Authorization"] == "Bearer access-1.student@example.org"
    assert "moved to the later cycle" in client.get("/my/enrollments").get_data(as_text=True)


def test_a_refused_deferral_is_shown_on_that_enrollment(client, enrollment_api):
    enrollment_api.answer(
        "POST",
        "/api/enrollments/enr-active/defer",
        409,
        {"detail": "You have already deferred this enrollment once"},
    )
    sign_in(client)

    response = post(client, "/my/enrollments/enr-active/defer", {"cycle_start": "2026-04-27"})

    assert response.status_code == 409
    assert "You have already deferred this enrollment once" in response.get_data(as_text=True)


def test_requesting_a_refund_posts_and_confirms(client, enrollment_api):
    sign_in(client)

    response = post(client, "/my/enrollments/enr-active/refund")

    assert response.headers["Location"] == "/my/enrollments"
    [call] = enrollment_api.calls_to("POST", "/api/enrollments/enr-active/refund")
    assert call.headers["Authorization"] == "Bearer access-1.student@example.org"
    html = client.get("/my/enrollments").get_data(as_text=True)
    assert "Your refund is requested." in html
    assert "Refund under way" in html and ">Active</span>" not in html
    # nothing more to ask of it: no second refund, no deferral while the money goes back
    assert "/my/enrollments/enr-active/refund" not in html
    assert "/my/enrollments/enr-active/defer" not in html
    confirm = client.get("/my/enrollments/enr-active/refund").get_data(as_text=True)
    assert "a refund is already under way" in confirm and "Yes, refund" not in confirm


def test_a_refund_outside_the_window_shows_the_reason(client, enrollment_api):
    enrollment_api.answer(
        "POST",
        "/api/enrollments/enr-active/refund",
        422,
        {
            "detail": "Refunds close 14 days after the cycle starts",
            "errors": {"cycle_start": ["Refunds close 14 days after the cycle starts"]},
        },
    )
    sign_in(client)

    response = post(client, "/my/enrollments/enr-active/refund")

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<div class="form-alert" role="alert"><p>Refunds close 14 days after' in html
    assert 'id="enrollment-enr-active"' in html


def test_acting_on_another_students_enrollment_is_403(client, enrollment_api):
    sign_in(client, "student@example.org")

    response = post(client, "/my/enrollments/enr-other/refund")

    assert response.status_code == 403


def test_my_enrollments_requires_sign_in(client):
    assert client.get("/my/enrollments").headers["Location"] == "/login?next=%2Fmy%2Fenrollments"


def test_a_student_without_enrollments_is_offered_the_catalogue(client, enrollment_api):
    sign_in(client, "newcomer@example.org")

    html = client.get("/my/enrollments").get_data(as_text=True)

    assert "You haven't enrolled in a course yet." in html
    assert 'href="/courses">Browse courses</a>' in html
