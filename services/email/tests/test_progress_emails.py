"""The assessment → plan loop's events become emails: the weekly digests (opt-out, one click),
a checkpoint without a result, a proposed plan revision, a readiness warning.

Each test publishes the event on the test bus as tutoring's relay would (twice where it
matters: a redelivery), lets the email service consume it, runs the delivery loop and reads
what arrived at the SMTP server. The student lives in New York, where the digest's links
expire on Monday 7 December 2026 at 12:00 UTC, 07:00 EST on their wall clock.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from services.email import opt_outs, suppression, tokens
from services.email.domain import Kind
from services.email.models import OptOut, Subscriber, Suppression
from services.email.tests.conftest import PUBLIC_URL, link_in
from services.email.tests.test_enrollment_emails import html, text
from services.email.tests.test_transactional import deliveries, publish
from shared.bus.envelope import Event, new_event
from shared.testing.fixtures import pump

STUDENT = "ada@example.com"
TUTOR = "rao@preceptor.test"
PLAN_ID = str(uuid.uuid4())


def people(**fields: Any) -> dict[str, Any]:
    return {
        "plan_id": PLAN_ID,
        "student_id": str(uuid.uuid4()),
        "student_email": STUDENT,
        "student_name": "Ada Lovelace",
        "student_timezone": "America/New_York",
        "tutor_id": str(uuid.uuid4()),
        "tutor_email": TUTOR,
        "tutor_name": "Dr Rao",
        **fields,
    }


def day_to_check(day: date, kind: str = "study", hours: float = 3.0) -> dict[str, Any]:
    return {
        "day": day,
        "kind": kind,
        "hours": hours,
        "done": f"done-{day.isoformat()}",
        "partial": f"partial-{day.isoformat()}",
        "missed": f"missed-{day.isoformat()}",
    }


def digest(**fields: Any) -> Event:
    data = {
        "plan_id": PLAN_ID,
        "student_id": str(uuid.uuid4()),
        "student_email": STUDENT,
        "student_name": "Ada Lovelace",
        "student_timezone": "America/New_York",
        "week_start": date(2026, 11, 23),
        "week_end": date(2026, 11, 29),
        "planned_hours": 21.0,
        "done_hours": 15.5,
        "missed_hours": 3.0,
        "to_check": [day_to_check(date(2026, 11, 27)), day_to_check(date(2026, 11, 28), "review")],
        "latest_result": {
            "form_name": "NBME Comprehensive Basic Science Self-Assessment",
            "scale": "percent",
            "score": 64.0,
            "taken_on": date(2026, 11, 21),
        },
        "next_checkpoint": date(2026, 12, 5),
        "exam_date": date(2027, 2, 15),
        "links_expire_at": datetime(2026, 12, 7, 12, 0, tzinfo=UTC),
        **fields,
    }
    return new_event("progress.digest_due", data, "tutoring")


def student_week(name: str, **fields: Any) -> dict[str, Any]:
    return {
        "plan_id": str(uuid.uuid4()),
        "student_name": name,
        "planned_hours": 20.0,
        "done_hours": 20.0,
        "missed_hours": 0.0,
        "results_missing": 0,
        "readiness_warning": False,
        "latest_result": None,
        **fields,
    }


def tutor_digest(**fields: Any) -> Event:
    data = {
        "tutor_id": str(uuid.uuid4()),
        "tutor_email": TUTOR,
        "tutor_name": "Dr Rao",
        "tutor_timezone": "Europe/London",
        "week_start": date(2026, 11, 23),
        "week_end": date(2026, 11, 29),
        "students": [
            student_week("Bo Chen"),
            student_week(
                "Ada Lovelace",
                done_hours=12.5,
                missed_hours=7.5,
                results_missing=1,
                readiness_warning=True,
                latest_result={
                    "form_name": "UWorld Self-Assessment Step 2 CK",
                    "scale": "three_digit",
                    "score": 201.0,
                    "taken_on": date(2026, 11, 20),
                },
            ),
        ],
        **fields,
    }
    return new_event("progress.tutor_digest_due", data, "tutoring")


def result_missing() -> Event:
    data = people(checkpoint_day=date(2026, 11, 28))
    return new_event("plan.result_missing", data, "tutoring")


def proposed(**fields: Any) -> Event:
    data = people(
        proposal_id=str(uuid.uuid4()),
        kind="recovery",
        base_version=3,
        fits=True,
        proposed_role="system",
        accepter_role="tutor",
        message="Renal +2 h, Cardiovascular +1.5 h, spread over the next two weeks.",
        hours_before={
            "renal": 10.0,
            "cardiovascular": 8.0,
            "hematology-oncology": 6.0,
            "anatomy": 5.0,
        },
        hours_after={
            "renal": 12.0,
            "cardiovascular": 9.5,
            "hematology-oncology": 6.0,
            "anatomy": 4.5,
        },
        suggested_exam_date=None,
    )
    data.update(fields)
    return new_event("study_plan.revision_proposed", data, "tutoring")


def readiness(**fields: Any) -> Event:
    data = people(
        exam="step2ck",
        exam_date=date(2027, 1, 11),
        weeks_left=4,
        latest=[
            {
                "form_name": "NBME Comprehensive Clinical Science Self-Assessment",
                "scale": "three_digit",
                "score": 205.0,
                "passing_score": 214.0,
                "taken_on": date(2026, 12, 5),
            },
            {
                "form_name": "UWorld Self-Assessment Step 2 CK",
                "scale": "three_digit",
                "score": 201.0,
                "passing_score": 214.0,
                "taken_on": date(2026, 11, 20),
            },
        ],
        later_exam_date=date(2027, 3, 8),
    )
    data.update(fields)
    return new_event("readiness.warning", data, "tutoring")


def by_recipient(messages: list) -> dict[str, Any]:
    return {m["To"]: m for m in messages}


def both_parts(message) -> tuple[str, str]:
    return text(message), html(message)


def unsubscribe_token(message) -> str:
    link = link_in(message, f"{PUBLIC_URL}/unsubscribe/")
    assert message["List-Unsubscribe"] == (
        f"<{link}>, <mailto:hello@preceptor.localhost?subject=unsubscribe>"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link in html(message)
    return link.rsplit("/", 1)[1]


def one_click(svc, token: str):
    return svc.client.post(
        f"/api/unsubscribe/{token}",
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )


# --- the student's weekly digest -------------------------------------------------------------


def test_the_weekly_digest_arrives_once_with_the_week_and_a_link_per_answer_per_day(
    email_service, deliver
):
    event = digest()
    publish(email_service, event, times=2)
    pump(email_service)
    [row] = deliveries(email_service)
    assert (row.kind, row.event_id, row.to_address) == ("progress_digest", event.id, STUDENT)

    [message] = deliver(1)
    assert message["Subject"] == "Your study week: 15.5 of 21 hours done"
    for part in both_parts(message):
        assert "23 November 2026 to 29 November 2026" in part
        assert "21 hours" in part and "15.5 hours" in part and "3 hours" in part
        assert "NBME Comprehensive Basic Science Self-Assessment" in part
        assert "64%" in part and "21 November 2026" in part
        assert "Saturday 5 December 2026" in part  # the next checkpoint
        assert "Friday 27 November 2026" in part and "Saturday 28 November 2026" in part
        assert "Review day" in part
        for answer in ("done", "partial", "missed"):
            for day in ("2026-11-27", "2026-11-28"):
                assert f"{PUBLIC_URL}/plan/check/{answer}-{day}" in part
        assert (
            "Monday 7 December 2026, 07:00 New York time (EST)" in part
        )  # the reader's wall clock
        assert f"{PUBLIC_URL}/tutoring/progress" in part
        assert f"{PUBLIC_URL}/tutoring/plan" in part
    assert unsubscribe_token(message)
    assert len(deliver()) == 1  # nothing more is due


def test_a_digest_with_nothing_to_check_and_no_result_yet_says_so(email_service, deliver):
    publish(email_service, digest(to_check=[], latest_result=None, next_checkpoint=None))
    pump(email_service)
    [message] = deliver(1)
    for part in both_parts(message):
        assert "nothing left to check off" in part
        assert "one recorded yet" in part
        assert "/plan/check/" not in part


def test_one_click_stops_later_digests_and_only_them(email_service, deliver):
    publish(email_service, digest())
    pump(email_service)
    [first] = deliver(1)
    token = unsubscribe_token(first)
    client = email_service.client

    looked = client.get(f"/api/preferences/{token}").get_json()
    assert looked == {
        "email": STUDENT,
        "topics": [],
        "status": "confirmed",
        "list_name": "the weekly progress email",
    }
    assert client.get(f"/api/unsubscribe/{token}").status_code == 405  # GET never opts out
    answer = one_click(email_service, token)
    assert answer.status_code == 200
    assert answer.get_json() == {
        "email": STUDENT,
        "status": "unsubscribed",
        "list_name": "the weekly progress email",
    }
    assert one_click(email_service, token).status_code == 200  # again: nothing changes
    assert client.get(f"/api/preferences/{token}").get_json()["status"] == "unsubscribed"

    next_week = digest(week_start=date(2026, 11, 30), week_end=date(2026, 12, 6))
    publish(email_service, next_week)
    publish(email_service, result_missing())  # a notice about the plan still arrives
    pump(email_service)
    kinds = [d.kind for d in deliveries(email_service)]
    assert kinds.count("progress_digest") == 1 and "result_missing" in kinds
    [notice] = [m for m in deliver(2) if m["Subject"] != first["Subject"]]
    assert notice["Subject"].startswith("How did your practice test")

    with email_service.runtime.db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(OptOut)) == 1
        assert s.scalar(sa.select(sa.func.count()).select_from(Suppression)) == 0  # campaigns
        assert s.scalar(sa.select(sa.func.count()).select_from(Subscriber)) == 0


def test_opting_out_withdraws_a_digest_still_waiting_to_be_sent(email_service, deliver):
    publish(email_service, digest())
    pump(email_service)
    token = tokens.opt_out_token("progress_digest", STUDENT)
    assert one_click(email_service, token).status_code == 200
    assert deliver() == []
    [row] = deliveries(email_service)
    assert (row.status, row.last_error) == ("failed", opt_outs.WITHDRAWN)


def test_the_student_opt_out_does_not_stop_the_tutor_digest_to_the_same_address(
    email_service, deliver
):
    token = tokens.opt_out_token("progress_digest", TUTOR)
    assert one_click(email_service, token).status_code == 200
    publish(email_service, tutor_digest())
    pump(email_service)
    [message] = deliver(1)
    assert message["To"] == TUTOR


def test_a_digest_link_changes_no_topics_and_a_forged_kind_is_refused(email_service):
    client = email_service.client
    token = tokens.opt_out_token("progress_digest", STUDENT)
    answer = client.put(f"/api/preferences/{token}", json={"topics": ["step1-tips"]})
    assert answer.status_code == 404
    not_a_digest = tokens.opt_out_token("password_reset", STUDENT)
    assert one_click(email_service, not_a_digest).status_code == 404


# --- the tutor's weekly digest -----------------------------------------------------------------


def test_the_tutor_digest_lists_each_student_with_those_needing_a_look_first(
    email_service, deliver
):
    event = tutor_digest()
    publish(email_service, event, times=2)
    pump(email_service)
    [message] = deliver(1)
    assert message["To"] == TUTOR
    assert message["Subject"] == ("Your students' study week, 23 November 2026 to 29 November 2026")
    ada, bo = event.data["students"][1], event.data["students"][0]
    for part in both_parts(message):
        assert part.index("Ada Lovelace") < part.index("Bo Chen")
        assert "12.5 of 20" in part and "7.5" in part
        assert "UWorld Self-Assessment Step 2 CK" in part and "201" in part
        assert "20 November 2026" in part
        assert f"{PUBLIC_URL}/tutor/plans/{ada['plan_id']}/progress" in part
        assert f"{PUBLIC_URL}/tutor/plans/{bo['plan_id']}/progress" in part
    assert "Readiness:        warning" in text(message)
    assert "Readiness warning" in html(message)
    token = unsubscribe_token(message)
    assert opt_outs.read_token(token) == (Kind.TUTOR_PROGRESS_DIGEST, TUTOR)

    assert one_click(email_service, token).status_code == 200
    publish(email_service, tutor_digest())
    pump(email_service)
    assert len(deliveries(email_service)) == 1


# --- notices ---------------------------------------------------------------------------------


def test_a_missing_result_asks_the_student_to_record_it_once(email_service, deliver):
    publish(email_service, result_missing(), times=2)
    pump(email_service)
    [message] = deliver(1)
    assert message["To"] == STUDENT
    assert message["Subject"] == "How did your practice test on Saturday 28 November 2026 go?"
    for part in both_parts(message):
        assert f"{PUBLIC_URL}/tutoring/plan/results/new" in part
        assert "Dr Rao" in part
    assert "List-Unsubscribe" not in message  # transactional
    assert len(deliver()) == 1


def test_a_catch_up_proposal_mails_the_student_and_the_tutor_who_accepts_it(email_service, deliver):
    publish(email_service, proposed(), times=2)
    pump(email_service)
    assert sorted(d.kind for d in deliveries(email_service)) == [
        "revision_proposed_student",
        "revision_proposed_tutor",
    ]
    mails = by_recipient(deliver(2))
    student, tutor = mails[STUDENT], mails[TUTOR]
    assert student["Subject"] == "A catch-up version of your study plan is proposed"
    assert tutor["Subject"] == "Ada Lovelace's study plan: a catch-up version to review"
    for message in (student, tutor):
        assert "List-Unsubscribe" not in message
        for part in both_parts(message):
            assert "Renal +2 h, Cardiovascular +1.5 h" in part
            assert "Renal" in part and "Hematology &" in part
            assert "+2 h" in part and "+1.5 h" in part and "no change" in part
            assert "\u22120.5 h" in part  # a typographic minus
    for part in both_parts(student):
        assert f"{PUBLIC_URL}/tutoring/plan" in part
        assert "Dr Rao" in part
        assert "/tutor/plans/" not in part
    for part in both_parts(tutor):
        assert f"{PUBLIC_URL}/tutor/plans/{PLAN_ID}/progress" in part
    assert len(deliver()) == 2


def test_a_proposal_mails_only_whoever_else_must_accept_it(email_service, deliver):
    by_student = proposed(kind="rebalance", proposed_role="student")
    by_tutor = proposed(kind="rebalance", proposed_role="tutor")
    publish(email_service, by_student)
    publish(email_service, by_tutor)
    pump(email_service)
    [row] = deliveries(email_service)
    assert (row.kind, row.event_id) == ("revision_proposed_tutor", by_student.id)
    [message] = deliver(1)
    assert message["Subject"] == "Ada Lovelace's study plan: a rebalanced version to review"
    assert "Ada Lovelace proposed" in text(message)


def test_a_proposal_that_does_not_fit_names_the_exam_date_that_would(email_service, deliver):
    event = proposed(
        fits=False,
        hours_after={},
        message="The missed 9 hours do not fit before the exam without going over 22 h a week.",
        suggested_exam_date=date(2027, 3, 1),
    )
    publish(email_service, event)
    pump(email_service)
    for message in deliver(2):
        for part in both_parts(message):
            assert "do not fit before the exam" in part
            assert "Monday 1 March 2027" in part
            assert "+2 h" not in part


def test_a_readiness_warning_gives_the_student_and_the_tutor_the_options(email_service, deliver):
    publish(email_service, readiness(), times=2)
    pump(email_service)
    mails = by_recipient(deliver(2))
    student, tutor = mails[STUDENT], mails[TUTOR]
    assert student["Subject"] == (
        "Your USMLE Step 2 CK on 11 January 2027: let's look at your options"
    )
    assert tutor["Subject"] == (
        "Readiness warning: Ada Lovelace, USMLE Step 2 CK on 11 January 2027"
    )
    for message in (student, tutor):
        assert "List-Unsubscribe" not in message
        for part in both_parts(message):
            assert "205" in part and "201" in part and "214" in part
            assert "5 December 2026" in part
            assert "4 weeks" in part
            assert "Monday 8 March 2027" in part  # the later exam date that fits
    for part in both_parts(student):
        assert f"{PUBLIC_URL}/my/enrollments" in part
        assert "My enrollments" in part
        assert f"{PUBLIC_URL}/my/tutoring" in part
        assert f"{PUBLIC_URL}/tutoring/progress" in part
    for part in both_parts(tutor):
        assert f"{PUBLIC_URL}/tutor/plans/{PLAN_ID}/progress" in part
    assert len(deliver()) == 2


def test_a_readiness_warning_without_a_later_date_says_none_fits(email_service, deliver):
    publish(email_service, readiness(later_exam_date=None, weeks_left=0))
    pump(email_service)
    for message in deliver(2):
        for part in both_parts(message):
            assert "less than a week" in part
            assert "no later exam date" in part.lower()


def test_a_complaint_or_hard_bounce_stops_digests_but_leaving_campaigns_does_not(
    email_service, deliver
):
    uow = email_service.runtime.uow
    suppression.add(uow(), STUDENT, "complaint", "complaint")
    suppression.add(uow(), TUTOR, "unsubscribed", "unsubscribe")
    publish(email_service, digest())
    publish(email_service, tutor_digest())
    pump(email_service)
    [row] = deliveries(email_service)
    assert (row.kind, row.to_address) == ("tutor_progress_digest", TUTOR)


def test_the_digest_queue_and_the_opt_out_count_a_differently_spelled_address_as_one(
    email_service, deliver
):
    token = tokens.opt_out_token("progress_digest", "Ada@Example.com")
    assert one_click(email_service, token).status_code == 200
    publish(email_service, digest(student_email="ADA@example.com"))
    pump(email_service)
    assert deliveries(email_service) == []
