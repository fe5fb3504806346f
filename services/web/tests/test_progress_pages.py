"""The student's side of the assessment → plan loop: plan with day checks and proposals,
progress with charts, recording a result, and the reflection before a consultation."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

from services.web.tests.conftest import csrf_from, sign_in

PLAN = "/tutoring/plan?tz=UTC"
PROGRESS = "/tutoring/progress?tz=UTC"
NEW_RESULT = "/tutoring/plan/results/new?tz=UTC"


def post(client, page: str, path: str, data: dict | None = None):
    return client.post(path, data={**(data or {}), "csrf_token": csrf_from(client, page)})


# ------------------------------------------------------------------ the plan


def test_the_plan_lists_weeks_with_a_check_on_each_past_working_day(client, tutoring_api):
    sign_in(client)

    html = client.get(PLAN).get_data(as_text=True)

    assert "<h1>My study plan</h1>" in html
    assert 'aria-current="page">My plan</a>' in html
    assert "Week of Mon 2 Mar 2026" in html and "Week of Mon 9 Mar 2026" in html
    # Study, checkpoint and review days (all past now) get the three answers; free/exam don't.
    assert html.count('class="day-check"') == 4
    assert 'action="/tutoring/plan/days/2026-03-06/check?tz=UTC"' in html
    assert 'action="/tutoring/plan/days/2026-03-07/check' not in html  # free day
    assert 'action="/tutoring/plan/days/2026-03-10/check' not in html  # exam day
    # The answer already given shows in words and as the pressed button.
    day = html[html.index('id="day-2026-03-05"') :]
    day = day[: day.index("</form>")]
    assert "Your answer: Done" in day
    assert 'value="done" class="button button-small button-chosen" aria-pressed="true"' in day
    assert 'value="clear"' in day
    [call] = tutoring_api.calls_to("GET", "/api/plans/plan-1/checks")
    assert call.headers["Authorization"] == "Bearer access-1.student@example.org"


def test_today_is_highlighted_in_the_readers_zone_and_future_days_have_no_check(
    client, tutoring_api
):
    sign_in(client)
    zone = "Pacific/Kiritimati"  # UTC+14: often already tomorrow there
    from zoneinfo import ZoneInfo

    today = datetime.now(ZoneInfo(zone)).date()
    days = [
        {"day": (today + timedelta(days=n)).isoformat(), "kind": "study", "blocks": []}
        for n in (-1, 0, 1)
    ]
    plan = {"plan_id": "plan-1", "version": 1, "exam": "step1", "exam_date": "2027-06-01"}
    tutoring_api.answer("GET", "/api/plans/mine", 200, [{**plan, "days": days}])

    html = client.get(f"/tutoring/plan?tz={zone}").get_data(as_text=True)

    current = html[html.index(f'id="day-{today.isoformat()}"') :]
    assert current.startswith(
        f'id="day-{today.isoformat()}" class="plan-row plan-study plan-today"'
    )
    assert 'aria-current="date"' in current[:200] and ">Today</span>" in current[:600]
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert f"/tutoring/plan/days/{today.isoformat()}/check" in html
    assert f"/tutoring/plan/days/{tomorrow}/check" not in html


def test_rest_days_are_shown_as_protected_rest_without_a_check(client, tutoring_api):
    sign_in(client)
    days = [
        {"day": "2026-03-02", "kind": "rest", "blocks": []},
        {"day": "2026-03-03", "kind": "study", "blocks": [{"area": "renal", "hours": 3}]},
    ]
    plan = {"plan_id": "plan-1", "exam": "step1", "exam_date": "2026-06-01", "reset": True}
    tutoring_api.answer("GET", "/api/plans/mine", 200, [{**plan, "days": days}])

    html = client.get(PLAN).get_data(as_text=True)

    assert "Rest day" in html and "Protected rest: no study today, and nothing to check." in html
    assert "/tutoring/plan/days/2026-03-02/check" not in html
    assert "A fresh start." in html


def test_checking_a_day_puts_the_answer_and_returns_to_that_day(client, tutoring_api):
    sign_in(client)

    response = post(
        client, PLAN, "/tutoring/plan/days/2026-03-06/check?tz=UTC", {"status": "partial"}
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/tutoring/plan?tz=UTC#day-2026-03-06"
    [call] = tutoring_api.calls_to("PUT", "/api/plans/plan-1/days/2026-03-06/check")
    assert call.json == {"status": "partial"}
    html = client.get(PLAN).get_data(as_text=True)
    assert "Your answer: Partly done" in html


def test_clearing_a_check_deletes_it(client, tutoring_api):
    sign_in(client)

    post(client, PLAN, "/tutoring/plan/days/2026-03-05/check?tz=UTC", {"status": "clear"})

    assert len(tutoring_api.calls_to("DELETE", "/api/plans/plan-1/days/2026-03-05/check")) == 1


def test_a_refused_check_is_shown_next_to_that_day(client, tutoring_api):
    sign_in(client)
    tutoring_api.answer(
        "PUT",
        "/api/plans/plan-1/days/2026-03-06/check",
        422,
        {"detail": "Invalid fields: day", "errors": {"day": ["That day is in the future."]}},
    )

    response = post(client, PLAN, "/tutoring/plan/days/2026-03-06/check?tz=UTC", {"status": "done"})

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    day = html[html.index('id="day-2026-03-06"') :]
    assert (
        '<p class="field-error" id="check-error-2026-03-06">That day is in the future.</p>' in day
    )
    assert 'aria-describedby="check-error-2026-03-06"' in day


def test_an_answer_that_is_not_one_of_the_three_is_refused_without_calling_tutoring(
    client, tutoring_api
):
    sign_in(client)

    response = post(client, PLAN, "/tutoring/plan/days/2026-03-06/check?tz=UTC", {"status": "meh"})

    assert response.status_code == 422
    assert tutoring_api.calls_to("PUT", "/api/plans/plan-1/days/2026-03-06/check") == []


def test_the_plan_shows_the_open_proposal_with_hours_before_and_after(client, tutoring_api):
    sign_in(client)

    html = client.get(PLAN).get_data(as_text=True)

    proposal = html[html.index('id="proposal-prop-open"') :]
    proposal = proposal[: proposal.index("</article>")]
    assert "Rebalance after a result" in proposal
    assert "Renal +2.5 h, Anatomy -2.5 h from tomorrow." in proposal
    assert '<th scope="col">Now</th><th scope="col">Proposed</th>' in proposal
    assert '<td data-label="Now">10 h</td>' in proposal and "+2.5 h" in proposal
    assert "\u22122.5 h" in proposal
    assert "1 other area keep their hours" not in proposal  # grammar: one area keeps
    assert "<summary>1 other area keeps its hours</summary>" in proposal
    assert "Hematology &amp; oncology 4 h</p>" in proposal
    # The tutor accepts a student's rebalance: the student sees who decides, not the buttons.
    assert "Waiting for your tutor to accept or decline it." in proposal
    assert "Proposed by you on Mon 2 Mar 2026, 09:15 UTC" in proposal
    assert "/accept" not in proposal
    # ...but may withdraw their own proposal.
    assert 'action="/tutoring/plan/proposals/prop-open/decline?tz=UTC"' in proposal
    assert ">Withdraw it</button>" in proposal
    assert "Earlier proposals (1)" in html


def test_rebalance_from_tomorrow_posts_a_rebalance_proposal(client, tutoring_api):
    sign_in(client)

    response = post(client, PLAN, "/tutoring/plan/proposals?tz=UTC")

    assert response.headers["Location"] == "/tutoring/plan?tz=UTC#proposals"
    [call] = tutoring_api.calls_to("POST", "/api/plans/plan-1/proposals")
    assert call.json == {"kind": "rebalance"}
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your rebalance is proposed; your tutor decides on it." in html
    assert 'id="proposal-prop-new"' in html and 'id="proposal-prop-open"' not in html


def test_a_rebalance_without_area_scores_says_so_next_to_the_button(client, tutoring_api):
    sign_in(client)
    tutoring_api.answer(
        "POST",
        "/api/plans/plan-1/proposals",
        422,
        {
            "detail": "Invalid fields: kind",
            "errors": {"kind": ["Record a result with per-area scores first."]},
        },
    )

    response = post(client, PLAN, "/tutoring/plan/proposals?tz=UTC")

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert (
        '<p class="field-error" id="propose-error">Record a result with per-area scores first.'
        in html
    )
    assert 'aria-describedby="propose-hint propose-error"' in html


def test_a_student_can_accept_a_proposal_the_api_says_they_may(client, tutoring_api):
    sign_in(client)
    tutoring_api.proposals[0]["accepter_role"] = "student"

    page = client.get(PLAN).get_data(as_text=True)
    response = post(client, PLAN, "/tutoring/plan/proposals/prop-open/accept?tz=UTC")

    assert 'action="/tutoring/plan/proposals/prop-open/accept?tz=UTC"' in page
    assert ">Accept the new plan</button>" in page and ">Decline</button>" in page
    assert response.status_code == 302
    assert len(tutoring_api.calls_to("POST", "/api/plans/plan-1/proposals/prop-open/accept")) == 1
    assert "The new plan is in place (version 2)." in client.get(PLAN).get_data(as_text=True)


def test_a_refused_decision_is_shown_on_that_proposal(client, tutoring_api):
    sign_in(client)
    tutoring_api.answer(
        "POST",
        "/api/plans/plan-1/proposals/prop-open/accept",
        409,
        {"detail": "The plan changed since; propose again."},
    )

    response = post(client, PLAN, "/tutoring/plan/proposals/prop-open/accept?tz=UTC")

    html = response.get_data(as_text=True)
    assert response.status_code == 409
    proposal = html[html.index('id="proposal-prop-open"') :]
    assert "The plan changed since; propose again." in proposal[: proposal.index("</article>")]


def test_the_readiness_warning_names_the_options(client, tutoring_api):
    sign_in(client)

    html = client.get(PLAN).get_data(as_text=True)

    warning = html[html.index('id="readiness"') :]
    warning = warning[: warning.index("</ul>\n    </div>")]
    assert "Your last two results are below the passing mark" in warning
    assert "on or after <strong>Mon 18 May 2026</strong>" in warning
    assert 'href="/my/enrollments">My enrollments</a>' in warning
    assert 'href="/tutoring/user-tutor?tz=UTC#sessions">with your tutor</a>' in warning


RESET_ADVICE = {
    "reason": "failed_official", "since": "2026-03-02", "result_id": "res-official",
    "form_name": "USMLE Step 1 (official attempt)", "rest_days": 5,
    "message": "Rest first (5 days), then book a new consultation with your tutor.",
}  # fmt: skip


def test_a_failed_official_attempt_says_what_comes_next(client, tutoring_api, monkeypatch):
    """The advice's first steps, in order: rest, a consultation to find what went wrong
    (booked with the student's tutor), then the reset plan that consultation makes."""
    monkeypatch.setattr(tutoring_api, "reset_advised", RESET_ADVICE, raising=False)
    sign_in(client)

    for page in (PLAN, "/tutoring/progress?tz=UTC"):
        html = client.get(page).get_data(as_text=True)
        panel = html[html.index('id="reset-advised"') :]
        panel = panel[: panel.index("</ol>")]
        assert "You did not pass USMLE Step 1 (official attempt) (Mon 2 Mar 2026)" in panel
        assert "Rest for 5 days." in panel
        assert 'href="/tutoring/user-tutor?tz=UTC">book it with your tutor</a>' in panel


def test_without_a_failed_official_attempt_there_is_no_reset_advice(client, tutoring_api):
    sign_in(client)
    assert 'id="reset-advised"' not in client.get(PLAN).get_data(as_text=True)


def test_the_plan_page_without_a_plan_says_one_is_coming(client, tutoring_api):
    sign_in(client, "newcomer@example.org")

    html = client.get(PLAN).get_data(as_text=True)

    assert "Your tutor builds your plan after your consultation" in html
    assert tutoring_api.calls_to("GET", "/api/plans/plan-1/progress") == []


def test_plan_pages_are_for_students(client, tutoring_api):
    assert client.get(PLAN).status_code == 302  # to sign in
    sign_in(client, "tutor@example.org")
    assert client.get(PLAN).status_code == 403


# ------------------------------------------------------------------ progress


def test_progress_draws_a_chart_per_scale_with_its_numbers_in_a_table(client, tutoring_api):
    sign_in(client)

    html = client.get(PROGRESS).get_data(as_text=True)

    start = html.index('<svg class="chart score-chart" id="chart-percent"')
    svg = html[start : html.index("</svg>", start) + len("</svg>")]
    root = ET.fromstring(svg)
    assert root.get("aria-describedby") == "chart-percent-numbers"
    assert '<table class="table chart-numbers" id="chart-percent-numbers">' in html
    table = html[html.index('id="chart-percent-numbers"') :]
    table = table[: table.index("</table>")]
    assert "Mon 5 Jan 2026" in table and ">52<" in table and ">58.5<" in table
    assert 'Passing</th><td data-label="Score">60<' in table
    assert 'Target</th><td data-label="Score">70<' in table
    assert "Estimate for Tue 10 Mar 2026" in table and ">60.2<" in table
    # Pass/fail is listed, not charted.
    assert (
        'id="scale-pass_fail"' in html
        and '<svg class="chart score-chart" id="chart-pass_fail' not in html
    )
    assert ">Fail<" in html


def test_the_estimate_says_how_it_was_made_and_its_limits_under_the_chart(client, tutoring_api):
    sign_in(client)

    html = client.get(PROGRESS).get_data(as_text=True)

    note = html[html.index('<div class="estimate-note">') :]
    note = note[: note.index("</div>")]
    assert "Estimate for Tue 10 Mar 2026: 60.2" in note
    assert "A straight line through your results, carried forward to exam day." in note
    assert "gains usually flatten near the top, and forms differ in difficulty." in note


def test_per_area_bars_and_table_show_first_and_latest(client, tutoring_api):
    sign_in(client)

    html = client.get(PROGRESS).get_data(as_text=True)

    assert '<svg class="chart area-chart" id="chart-areas"' in html
    table = html[html.index('id="chart-areas-numbers"') :]
    assert "Renal</th>" in table and "48%" in table and "61%" in table and "+13" in table
    assert "\u22124" in table  # anatomy went down, and says so in text


def test_progress_lists_every_result_with_a_delete_button(client, tutoring_api):
    sign_in(client)

    html = client.get(PROGRESS).get_data(as_text=True)
    response = post(client, PROGRESS, "/tutoring/progress/results/res-3/delete?tz=UTC")

    assert "Ran out of time\nin block 3" in html
    assert 'action="/tutoring/progress/results/res-3/delete?tz=UTC"' in html
    # Deleting takes two steps (open, then confirm), without a script.
    row = html[html.index('id="result-res-3"') :]
    row = row[: row.index("</tr>")]
    assert '<details class="confirm-delete">' in row and ">Delete this result</button>" in row
    assert response.headers["Location"] == "/tutoring/progress?tz=UTC#results"
    assert len(tutoring_api.calls_to("DELETE", "/api/plans/plan-1/results/res-3")) == 1


def test_a_refused_delete_is_shown_next_to_that_result(client, tutoring_api):
    sign_in(client)

    response = post(client, PROGRESS, "/tutoring/progress/results/res-2/delete?tz=UTC")

    html = response.get_data(as_text=True)
    assert response.status_code == 403
    row = html[html.index('id="result-res-2"') :]
    assert "Only who recorded a result, or the tutor, can delete it." in row[: row.index("</tr>")]


def test_a_target_is_saved_per_scale_and_a_refusal_shown_next_to_it(client, tutoring_api):
    sign_in(client)

    saved = post(
        client, PROGRESS, "/tutoring/progress/targets?tz=UTC", {"scale": "percent", "target": "72"}
    )
    refused = post(
        client, PROGRESS, "/tutoring/progress/targets?tz=UTC", {"scale": "percent", "target": "120"}
    )

    reset = post(
        client, PROGRESS, "/tutoring/progress/targets?tz=UTC", {"scale": "percent", "target": ""}
    )

    assert saved.headers["Location"] == "/tutoring/progress?tz=UTC#scale-percent"
    assert reset.status_code == 302
    [first, _, back] = tutoring_api.calls_to("PUT", "/api/plans/plan-1/targets")
    assert first.json == {"scale": "percent", "score": 72.0}
    assert back.json == {"scale": "percent", "score": None}  # the forms' usual target again
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert (
        '<p class="field-error" id="target-percent-error">Enter a target from 0 to 100.</p>' in html
    )


# ------------------------------------------------------------------ recording a result


def test_the_result_form_lists_only_the_plans_exam_and_shows_each_scale(client, tutoring_api):
    sign_in(client)

    html = client.get(NEW_RESULT).get_data(as_text=True)

    assert '<optgroup label="USMLE Step 1">' in html
    # A Step 2 CK form for a Step 1 plan would only be refused by the API: not offered.
    assert '<optgroup label="USMLE Step 2 CK">' not in html
    assert "UWorld Self-Assessment Step 1 (percent 0 to 100, passing 60)</option>" in html
    assert "(score 1 to 300, passing 214)</option>" not in html
    assert "USMLE Step 1 (official attempt) (pass or fail: enter 1 for pass, 0 for fail)" in html
    assert "Free 120" not in html  # inactive
    for area in ("renal", "anatomy", "hematology-oncology"):
        assert f'<input id="area-{area}" name="area-{area}"' in html
    assert 'id="area-Self-assessment"' not in html
    assert f'value="{datetime.now(UTC).date().isoformat()}"' in html  # today, reader's zone


def test_recording_a_result_posts_it_and_shows_progress(client, tutoring_api):
    sign_in(client)

    response = post(
        client,
        NEW_RESULT,
        "/tutoring/plan/results/new?tz=UTC",
        {
            "form_id": "nbme-cbssa",
            "taken_on": "2026-03-04",
            "score": "61.5",
            "area-renal": "64%",
            "area-anatomy": "",
            "note": "Felt better\nabout timing",
        },
    )

    assert response.headers["Location"] == "/tutoring/progress?tz=UTC"
    [call] = tutoring_api.calls_to("POST", "/api/plans/plan-1/results")
    assert call.json == {
        "form_id": "nbme-cbssa",
        "taken_on": "2026-03-04",
        "score": 61.5,
        "area_scores": {"renal": 64.0},
        "note": "Felt better\nabout timing",
    }
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Result recorded: 61.5 on NBME Comprehensive Basic Science Self-Assessment." in html


def test_refusals_from_the_api_appear_next_to_their_fields(client, tutoring_api):
    sign_in(client)

    response = post(
        client,
        NEW_RESULT,
        "/tutoring/plan/results/new?tz=UTC",
        {"form_id": "nbme-cbssa", "taken_on": "2999-01-01", "score": "140", "area-renal": "120"},
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert (
        '<p class="field-error" id="score-error">Enter a score from 0 to 100 for this form.</p>'
        in html
    )
    assert (
        '<p class="field-error" id="taken_on-error">The date can&#39;t be in the future.</p>'
        in html
    )
    assert 'id="area_scores-error">Renal: enter a percent from 0 to 100.</p>' in html
    renal = html[html.index('<input id="area-renal"') :]
    anatomy = html[html.index('<input id="area-anatomy"') :]
    assert 'aria-invalid="true" aria-describedby="area_scores-error"' in renal[: renal.index(">")]
    assert "aria-invalid" not in anatomy[: anatomy.index(">")]  # only the area named
    assert 'value="140"' in html and 'value="120"' in html
    assert 'value="nbme-cbssa" selected' in html


def test_a_score_that_is_not_a_number_is_refused_without_calling_tutoring(client, tutoring_api):
    sign_in(client)

    response = post(
        client,
        NEW_RESULT,
        "/tutoring/plan/results/new?tz=UTC",
        {"form_id": "", "taken_on": "2026-03-04", "score": "sixty", "area-renal": "lots"},
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="form_id-error"' in html and 'id="score-error"' in html
    assert 'id="area-renal-error"' in html
    assert tutoring_api.calls_to("POST", "/api/plans/plan-1/results") == []


# ------------------------------------------------------------------ reflection


def test_my_tutoring_links_the_plan_pages_and_the_reflection(client, tutoring_api):
    sign_in(client)

    html = client.get("/my/tutoring?tz=UTC").get_data(as_text=True)

    assert 'href="/tutoring/plan?tz=UTC">Check off your days</a>' in html
    assert 'href="/tutoring/progress?tz=UTC">Your progress</a>' in html
    assert 'href="/tutoring/plan/results/new?tz=UTC">Record a result</a>' in html
    assert 'href="/tutoring/consultations/con-booked/reflection?tz=UTC">Before you meet' in html
    assert 'href="/tutoring/plan">My plan</a>' in html  # the site navigation


def test_the_reflection_is_saved_with_its_lines_and_shown_again(client, tutoring_api):
    sign_in(client)
    page = "/tutoring/consultations/con-booked/reflection?tz=UTC"

    form = client.get(page).get_data(as_text=True)
    response = post(client, page, page, {"schedule": "Too many\nshifts", "timing": "Ran out"})

    assert '<textarea id="exam_anxiety" name="exam_anxiety"' in form
    assert response.headers["Location"] == "/my/tutoring?tz=UTC#consultation-con-booked"
    [call] = tutoring_api.calls_to("PUT", "/api/consultations/con-booked/reflection")
    assert call.json == {
        "schedule": "Too many\nshifts",
        "resources": "",
        "exam_anxiety": "",
        "timing": "Ran out",
        "other": "",
    }
    assert "Too many\nshifts</textarea>" in client.get(page).get_data(as_text=True)


def test_an_empty_reflection_or_one_not_asked_for_is_refused(client, tutoring_api):
    sign_in(client)
    page = "/tutoring/consultations/con-booked/reflection?tz=UTC"

    empty = post(client, page, page, {"schedule": "  "})

    assert empty.status_code == 422
    assert "Answer at least one question" in empty.get_data(as_text=True)
    assert tutoring_api.calls_to("PUT", "/api/consultations/con-booked/reflection") == []
    assert client.get("/tutoring/consultations/con-done/reflection").status_code == 404


def test_a_refused_reflection_shows_the_message_next_to_the_field(client, tutoring_api):
    sign_in(client)
    page = "/tutoring/consultations/con-booked/reflection?tz=UTC"

    response = post(client, page, page, {"other": "x" * 2001})

    assert response.status_code == 422
    assert '<p class="field-error" id="other-error">Keep it under 2000 characters.</p>' in (
        response.get_data(as_text=True)
    )
