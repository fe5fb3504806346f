"""The tutor's and the admin's side of the assessment → plan loop, and the signed check links
from the weekly email."""

from __future__ import annotations

from services.web.tests.conftest import csrf_from, sign_in

TUTOR = "tutor@example.org"
PROGRESS = "/tutor/plans/plan-1/progress"


def post(client, page: str, path: str, data: dict | None = None):
    return client.post(path, data={**(data or {}), "csrf_token": csrf_from(client, page)})


# ------------------------------------------------------------------ tutor


def test_the_dashboard_lists_students_plans_with_what_needs_attention(client, tutoring_api):
    sign_in(client, TUTOR)

    html = client.get("/tutor").get_data(as_text=True)

    table = html[html.index('id="plans"') :]
    table = table[: table.index("</table>")]
    assert "Sam Student" in table and "USMLE Step 1 · Tue 10 Mar 2026" in table
    assert "Readiness: below passing" in table
    assert "Result missing (Sun 8 Mar 2026)" in table
    assert "1 open proposal<" in table
    assert "2.5 h missed in 7 days" in table
    assert (
        'href="/tutor/plans/plan-1/progress">Progress<span class="visually-hidden"> of Sam' in table
    )
    assert len(tutoring_api.calls_to("GET", "/api/plans/tutoring")) == 1


def test_the_menu_offers_tutors_only_what_they_may_open(client, tutoring_api):
    """My enrollments answers a tutor with 403: the menu does not offer it to them."""
    sign_in(client, TUTOR)

    html = client.get("/tutor").get_data(as_text=True)

    assert 'href="/my/enrollments"' not in html
    assert 'href="/tutor"' in html


def test_the_tutors_progress_page_shows_the_chart_and_their_actions(client, tutoring_api):
    sign_in(client, TUTOR)

    html = client.get(PROGRESS).get_data(as_text=True)

    assert "<h1>Sam Student: progress</h1>" in html
    assert '<svg class="chart score-chart" id="chart-percent"' in html
    assert 'href="/tutor/plans/plan-1/results/new">Record a result for Sam Student</a>' in html
    # A rebalance is open in the stand-in: no second one is offered while it waits.
    assert 'action="/tutor/plans/plan-1/proposals"' not in html
    assert "A rebalance is already waiting for a decision" in html
    # The tutor accepts the student's rebalance.
    assert 'action="/tutor/plans/plan-1/proposals/prop-open/accept"' in html
    assert 'action="/tutor/plans/plan-1/proposals/prop-open/decline"' in html
    assert "The last two results are below the passing mark" in html
    warning = html[html.index('id="readiness"') :]
    warning = warning[: warning.index("</ul>\n    </div>")]
    assert "in My enrollments" in warning and 'href="/my/enrollments"' not in warning
    assert 'action="/tutor/plans/plan-1/results/res-1/delete"' in html
    assert "data-detect-zone" not in html  # the tutor's zone is their profile's


def test_the_tutor_accepts_and_declines_proposals(client, tutoring_api):
    sign_in(client, TUTOR)

    accepted = post(client, PROGRESS, "/tutor/plans/plan-1/proposals/prop-open/accept")
    after = client.get(PROGRESS).get_data(as_text=True)
    again = post(client, PROGRESS, "/tutor/plans/plan-1/proposals/prop-open/decline")

    assert accepted.headers["Location"] == "/tutor/plans/plan-1/progress#proposals"
    assert "The new plan is in place (version 2)." in after
    assert again.status_code == 409
    assert "This proposal is no longer open." in again.get_data(as_text=True)


def test_the_tutor_proposes_a_rebalance(client, tutoring_api):
    sign_in(client, TUTOR)

    response = post(client, PROGRESS, "/tutor/plans/plan-1/proposals")

    assert response.headers["Location"] == "/tutor/plans/plan-1/progress#proposals"
    assert tutoring_api.calls_to("POST", "/api/plans/plan-1/proposals")[0].json == {
        "kind": "rebalance"
    }
    html = client.get(PROGRESS).get_data(as_text=True)
    assert "The rebalance is ready below" in html
    assert 'action="/tutor/plans/plan-1/proposals/prop-new/accept"' in html


