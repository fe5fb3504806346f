"""Tutoring for students: tutors, slots in their own zone, booking, and My tutoring."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from services.web.tests.conftest import csrf_from, sign_in

SLOT = "2026-03-02T14:00:00+00:00"
BOOK = f"/tutoring/user-tutor/book?starts_at={quote(SLOT)}&tz=Asia/Kolkata"
INTAKE_FORM = {
    "exam": "step1",
    "exam_date": "2026-06-15",
    "attempts": "1",
    "weekly_hours": "25",
    "weak_areas": ["renal", "hematology-oncology"],
}


def book(client, path: str = BOOK, data: dict | None = None):
    token = csrf_from(client, path)
    return client.post(path, data={**INTAKE_FORM, **(data or {}), "csrf_token": token})


def test_tutors_page_shows_each_tutor_with_bio_exams_and_rate(client, tutoring_api):
    html = client.get("/tutoring").get_data(as_text=True)

    assert "Tom Tutor" in html and "Tina Teach" in html
    assert "Former NBME item writer" in html
    assert "USMLE Step 2 CK" in html
    assert "$120.00" in html and "$90.00" in html
    assert 'href="/tutoring/user-tutor"' in html


def test_slots_are_grouped_by_day_in_the_viewers_own_zone(client, tutoring_api):
    kolkata = client.get("/tutoring/user-tutor?tz=Asia/Kolkata").get_data(as_text=True)
    next_day = client.get("/tutoring/user-tutor?tz=Asia/Kolkata&day=2026-03-03").get_data(
        as_text=True
    )
    new_york = client.get("/tutoring/user-tutor?tz=America/New_York").get_data(as_text=True)

    # 14:00 UTC is 19:30 in Kolkata and 09:00 in New York; 23:30 UTC is the next day in Kolkata.
    assert ">19:30<" in kolkata and ">05:00<" not in kolkata  # one day's times at a time
    assert ">05:00<" in next_day and "Tue 3 Mar 2026" in next_day
    assert ">09:00<" in new_york and ">18:30<" in new_york and "Tue 3 Mar 2026" not in new_york
    assert 'name="day" value="2026-03-03" class="picker-day" aria-pressed="false">' in kolkata
    assert 'name="day" value="2026-03-03" class="picker-day" aria-pressed="false" disabled>' in (
        new_york
    )
    assert "All times are in <strong>Kolkata time (IST)</strong>" in kolkata
    assert "All times are in <strong>New York time (E" in new_york
    assert len(tutoring_api.calls_to("GET", "/api/tutors/user-tutor/slots")) == 3


def test_the_picker_shows_the_first_free_week_and_keeps_the_zone_when_moving(client, tutoring_api):
    html = client.get("/tutoring/user-tutor?tz=Asia/Kolkata").get_data(as_text=True)
    picker = html[html.index('<form method="get" action="#slots" class="slot-picker"') :]
    picker = picker[: picker.index("</form>")]

    assert '<input type="hidden" name="tz" value="Asia/Kolkata">' in picker
    assert "Week of </span>2 to 8 Mar 2026" in picker
    assert 'name="week" value="" class="button button-ghost button-small picker-move" disabled' in (
        picker
    )  # one week of times: nowhere to go either way
    assert picker.count('aria-pressed="false" disabled>') == 5  # Wed to Sun have no times
    # The only week is the last: the page says why nothing later shows (tutoring's horizon).
    assert "Times open up to 4 weeks ahead; later weeks open as days pass." in picker
    assert 'value="2026-03-02" class="picker-day" aria-pressed="true">' in picker
    assert '<h3 class="slot-date picker-chosen">Mon 2 Mar 2026</h3>' in html


@pytest.mark.parametrize("asked", ["week=soon", "week=2026-02-30", "day=%00", "day=2031-01-01"])
def test_a_week_or_day_the_picker_cannot_read_shows_the_first_week(client, tutoring_api, asked):
    response = client.get(f"/tutoring/user-tutor?tz=UTC&{asked}")

    assert response.status_code == 200
    assert "2 to 8 Mar 2026" in response.get_data(as_text=True)


def test_slots_page_asks_the_browser_for_its_zone_and_falls_back_to_utc(client, tutoring_api):
    html = client.get("/tutoring/user-tutor").get_data(as_text=True)

    assert "data-detect-zone" in html
    assert 'src="/static/timezone.js"' in html
    assert "<script>" not in html  # no inline script: the CSP forbids it
    assert "All times are in <strong>UTC</strong>" in html
    assert '<select id="tz" name="tz">' in html
    assert "data-detect-zone" not in client.get("/tutoring/user-tutor?tz=UTC").get_data(
        as_text=True
    )


def test_an_unknown_zone_is_shown_as_utc(client, tutoring_api):
    html = client.get("/tutoring/user-tutor?tz=Mars/Olympus").get_data(as_text=True)

    assert "All times are in <strong>UTC</strong>" in html
    assert ">14:00<" in html


def test_a_slot_links_to_the_booking_form_with_its_time_and_zone(client, tutoring_api):
    html = client.get("/tutoring/user-tutor?tz=Asia/Kolkata").get_data(as_text=True)

    assert (
        'href="/tutoring/user-tutor/book?starts_at=2026-03-02T14:00:00%2B00:00&amp;tz=Asia/Kolkata"'
        in html
    )


def test_booking_needs_a_signed_in_student(client, tutoring_api):
    response = client.get(BOOK)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=%2Ftutoring%2Fuser-tutor%2Fbook")


def test_booking_posts_the_intake_nested_and_confirms_in_the_students_zone(client, tutoring_api):
    sign_in(client)

    response = book(client)

    assert response.status_code == 302
    assert (
        response.headers["Location"] == "/my/tutoring/consultations/con-new/booked?tz=Asia/Kolkata"
    )
    [call] = tutoring_api.calls_to("POST", "/api/consultations")
    assert call.json == {
        "tutor_id": "user-tutor",
        "starts_at": SLOT,
        "time_zone": "Asia/Kolkata",
        "intake": {
            "exam": "step1",
            "exam_date": "2026-06-15",
            "attempts": 1,
            "weekly_hours": 25,
            "weak_areas": ["renal", "hematology-oncology"],
        },
    }
    assert call.headers["Authorization"] == "Bearer access-1.student@example.org"
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Consultation booked" in html
    assert "Mon 2 Mar 2026, 19:30 Kolkata time (IST)" in html
    assert "A calendar invite is on its way" in html
    assert "Hematology &amp; oncology" in html


def test_a_refused_weekly_hours_appears_next_to_that_field(client, tutoring_api):
    tutoring_api.answer(
        "POST",
        "/api/consultations",
        422,
        {
            "detail": "Invalid fields: intake.weekly_hours",
            "errors": {"intake.weekly_hours": ["Weekly hours must be 1-80"]},
        },
    )
    sign_in(client)

    response = book(client, data={"weekly_hours": "95"})

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    field = html[html.index('<input id="weekly_hours"') :]
    assert 'aria-invalid="true"' in field[: field.index(">")]
    assert '<p class="field-error" id="weekly_hours-error">Weekly hours must be 1-80</p>' in html
    assert 'value="95"' in html
    assert 'value="renal" checked' in html


def test_a_taken_slot_says_so_and_links_back_to_the_slots(client, tutoring_api):
    sign_in(client)
    taken = quote(tutoring_api.TAKEN_SLOT)

    response = book(client, f"/tutoring/user-tutor/book?starts_at={taken}&tz=Asia/Kolkata")

    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "That time was just taken by someone else." in html
    assert 'href="/tutoring/user-tutor?tz=Asia/Kolkata#slots">Choose another time</a>' in html


def test_an_intake_the_site_cannot_send_is_refused_without_calling_tutoring(client, tutoring_api):
    sign_in(client)

    response = book(client, data={"attempts": "twice", "exam_date": ""})

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="attempts-error"' in html and 'id="exam_date-error"' in html
    assert tutoring_api.calls_to("POST", "/api/consultations") == []


def test_my_tutoring_shows_consultations_plan_timeline_and_calendar(client, tutoring_api):
    sign_in(client)

    html = client.get("/my/tutoring?tz=America/New_York").get_data(as_text=True)

    assert "Mon 2 Mar 2026, 09:00 New York time (EST)" in html
    assert 'href="/my/tutoring/consultations/con-booked/cancel?tz=America/New_York"' in html
    assert 'action="/my/tutoring/consultations/con-booked/cancel' not in html  # asks first
    assert "con-other" not in html
    # The plan: weeks as rows, days coloured by kind, area blocks, warnings.
    assert html.count('class="plan-week" role="row"') == 2  # weeks of 2 Mar and 9 Mar
    for kind in ("study", "free", "checkpoint", "review", "exam"):
        assert f'class="plan-day plan-{kind}"' in html
    assert "Renal <b>3 h</b>" in html
    assert "Only 5 study days before the exam" in html
    assert (
        'href="webcal://cal.example.org/feeds/user-student.ics">Subscribe in your calendar' in html
    )
    assert 'href="https://cal.example.org/feeds/user-student.ics"' in html


def test_my_tutoring_without_a_plan_says_one_is_coming(client, tutoring_api):
    sign_in(client, "newcomer@example.org")

    html = client.get("/my/tutoring?tz=UTC").get_data(as_text=True)

    assert "Your tutor builds your plan after your consultation" in html
    assert "No upcoming consultation." in html


def test_cancelling_a_consultation_asks_first_then_posts_the_reason(client, tutoring_api):
    sign_in(client)
    confirm = client.get("/my/tutoring/consultations/con-booked/cancel?tz=America/New_York")

    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200
    assert "Cancel the consultation with Tom Tutor?" in html
    assert "Mon 4 Mar 2030, 09:00 New York time (EST)" in html
    assert 'action="/my/tutoring/consultations/con-booked/cancel?tz=America/New_York"' in html
    assert 'href="/my/tutoring?tz=America/New_York">No, keep it</a>' in html
    assert tutoring_api.calls_to("POST", "/api/consultations/con-booked/cancel") == []
    token = csrf_from(client, "/my/tutoring/consultations/con-booked/cancel?tz=UTC")

    response = client.post(
        "/my/tutoring/consultations/con-booked/cancel?tz=UTC",
        data={"reason": "Exam moved", "csrf_token": token},
    )

    assert response.headers["Location"] == "/my/tutoring?tz=UTC"
    [call] = tutoring_api.calls_to("POST", "/api/consultations/con-booked/cancel")
    assert call.json == {"reason": "Exam moved"}


def test_navigation_offers_tutoring_to_everyone_and_my_tutoring_to_students(client, tutoring_api):
    assert 'href="/tutoring">Tutoring</a>' in client.get("/").get_data(as_text=True)
    sign_in(client)

    html = client.get("/").get_data(as_text=True)

    assert 'href="/my/tutoring">My tutoring</a>' in html
    assert "Tutor dashboard" not in html


def test_the_calendar_feed_is_served_at_the_sites_public_address(client, tutoring_api):
    response = client.get("/calendar/feed-token.ics")

    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert response.get_data().startswith(b"BEGIN:VCALENDAR")
    assert client.get("/calendar/not-a-token.ics").status_code == 404
