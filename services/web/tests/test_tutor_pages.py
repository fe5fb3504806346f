"""Tutors' pages: dashboard, profile, availability, a consultation, its assessment and plan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.web.tests.conftest import csrf_from, sign_in

TUTOR = "tutor@example.org"


def post(client, page: str, action: str, data: dict | None = None):
    token = csrf_from(client, page)
    return client.post(action, data={**(data or {}), "csrf_token": token})


def begin(meetings: dict, meeting_id: str) -> None:
    """The meeting started five minutes ago: its tutor may now record how it went."""
    meetings[meeting_id]["starts_at"] = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()


def test_dashboard_lists_upcoming_consultations_in_the_tutors_zone(client, tutoring_api):
    sign_in(client, TUTOR)

    html = client.get("/tutor").get_data(as_text=True)

    # Tom Tutor's profile says Europe/London: 14:00 UTC on 2 March is 14:00 GMT.
    assert "Mon 2 Mar 2026, 14:00 London time (GMT)" in html
    assert "Sam Student" in html
    assert 'href="/tutor/consultations/con-booked">Open</a>' in html
    assert "con-other" not in html  # another tutor's
    assert 'href="/tutor">Tutor dashboard</a>' in html
    assert "My tutoring" not in html


def test_profile_form_puts_the_profile_with_the_rate_in_minor_units(client, tutoring_api):
    sign_in(client, TUTOR)

    response = post(
        client,
        "/tutor/profile",
        "/tutor/profile",
        {
            "bio": "Step 1 specialist.",
            "exams": ["step1"],
            "time_zone": "Asia/Kolkata",
            "rate": "95.50",
            "currency": "usd",
            "photo_url": "",
        },
    )

    assert response.headers["Location"] == "/tutor/profile"
    [call] = tutoring_api.calls_to("PUT", "/api/tutors/me")
    assert call.json == {
        "bio": "Step 1 specialist.",
        "exams": ["step1"],
        "time_zone": "Asia/Kolkata",
        "session_rate_minor": 9550,
        "currency": "USD",
        "photo_url": None,
    }


def test_profile_form_starts_from_the_saved_profile(client, tutoring_api):
    sign_in(client, TUTOR)

    html = client.get("/tutor/profile").get_data(as_text=True)

    assert "Former NBME item writer" in html
    assert 'value="120.00"' in html
    assert '<option value="Europe/London" selected>' in html


def test_availability_editor_shows_weekly_windows_overrides_and_time_off(client, tutoring_api):
    sign_in(client, TUTOR)

    html = client.get("/tutor/availability").get_data(as_text=True)

    assert 'name="w0_0_start" value="09:00"' in html and 'name="w0_1_end" value="17:00"' in html
    assert 'name="w2_0_start" value="10:00"' in html
    assert 'name="w1_0_start" value=""' in html
    assert "Wed 11 Mar 2026" in html and "not available" in html
    assert "Wed 1 Apr 2026, 01:00 London time (BST)" in html  # time off, on the tutor's clock
    assert 'action="/tutor/time-off/off-1/remove"' in html


def test_saving_weekly_hours_puts_every_window_and_keeps_the_overrides(client, tutoring_api):
    sign_in(client, TUTOR)

    response = post(
        client,
        "/tutor/availability",
        "/tutor/availability/weekly",
        {"w0_0_start": "08:00", "w0_0_end": "11:00", "w4_1_start": "13:00", "w4_1_end": "15:30"},
    )

    assert response.headers["Location"] == "/tutor/availability"
    [call] = tutoring_api.calls_to("PUT", "/api/tutors/me/availability")
    assert call.json == {
        "weekly": [
            {"weekday": 0, "start": "08:00", "end": "11:00"},
            {"weekday": 4, "start": "13:00", "end": "15:30"},
        ],
        "overrides": [{"day": "2026-03-11", "windows": []}],
    }


def test_a_half_filled_window_is_refused_before_anything_is_saved(client, tutoring_api):
    sign_in(client, TUTOR)

    response = post(
        client, "/tutor/availability", "/tutor/availability/weekly", {"w3_0_start": "09:00"}
    )

    assert response.status_code == 422
    assert "Enter both the start and the end" in response.get_data(as_text=True)
    assert tutoring_api.calls_to("PUT", "/api/tutors/me/availability") == []


def test_adding_and_removing_a_date_override(client, tutoring_api):
    sign_in(client, TUTOR)

    post(
        client,
        "/tutor/availability",
        "/tutor/availability/overrides",
        {"day": "2026-03-20", "o_0_start": "18:00", "o_0_end": "20:00"},
    )
    post(client, "/tutor/availability", "/tutor/availability/overrides/2026-03-11/remove")

    added, removed = tutoring_api.calls_to("PUT", "/api/tutors/me/availability")
    assert added.json["overrides"] == [
        {"day": "2026-03-11", "windows": []},
        {"day": "2026-03-20", "windows": [{"start": "18:00", "end": "20:00"}]},
    ]
    assert removed.json["overrides"] == [
        {"day": "2026-03-20", "windows": [{"start": "18:00", "end": "20:00"}]}
    ]


def test_time_off_is_sent_in_utc_from_the_tutors_clock_and_can_be_removed(client, tutoring_api):
    sign_in(client, TUTOR)

    post(
        client,
        "/tutor/availability",
        "/tutor/time-off",
        {"starts_at": "2026-07-01T09:00", "ends_at": "2026-07-03T18:00"},
    )
    post(client, "/tutor/availability", "/tutor/time-off/off-1/remove")

    [call] = tutoring_api.calls_to("POST", "/api/tutors/me/time-off")
    assert call.json == {  # London is on BST (UTC+1) in July
        "starts_at": "2026-07-01T08:00:00+00:00",
        "ends_at": "2026-07-03T17:00:00+00:00",
    }
    assert len(tutoring_api.calls_to("DELETE", "/api/tutors/me/time-off/off-1")) == 1


def test_consultation_page_shows_the_intake_and_the_actions(client, tutoring_api):
    sign_in(client, TUTOR)

    html = client.get("/tutor/consultations/con-booked").get_data(as_text=True)

    assert "Sam Student" in html and "student@example.org" in html
    assert "USMLE Step 1 on Mon 15 Jun 2026" in html
    assert "Hematology &amp; oncology" in html
    # Still to come: it can be cancelled, but not yet marked completed or a no-show, nor
    # assessed or planned (tutoring would refuse all four).
    assert 'href="/tutor/consultations/con-booked/cancel">Cancel…</a>' in html
    for action in ("complete", "no-show", "assessment", "plan"):
        assert f'action="/tutor/consultations/con-booked/{action}"' not in html
    assert "Generate study plan" not in html and "<textarea" not in html
    assert "You can mark it completed or a no-show once it has started, at Mon 4 Mar 2030" in html
    assert "You can write your assessment once the consultation has started, at Mon 4 Mar" in html

    begin(tutoring_api.consultations, "con-booked")
    html = client.get("/tutor/consultations/con-booked").get_data(as_text=True)

    for action in ("complete", "no-show", "assessment"):
        assert f'action="/tutor/consultations/con-booked/{action}"' in html
    assert "once it has started" not in html
    assert "Complete and save assessment" in html
    # The plan needs a completed consultation: the page says so instead of offering it.
    assert 'action="/tutor/consultations/con-booked/plan"' not in html
    assert "generate the study plan once the consultation is marked completed" in html


def test_completing_a_consultation_before_it_starts_shows_tutorings_refusal(client, tutoring_api):
    sign_in(client, TUTOR)
    page = "/tutor/consultations/con-booked"

    response = post(client, page, f"{page}/complete")  # a page left open, or a crafted post

    assert response.status_code == 409
    assert "it can be completed once it has started" in response.get_data(as_text=True)
    assert tutoring_api.consultations["con-booked"]["status"] == "booked"


@pytest.mark.parametrize("action", ["complete", "no-show", "cancel"])
def test_consultation_actions_post_to_tutoring(client, tutoring_api, action):
    sign_in(client, TUTOR)
    begin(tutoring_api.consultations, "con-booked")
    page = "/tutor/consultations/con-booked"

    response = post(client, page, f"{page}/{action}")

    assert response.headers["Location"] == page
    assert len(tutoring_api.calls_to("POST", f"/api/consultations/con-booked/{action}")) == 1


def test_a_tutor_confirms_before_a_consultation_is_cancelled(client, tutoring_api):
    sign_in(client, TUTOR)
    page = "/tutor/consultations/con-booked"

    confirm = client.get(f"{page}/cancel")

    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200
    assert "Cancel the consultation with Sam Student?" in html
    assert "The student gets an email saying so" in html
    assert f'action="{page}/cancel"' in html and f'href="{page}">No, keep it</a>' in html
    assert tutoring_api.calls_to("POST", "/api/consultations/con-booked/cancel") == []

    response = post(client, f"{page}/cancel", f"{page}/cancel", {"reason": "Ill"})

    assert response.headers["Location"] == page
    [call] = tutoring_api.calls_to("POST", "/api/consultations/con-booked/cancel")
    assert call.json == {"reason": "Ill"}
    again = client.get(f"{page}/cancel").get_data(as_text=True)
    assert "can't be cancelled: it is cancelled" in again and "Yes, cancel" not in again


TYPED = {"strengths": "Physiology", "weaknesses": "Renal acid-base", "goals": "240+ by June"}


def test_saving_the_assessment_during_the_meeting_completes_it_then_a_plan_is_posted(
    client, tutoring_api
):
    sign_in(client, TUTOR)
    begin(tutoring_api.consultations, "con-booked")
    page = "/tutor/consultations/con-booked"

    saved_response = post(client, page, f"{page}/assessment", TYPED)
    assert saved_response.headers["Location"] == page
    assert len(tutoring_api.calls_to("POST", "/api/consultations/con-booked/complete")) == 1
    assert tutoring_api.consultations["con-booked"]["status"] == "completed"
    assert "Complete and save assessment" not in client.get(page).get_data(as_text=True)

    response = post(client, page, f"{page}/plan")

    [saved] = tutoring_api.calls_to("PUT", "/api/consultations/con-booked/assessment")
    assert saved.json == TYPED
    [generated] = tutoring_api.calls_to("POST", "/api/consultations/con-booked/plan")
    assert generated.json == {}
    assert response.headers["Location"] == f"{page}#plan"
    html = client.get(page).get_data(as_text=True)
    assert 'class="plan-day plan-checkpoint"' in html
    assert 'value="Renal acid-base"' not in html and ">Renal acid-base</textarea>" in html


def _typed_text_is_back(html: str) -> None:
    for name, value in TYPED.items():
        assert f'name="{name}" rows="3">{value}</textarea>' in html


def test_an_assessment_posted_before_the_start_is_refused_with_the_typed_text_kept(
    client, tutoring_api
):
    sign_in(client, TUTOR)
    page = "/tutor/consultations/con-booked"
    token = csrf_from(client, page)
    begin(tutoring_api.consultations, "con-booked")
    client.get(page)  # the form as the tutor saw it during the meeting...
    tutoring_api.consultations["con-booked"]["starts_at"] = "2030-03-04T14:00:00+00:00"

    response = client.post(f"{page}/assessment", data={**TYPED, "csrf_token": token})

    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "it can be completed once it has started" in html
    assert tutoring_api.calls_to("PUT", "/api/consultations/con-booked/assessment") == []
    _typed_text_is_back(html)


def test_an_assessment_tutoring_refuses_comes_back_with_exactly_what_was_typed(
    client, tutoring_api
):
    sign_in(client, TUTOR)
    begin(tutoring_api.consultations, "con-booked")
    page = "/tutor/consultations/con-booked"
    token = csrf_from(client, page)
    tutoring_api.consultations["con-booked"]["status"] = "no_show"  # marked in another tab

    response = client.post(f"{page}/assessment", data={**TYPED, "csrf_token": token})

    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "A no_show consultation has no assessment; complete it first" in html
    assert tutoring_api.consultations["con-booked"]["assessment"] is None
    _typed_text_is_back(html)


def test_a_refused_plan_keeps_the_saved_assessment_on_the_page(client, tutoring_api):
    sign_in(client, TUTOR)
    page = "/tutor/consultations/con-done"
    tutoring_api.consultations["con-done"]["assessment"] = dict(TYPED)
    token = csrf_from(client, page)
    tutoring_api.consultations["con-done"]["status"] = "booked"  # a stale page

    response = client.post(f"{page}/plan", data={"csrf_token": token})

    assert response.status_code == 409
    assert "complete it first" in response.get_data(as_text=True)
    _typed_text_is_back(response.get_data(as_text=True))


def test_plan_editor_puts_only_the_changed_days(client, tutoring_api):
    sign_in(client, TUTOR)
    page = "/tutor/consultations/con-done"
    html = client.get(page).get_data(as_text=True)
    assert 'name="blocks-2026-03-05" value="Renal 3"' in html
    assert 'name="kind-2026-03-10"' not in html  # the exam day stays the exam day

    response = post(
        client,
        page,
        f"{page}/plan/edit",
        {
            "kind-2026-03-05": "study",
            "blocks-2026-03-05": "Renal 2, Hematology & oncology 1.5h",
            "kind-2026-03-06": "free",
            "blocks-2026-03-06": "Anatomy 2.5",
            "kind-2026-03-07": "free",
            "blocks-2026-03-07": "",
        },
    )

    assert response.headers["Location"] == f"{page}#plan"
    [call] = tutoring_api.calls_to("PUT", "/api/plans/plan-1")
    assert call.json == {
        "changes": [
            {
                "day": "2026-03-05",
                "blocks": [
                    {"area": "renal", "hours": 2.0},
                    {"area": "hematology-oncology", "hours": 1.5},
                ],
            },
            {"day": "2026-03-06", "kind": "free"},
        ]
    }
    assert "Plan saved as version 2." in client.get(page).get_data(as_text=True)


def test_unreadable_plan_blocks_are_refused_without_saving(client, tutoring_api):
    sign_in(client, TUTOR)
    page = "/tutor/consultations/con-done"

    response = post(client, page, f"{page}/plan/edit", {"blocks-2026-03-05": "lots of renal"})

    assert response.status_code == 422
    assert "write blocks as area and hours" in response.get_data(as_text=True)
    assert tutoring_api.calls_to("PUT", "/api/plans/plan-1") == []


@pytest.mark.parametrize(
    "page",
    ["/tutor", "/tutor/profile", "/tutor/availability", "/tutor/consultations/con-booked"],
)
def test_a_student_gets_403_on_tutor_pages(client, tutoring_api, page):
    sign_in(client, "student@example.org")

    response = client.get(page)

    assert response.status_code == 403
    assert "You don&#39;t have access to this page" in response.get_data(as_text=True)


def test_tutor_pages_send_a_signed_out_visitor_to_sign_in(client, tutoring_api):
    assert client.get("/tutor").headers["Location"] == "/login?next=%2Ftutor"


def test_a_tutor_cannot_open_another_tutors_consultation(client, tutoring_api):
    sign_in(client, TUTOR)

    assert client.get("/tutor/consultations/con-other").status_code == 403


NEW_FORMS = [
    ("/tutoring/user-tutor/book?starts_at=2026-03-02T14:00:00%2B00:00&tz=UTC", "student"),
    ("/my/tutoring/consultations/con-booked/cancel", "student"),
    ("/tutor/profile", "tutor"),
    ("/tutor/availability/weekly", "tutor"),
    ("/tutor/availability/overrides", "tutor"),
    ("/tutor/availability/overrides/2026-03-11/remove", "tutor"),
    ("/tutor/time-off", "tutor"),
    ("/tutor/time-off/off-1/remove", "tutor"),
    ("/tutor/consultations/con-booked/complete", "tutor"),
    ("/tutor/consultations/con-booked/assessment", "tutor"),
    ("/tutor/consultations/con-booked/plan", "tutor"),
    ("/tutor/consultations/con-done/plan/edit", "tutor"),
]


@pytest.mark.parametrize(("action", "role"), NEW_FORMS)
def test_post_without_csrf_token_is_refused_and_nothing_reaches_tutoring(
    client, tutoring_api, action, role
):
    sign_in(client, f"{role}@example.org")
    tutoring_api.reset()

    response = client.post(action, data={"weekly_hours": "5", "bio": "x"})

    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert [c for c in tutoring_api.calls if c.method != "GET"] == []


@pytest.mark.parametrize(
    ("page", "email"),
    [
        ("/tutoring/user-tutor/book?starts_at=2026-03-02T14:00:00%2B00:00&tz=UTC", "student"),
        ("/my/tutoring?tz=UTC", "student"),
        ("/tutor/profile", "tutor"),
        ("/tutor/availability", "tutor"),
        ("/tutor/consultations/con-done", "tutor"),
    ],
)
def test_every_post_form_on_the_tutoring_pages_carries_a_csrf_token(
    client, tutoring_api, page, email
):
    sign_in(client, f"{email}@example.org")

    html = client.get(page).get_data(as_text=True)

    assert html.count('method="post"') == html.count('name="csrf_token"')
    assert html.count('method="post"') >= 2


def test_dashboard_lists_upcoming_sessions_in_the_tutors_zone(client, tutoring_api):
    sign_in(client, TUTOR)

    html = client.get("/tutor").get_data(as_text=True)

    sessions = html[html.index("Upcoming sessions") : html.index("Upcoming consultations")]
    # 15:00 UTC on 4 March 2030 is 15:00 GMT in London.
    assert "Mon 4 Mar 2030, 15:00 London time (GMT)" in sessions
    assert 'href="/tutor/sessions/ses-booked">Open</a>' in sessions
    assert "ses-done" not in sessions and "ses-other" not in sessions
    cancelled = html[html.index('id="cancelled"') :]
    assert 'href="/tutor/sessions/ses-cancelled">Open</a>' in cancelled
    assert '<td data-label="Meeting">Session</td>' in cancelled
    assert "Sat 21 Feb 2026, 15:00 London time (GMT)" in cancelled


def test_session_page_offers_cancel_before_and_the_lesson_note_after_the_start(
    client, tutoring_api
):
    sign_in(client, TUTOR)

    html = client.get("/tutor/sessions/ses-booked").get_data(as_text=True)

    assert "Session with Sam Student" in html
    assert 'action="/tutor/sessions/ses-booked/cancel"' in html
    assert 'action="/tutor/sessions/ses-booked/complete"' not in html
    assert 'name="lesson_note"' not in html
    assert "once it has started, at Mon 4 Mar 2030" in html
    assert html.count('name="csrf_token"') == html.count('method="post"')  # CSRF on every form

    begin(tutoring_api.sessions, "ses-booked")
    html = client.get("/tutor/sessions/ses-booked").get_data(as_text=True)

    assert 'action="/tutor/sessions/ses-booked/complete"' in html
    assert '<textarea id="lesson_note" name="lesson_note"' in html
    assert "Complete and send lesson note" in html
    assert 'action="/tutor/sessions/ses-booked/cancel"' not in html  # started: too late
    assert html.count('name="csrf_token"') == html.count('method="post"')


def test_completing_a_session_posts_the_lesson_note(client, tutoring_api):
    sign_in(client, TUTOR)
    begin(tutoring_api.sessions, "ses-booked")

    response = post(
        client,
        "/tutor/sessions/ses-booked",
        "/tutor/sessions/ses-booked/complete",
        {"lesson_note": "Covered nephritic vs nephrotic.\nNext: acid-base."},
    )

    assert response.headers["Location"] == "/tutor/sessions/ses-booked"
    [call] = tutoring_api.calls_to("POST", "/api/sessions/ses-booked/complete")
    assert call.json == {"lesson_note": "Covered nephritic vs nephrotic.\nNext: acid-base."}
    html = client.get("/tutor/sessions/ses-booked").get_data(as_text=True)
    assert "Covered nephritic vs nephrotic." in html
    assert "the lesson note is on its way to the student" in html


def test_completing_without_a_note_is_refused_next_to_the_field(client, tutoring_api):
    sign_in(client, TUTOR)
    begin(tutoring_api.sessions, "ses-booked")

    response = post(
        client,
        "/tutor/sessions/ses-booked",
        "/tutor/sessions/ses-booked/complete",
        {"lesson_note": "  "},
    )

    assert response.status_code == 422
    assert 'id="lesson_note-error">Write the lesson note' in response.get_data(as_text=True)
    assert tutoring_api.calls_to("POST", "/api/sessions/ses-booked/complete") == []


def test_a_tutor_cancelling_a_session_posts_the_reason(client, tutoring_api):
    sign_in(client, TUTOR)

    response = post(
        client,
        "/tutor/sessions/ses-booked",
        "/tutor/sessions/ses-booked/cancel",
        {"reason": "Conference"},
    )

    assert response.headers["Location"] == "/tutor/sessions/ses-booked"
    [call] = tutoring_api.calls_to("POST", "/api/sessions/ses-booked/cancel")
    assert call.json == {"reason": "Conference"}


def test_another_tutors_session_is_403(client, tutoring_api):
    sign_in(client, TUTOR)

    assert client.get("/tutor/sessions/ses-other").status_code == 403


def test_session_forms_need_the_csrf_token(client, tutoring_api):
    sign_in(client, TUTOR)

    response = client.post("/tutor/sessions/ses-booked/complete", data={"lesson_note": "Done"})

    assert response.status_code == 400
    assert tutoring_api.calls_to("POST", "/api/sessions/ses-booked/complete") == []


def test_admins_see_every_tutor_with_their_settings(client, tutoring_api):
    sign_in(client, "admin@example.org")

    response = client.get("/admin/tutors")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Dr Rao" in html and "New York time (E" in html and "No bio yet" in html


def test_students_cannot_see_the_tutor_list_for_admins(client, tutoring_api):
    sign_in(client)

    assert client.get("/admin/tutors").status_code == 403