def test_a_proposal_that_does_not_fit_names_a_later_exam_date(client, tutoring_api):
    sign_in(client, TUTOR)
    tutoring_api.proposals[0].update(
        fits=False, message="Only 6 h of study would be left.", suggested_exam_date="2026-04-20"
    )

    html = client.get(PROGRESS).get_data(as_text=True)

    proposal = html[html.index('id="proposal-prop-open"') :]
    proposal = proposal[: proposal.index("</article>")]
    assert "It does not fit before the exam." in proposal
    assert "The first exam date it would fit: <strong>Mon 20 Apr 2026</strong>" in proposal
    assert "/accept" not in proposal and "/decline" in proposal


def test_the_tutor_records_a_result_for_the_student(client, tutoring_api):
    sign_in(client, TUTOR)
    page = "/tutor/plans/plan-1/results/new"

    form = client.get(page).get_data(as_text=True)
    response = post(
        client, page, page, {"form_id": "uwsa-step1", "taken_on": "2026-03-03", "score": "63"}
    )

    assert "Record a result for the student" in form
    assert response.headers["Location"] == "/tutor/plans/plan-1/progress"
    [call] = tutoring_api.calls_to("POST", "/api/plans/plan-1/results")
    assert call.json == {"form_id": "uwsa-step1", "taken_on": "2026-03-03", "score": 63.0}
    assert call.headers["Authorization"] == "Bearer access-1.tutor@example.org"


def test_someone_elses_plan_is_refused(client, tutoring_api):
    sign_in(client, "tutor-other@example.org")

    assert client.get(PROGRESS).status_code == 403
    assert client.get("/tutor/plans/plan-9/progress").status_code == 404


def test_the_consultation_page_shows_the_reflection_with_the_intake(client, tutoring_api):
    tutoring_api.consultations["con-booked"]["reflection"] = {
        "schedule": "Night shifts\nevery week",
        "resources": "",
        "exam_anxiety": "Froze in block 1",
        "timing": "",
        "other": "",
        "updated_at": "2026-03-01T10:00:00+00:00",
    }
    sign_in(client, TUTOR)

    html = client.get("/tutor/consultations/con-booked").get_data(as_text=True)
    asked = client.get("/tutor/consultations/con-done").get_data(as_text=True)

    reflection = html[html.index('id="reflection"') :]
    assert "Night shifts\nevery week" in reflection and "Froze in block 1" in reflection
    assert "<dt>Resources</dt>" not in reflection  # unanswered questions are left out
    assert "Written Sun 1 Mar 2026" in reflection
    assert 'id="reflection"' not in asked  # not asked: no heading at all


def test_the_plan_editor_leaves_rest_days_alone(client, tutoring_api):
    from services.web.pages.tutor import plan_changes

    plan = {
        "days": [
            {"day": "2026-03-02", "kind": "rest", "blocks": []},
            {"day": "2026-03-03", "kind": "study", "blocks": [{"area": "renal", "hours": 3.0}]},
        ]
    }

    assert plan_changes(plan, {"kind-2026-03-02": "study"}) == ([], [])


# ------------------------------------------------------------------ admin


def test_admins_list_add_edit_and_deactivate_assessment_forms(client, tutoring_api):
    sign_in(client, "admin@example.org")
    page = "/admin/assessment-forms"

    html = client.get(page).get_data(as_text=True)
    added = post(
        client,
        page,
        page,
        {
            "name": "NBME 31",
            "exam": "step1",
            "scale": "percent",
            "scale_min": "0",
            "scale_max": "100",
            "passing_score": "60",
            "default_target": "",
        },
    )
    edited = post(client, page, "/admin/assessment-forms/nbme-31", {
        "name": "NBME 31",
        "exam": "step1",
        "scale": "percent",
        "scale_min": "0",
        "scale_max": "100",
        "passing_score": "62",
        "active": "on",
    })  # fmt: skip
    deactivated = post(client, page, "/admin/assessment-forms/uwsa-step1/active", {"active": "0"})

    assert 'aria-current="page">Assessment forms</a>' in html
    assert "Free 120 official practice questions Step 1" in html and ">Inactive<" in html
    assert added.headers["Location"] == "/admin/assessment-forms"
    [create] = tutoring_api.calls_to("POST", "/api/admin/assessment-forms")
    assert create.json == {
        "name": "NBME 31",
        "exam": "step1",
        "scale": "percent",
        "official": False,
        "active": True,
        "scale_min": 0.0,
        "scale_max": 100.0,
        "passing_score": 60.0,
        "default_target": None,
    }
    assert edited.headers["Location"] == "/admin/assessment-forms"
    [change, off] = tutoring_api.calls_to("PUT", "/api/admin/assessment-forms/nbme-31") + (
        tutoring_api.calls_to("PUT", "/api/admin/assessment-forms/uwsa-step1")
    )
    assert change.json == {"passing_score": 62.0}  # only what changed
    assert off.json == {"active": False}
    assert deactivated.status_code == 302


def test_a_passing_score_outside_the_scale_is_shown_next_to_it(client, tutoring_api):
    sign_in(client, "admin@example.org")
    page = "/admin/assessment-forms"

    response = post(
        client,
        page,
        page,
        {"name": "X", "exam": "step1", "scale": "percent", "scale_min": "0", "scale_max": "100",
         "passing_score": "160"},
    )  # fmt: skip

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert (
        '<p class="field-error" id="passing_score-error">Must be within the scale, 0 to 100.</p>'
        in html
    )


def test_a_scale_change_after_results_is_shown_next_to_the_scale(client, tutoring_api):
    sign_in(client, "admin@example.org")
    page = "/admin/assessment-forms/nbme-cbssa"

    form = client.get(page).get_data(as_text=True)
    response = post(client, page, page, {
        "name": "NBME Comprehensive Basic Science Self-Assessment",
        "exam": "step1",
        "scale": "three_digit",
        "scale_min": "0",
        "scale_max": "100",
        "passing_score": "60",
        "default_target": "70",
        "active": "on",
    })  # fmt: skip

    assert 'value="60"' in form and 'name="active" checked' in form
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="scale-error">Results are recorded on this form; its scale can&#39;t change.' in html


def test_assessment_forms_are_for_admins(client, tutoring_api):
    sign_in(client, TUTOR)

    assert client.get("/admin/assessment-forms").status_code == 403


# ------------------------------------------------------------------ signed check links


def test_a_check_link_asks_before_it_records_anything(client, tutoring_api):
    html = client.get("/plan/check/link-done").get_data(as_text=True)

    assert "<h1>Mark Fri 6 Mar 2026 as done?</h1>" in html
    assert "It is marked <strong>missed</strong> now" not in html  # no answer yet
    assert "For Sam Student" in html
    assert 'action="/plan/check/link-done"' in html and 'name="csrf_token"' in html
    assert tutoring_api.calls_to("POST", "/api/plan-checks") == []
    assert len(tutoring_api.calls_to("GET", "/api/plan-checks/link-done")) == 1


def test_confirming_a_check_link_records_it_without_signing_in(client, tutoring_api):
    response = post(client, "/plan/check/link-missed", "/plan/check/link-missed")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Mon 9 Mar 2026 is marked missed" in html
    [call] = tutoring_api.calls_to("POST", "/api/plan-checks")
    assert call.json == {"token": "link-missed"}
    assert "Authorization" not in call.headers


def test_a_check_link_for_a_day_already_answered_says_what_it_replaces(client, tutoring_api):
    tutoring_api.checks["2026-03-09"] = {"day": "2026-03-09", "status": "partial"}

    html = client.get("/plan/check/link-missed").get_data(as_text=True)

    assert "<h1>Mark Mon 9 Mar 2026 as missed?</h1>" in html
    assert "It is marked <strong>partly done</strong> now; confirming replaces that." in html


def test_an_expired_or_broken_check_link_says_so(client, tutoring_api):
    expired = client.get("/plan/check/link-expired")
    broken = client.get("/plan/check/nonsense")
    late = client.get("/plan/check/link-late")

    assert expired.status_code == 410
    assert "This link has expired" in expired.get_data(as_text=True)
    assert "work for 14 days" in expired.get_data(as_text=True)
    assert broken.status_code == 404
    assert "This link is not valid" in broken.get_data(as_text=True)
    assert late.status_code == 422
    assert "it can&#39;t be checked now." in late.get_data(as_text=True)


def test_the_dashboard_says_a_failed_official_attempt_asks_for_a_reset(
    client, tutoring_api, monkeypatch
):
    advice = {"reason": "failed_official", "since": "2026-03-02", "result_id": "r",
              "form_name": "USMLE Step 1 (official attempt)", "rest_days": 5, "message": "Rest."}  # fmt: skip
    monkeypatch.setattr(tutoring_api, "reset_advised", advice, raising=False)
    sign_in(client, TUTOR)

    html = client.get("/tutor").get_data(as_text=True)

    table = html[html.index('id="plans"') :]
    assert "Did not pass USMLE Step 1 (official attempt): reset advised" in table
