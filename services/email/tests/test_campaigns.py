"""Campaigns through HTTP, PostgreSQL, RabbitMQ and a real SMTP server: writing, previewing,
testing, audiences learned from events, sending once with one-click unsubscribe, suppression
and bounces, pause, resume and cancel."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from services.email.campaigns import sending as campaign_sending
from services.email.campaigns import use_cases as campaigns
from services.email.models import CampaignRecipient, Subscriber, SubscriberTopic, Suppression
from services.email.tests.conftest import PUBLIC_URL, link_in
from services.email.tests.test_transactional import publish
from shared import config
from shared.bus.envelope import new_event
from shared.db import utcnow
from shared.testing.fixtures import pump, wait_for

BODY = "Hello {{first_name}},\n\nNew cycles of **{{course}}** open soon. <b>raw</b>\n"


@pytest.fixture
def staff(staff_token) -> dict[str, str]:
    return {"Authorization": f"Bearer {staff_token('marketing')}"}


def add_subscriber(
    svc, email: str, name: str | None = None, topics=("step1-tips",), status="confirmed"
) -> None:
    with svc.runtime.db.session() as s, s.begin():
        sub = Subscriber(
            id=str(uuid.uuid4()),
            email=email,
            name=name,
            status=status,
            nonce="n",
            created_at=utcnow(),
            confirmed_at=utcnow() if status == "confirmed" else None,
        )
        sub.topics = [SubscriberTopic(topic_slug=t) for t in topics]
        s.add(sub)


def create(client, headers, **fields: Any):
    body = {
        "subject": "News for {{first_name}}",
        "body_markdown": BODY,
        "audience": "topic:step1-tips",
    }
    return client.post("/api/admin/campaigns", json={**body, **fields}, headers=headers)


def send(svc, client, headers, campaign_id: str, rate: float = 1000) -> dict:
    answer = client.post(f"/api/admin/campaigns/{campaign_id}/send", headers=headers)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["status"] == "sending"
    campaign_sending.send_campaign(svc.runtime, campaign_id, rate=rate)
    return client.get(f"/api/admin/campaigns/{campaign_id}", headers=headers).get_json()


def by_recipient(messages) -> dict[str, list]:
    found: dict[str, list] = {}
    for m in messages:
        found.setdefault(str(m["To"]), []).append(m)
    return found


def enrollment(type_: str, email: str, name: str, course: str, enrollment_id: str, **extra):
    data = {
        "enrollment_id": enrollment_id,
        "student_id": str(uuid.uuid5(uuid.NAMESPACE_DNS, email)),
        "email": email,
        "name": name,
        "course_slug": course,
        "course_title": course.replace("-", " ").title(),
        "cycle_start": date(2026, 2, 2),
        **extra,
    }
    return new_event(type_, data, "enrollment")


def activated(email, name, course, enrollment_id):
    return enrollment(
        "enrollment.activated",
        email,
        name,
        course,
        enrollment_id,
        cycle_end=date(2026, 4, 27),
        access_ends_on=date(2026, 6, 1),
        amount_minor=0,
        currency="USD",
        payment_id=None,
    )


# --- who may -------------------------------------------------------------------------------


def test_only_marketing_and_admin_may_write_or_send_campaigns(email_service, staff_token):
    client = email_service.client
    draft = create(client, {"Authorization": f"Bearer {staff_token('admin')}"})
    assert draft.status_code == 201
    cid = draft.get_json()["id"]
    calls = [
        ("get", "/api/admin/campaigns"),
        ("get", "/api/admin/audiences"),
        ("get", "/api/admin/topics"),
        ("get", "/api/admin/suppressions"),
        ("get", f"/api/admin/campaigns/{cid}/preview"),
        ("post", f"/api/admin/campaigns/{cid}/send"),
        ("post", f"/api/admin/campaigns/{cid}/cancel"),
    ]
    for method, path in calls:
        assert getattr(client, method)(path).status_code == 401, path
        for role in ("student", "tutor"):
            headers = {"Authorization": f"Bearer {staff_token(role)}"}
            answer = getattr(client, method)(path, headers=headers)
            assert answer.status_code == 403, (path, role)
            assert answer.mimetype == "application/problem+json"
    student = {"Authorization": f"Bearer {staff_token('student')}"}
    assert create(client, student).status_code == 403
    assert client.get(f"/api/admin/campaigns/{cid}").get_json()["status"] == 401
    marketing = {"Authorization": f"Bearer {staff_token('marketing')}"}
    assert client.get(f"/api/admin/campaigns/{cid}", headers=marketing).json["status"] == "draft"


# --- writing -------------------------------------------------------------------------------


def test_a_draft_is_written_and_edited_and_only_a_draft_can_be_edited(email_service, staff):
    client = email_service.client
    answer = create(client, staff)
    assert answer.status_code == 201
    campaign = answer.get_json()
    assert campaign["status"] == "draft"
    assert campaign["audience"] == "topic:step1-tips"
    assert campaign["audience_label"] == "Subscribers: USMLE Step 1 tips"
    assert campaign["created_by"] == "staff@preceptor.test"
    assert campaign["figures"] == {
        "recipients": 0,
        "queued": 0,
        "sent": 0,
        "failed": 0,
        "suppressed": 0,
        "unsubscribed": 0,
    }
    edited = client.put(
        f"/api/admin/campaigns/{campaign['id']}",
        json={
            "subject": "Step 2",
            "body_markdown": "Hi {{ first_name }}",
            "audience": "topic:step2ck",
        },
        headers=staff,
    )
    assert edited.status_code == 200
    assert edited.get_json()["subject"] == "Step 2"
    assert edited.get_json()["audience_label"] == "Subscribers: USMLE Step 2 CK"
    second = create(client, staff, subject="Second")
    listed = client.get("/api/admin/campaigns", headers=staff).get_json()
    assert [c["id"] for c in listed] == [second.get_json()["id"], campaign["id"]]  # newest first

    client.post(f"/api/admin/campaigns/{campaign['id']}/cancel", headers=staff)
    refused = client.put(
        f"/api/admin/campaigns/{campaign['id']}",
        json={"subject": "x", "body_markdown": "y", "audience": "topic:step2ck"},
        headers=staff,
    )
    assert refused.status_code == 409
    assert refused.mimetype == "application/problem+json"
    assert client.get("/api/admin/campaigns/nope", headers=staff).status_code == 404


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"subject": "Hi {{last_name}}"}, "subject"),
        ({"body_markdown": "Dear {{ email }},"}, "body_markdown"),
        ({"audience": "everyone"}, "audience"),
        ({"audience": "topic:cooking"}, "audience"),
        ({"subject": ""}, "subject"),
    ],
)
def test_a_bad_campaign_is_refused_naming_the_field(email_service, staff, fields, field):
    answer = create(email_service.client, staff, **fields)
    assert answer.status_code == 422
    assert answer.mimetype == "application/problem+json"
    assert field in answer.get_json()["errors"]
    if "{{" in str(fields):
        assert "{{" in answer.get_json()["errors"][field][0]  # names the merge field too
    assert email_service.client.get("/api/admin/campaigns", headers=staff).get_json() == []


# --- audiences -----------------------------------------------------------------------------


def test_audiences_are_learned_from_enrollment_and_tutoring_events(email_service, staff, deliver):
    for event in (
        activated("ada@example.com", "Ada Lovelace", "usmle-step-1", "e1"),
        activated("bob@example.com", "Bob", "usmle-step-1", "e2"),
        enrollment(
            "enrollment.refunded",
            "bob@example.com",
            "Bob",
            "usmle-step-1",
            "e2",
            amount_minor=100,
            currency="USD",
        ),
        activated("cy@example.com", "Cy", "usmle-step-2", "e3"),
        enrollment(
            "enrollment.completed",
            "cy@example.com",
            "Cy",
            "usmle-step-2",
            "e3",
            access_ends_on=date(2026, 6, 1),
        ),
        enrollment(
            "enrollment.cancelled",
            "dan@example.com",
            "Dan",
            "usmle-step-2",
            "e4",
            reason="changed my mind",
        ),
        new_event(
            "consultation.completed",
            {
                "consultation_id": "c1",
                "student_id": "s-eve",
                "student_email": "Eve@Example.com",
                "student_name": "Eve",
                "tutor_id": "t1",
                "tutor_name": "Dr Who",
            },
            "tutoring",
        ),
    ):
        publish(email_service, event)
        pump(email_service)
    add_subscriber(email_service, "sub@example.com", "Sam")
    add_subscriber(email_service, "gone@example.com", "Gus", status="unsubscribed")

    sizes = {
        a["key"]: (a["label"], a["size"])
        for a in email_service.client.get("/api/admin/audiences", headers=staff).get_json()
    }
    assert sizes["students:active:usmle-step-1"] == ("Active students: Usmle Step 1", 1)
    assert sizes["students:active:usmle-step-2"] == ("Active students: Usmle Step 2", 0)
    assert sizes["students:past"] == ("Past students", 1)
    assert sizes["students:consulted"] == ("Students with a completed consultation", 1)
    assert sizes["topic:step1-tips"] == ("Subscribers: USMLE Step 1 tips", 1)
    assert sizes["topic:step2ck"][1] == 0

    # the handlers still send their emails, in the same commit as the facts
    subjects = {str(m["Subject"]) for m in deliver(4)}
    assert "Your refund for Usmle Step 1" in subjects

    topics = {
        t["slug"]: t for t in email_service.client.get("/api/admin/topics", headers=staff).json
    }
    assert (topics["step1-tips"]["confirmed"], topics["step1-tips"]["unsubscribed"]) == (1, 1)
    assert topics["step1-tips"]["name"] == "USMLE Step 1 tips"

    # an active-students campaign says the course and the first name
    cid = create(email_service.client, staff, audience="students:active:usmle-step-1").get_json()[
        "id"
    ]
    preview = email_service.client.get(f"/api/admin/campaigns/{cid}/preview", headers=staff).json
    assert preview["sample"] == {"first_name": "Ada", "course": "Usmle Step 1"}
    assert preview["recipient"]["sample"] is False and preview["recipient"]["email"]
    assert preview["fallbacks"] == []  # a real student with a name and a course
    assert preview["subject"] == "News for Ada"
    assert "<strong>Usmle Step 1</strong>" in preview["html"]
    assert "&lt;b&gt;raw&lt;/b&gt;" in preview["html"]
    assert "Hello Ada," in preview["text"]


def test_a_preview_of_an_empty_audience_uses_a_sample_person(email_service, staff):
    cid = create(email_service.client, staff).get_json()["id"]
    preview = email_service.client.get(f"/api/admin/campaigns/{cid}/preview", headers=staff).json
    assert preview["sample"] == {"first_name": "Ada", "course": "your course"}
    assert preview["recipient"] == {"email": None, "name": "Ada", "sample": True}
    # plainly: the body's {{course}} reads "your course" for this (and any course-less) person
    assert preview["fallbacks"] == [{"field": "course", "value": "your course"}]
    assert preview["subject"] == "News for Ada"
    assert f"{PUBLIC_URL}/unsubscribe/preview" in preview["text"]


def test_a_preview_is_for_the_first_of_the_audience_by_name(email_service, staff):
    add_subscriber(email_service, "aaron@example.com", "Zoe Zimmer")
    add_subscriber(email_service, "zed@example.com", "Bea Brown")
    add_subscriber(email_service, "nameless@example.com", "")
    cid = create(email_service.client, staff, audience="topic:step1-tips").get_json()["id"]
    preview = email_service.client.get(f"/api/admin/campaigns/{cid}/preview", headers=staff).json
    assert preview["recipient"] == {
        "email": "zed@example.com",
        "name": "Bea Brown",
        "sample": False,
    }
    assert preview["subject"] == "News for Bea"


def test_a_test_send_goes_to_the_caller_through_the_delivery_loop(email_service, staff, deliver):
    client = email_service.client
    cid = create(client, staff).get_json()["id"]
    answer = client.post(f"/api/admin/campaigns/{cid}/test", json={}, headers=staff)
    assert answer.status_code == 202
    assert answer.get_json() == {"to": "staff@preceptor.test"}
    other = client.post(
        f"/api/admin/campaigns/{cid}/test", json={"email": "Boss@Example.com"}, headers=staff
    )
    assert other.get_json() == {"to": "boss@example.com"}
    messages = by_recipient(deliver(2))
    [test] = messages["staff@preceptor.test"]
    assert test["Subject"] == "[Test] News for Ada"
    assert test["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert str(test["List-Unsubscribe"]).startswith(f"<{PUBLIC_URL}/unsubscribe/")
    assert client.get(f"/api/admin/campaigns/{cid}", headers=staff).json["status"] == "draft"


# --- scheduling and sending ----------------------------------------------------------------


def test_a_schedule_needs_a_future_time_and_starts_when_due(email_service, staff):
    client = email_service.client
    add_subscriber(email_service, "ada@example.com", "Ada")
    cid = create(client, staff).get_json()["id"]
    url = f"/api/admin/campaigns/{cid}/schedule"
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    for bad in (past, "2030-01-01T10:00:00", "soon"):
        answer = client.post(url, json={"send_at": bad}, headers=staff)
        assert answer.status_code == 422, bad
        assert "send_at" in answer.get_json()["errors"]
    when = datetime.now(UTC) + timedelta(hours=1)
    scheduled = client.post(url, json={"send_at": when.isoformat()}, headers=staff).get_json()
    assert scheduled["status"] == "scheduled"
    assert scheduled["send_at"].startswith(when.strftime("%Y-%m-%dT%H:%M"))

    assert campaigns.start_due(email_service.runtime.uow()) == 0  # not yet
    assert campaigns.start_due(email_service.runtime.uow(), when + timedelta(seconds=1)) == 1
    started = client.get(f"/api/admin/campaigns/{cid}", headers=staff).get_json()
    assert started["status"] == "sending"
    assert started["figures"]["recipients"] == started["figures"]["queued"] == 1


def test_a_campaign_mails_each_person_once_with_one_click_unsubscribe_and_merge_fields(
    email_service, staff, smtp_server
):
    client = email_service.client
    add_subscriber(email_service, "ada@example.com", "Ada Lovelace")
    add_subscriber(email_service, "nameless@example.com", None)
    add_subscriber(email_service, "other-topic@example.com", "Olga", topics=("step2ck",))
    add_subscriber(email_service, "pending@example.com", "Pat", status="pending")
    cid = create(client, staff).get_json()["id"]

    campaign = send(email_service, client, staff, cid)
    assert campaign["status"] == "sent"
    assert campaign["finished_at"]
    assert campaign["figures"] == {
        "recipients": 2,
        "queued": 0,
        "sent": 2,
        "failed": 0,
        "suppressed": 0,
        "unsubscribed": 0,
    }
    mail = by_recipient(smtp_server.wait_for(2))
    assert set(mail) == {"ada@example.com", "nameless@example.com"}
    [ada], [nameless] = mail["ada@example.com"], mail["nameless@example.com"]
    assert ada["Subject"] == "News for Ada"
    assert nameless["Subject"] == "News for there"
    text = ada.get_body(("plain",)).get_content()
    assert "Hello Ada," in text and "your course" in text
    link = link_in(ada, f"{PUBLIC_URL}/unsubscribe/")
    assert ada["List-Unsubscribe"].startswith(f"<{link}>")  # the https URL first
    assert ada["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link in ada.get_body(("html",)).get_content()
    assert link != link_in(nameless, f"{PUBLIC_URL}/unsubscribe/")

    [event] = email_service.recorded("campaign.sent")
    assert event["campaign_id"] == cid
    assert (event["recipients"], event["sent"], event["failed"], event["suppressed"]) == (
        2,
        2,
        0,
        0,
    )

    # sending again finds nothing to send: nobody is mailed twice
    assert campaign_sending.send_campaign(email_service.runtime, cid, rate=1000) == 0
    assert len(smtp_server.messages()) == 2
    deliveries = client.get(f"/api/admin/campaigns/{cid}/deliveries", headers=staff).get_json()
    assert {(d["email"], d["status"]) for d in deliveries} == {
        ("ada@example.com", "sent"),
        ("nameless@example.com", "sent"),
    }
    assert all(d["sent_at"] for d in deliveries)


def test_an_unsubscribed_and_a_hard_bounced_address_receive_nothing(
    email_service, staff, smtp_server
):
    client = email_service.client
    for address in ("ada@example.com", "bounced@example.com", "left@example.com"):
        add_subscriber(email_service, address, address.split("@")[0])
    add_subscriber(email_service, "complains@example.com", "C")
    cid = create(client, staff).get_json()["id"]
    client.post(f"/api/admin/campaigns/{cid}/send", headers=staff)  # everyone is queued

    # after the rows exist: a hard bounce, a complaint, an unsubscribe from an older email
    secret = {"Authorization": f"Bearer {config.bounce_webhook_secret()}"}
    for report in (
        {"type": "bounce", "bounce_type": "hard", "email": "Bounced@example.com"},
        {"type": "complaint", "email": "complains@example.com"},
    ):
        answer = client.post("/api/bounces", json=report, headers=secret)
        assert answer.status_code == 202
        assert answer.get_json()["suppressed"] is True
    with email_service.runtime.db.session() as s, s.begin():
        s.execute(
            sa.update(Subscriber)
            .where(Subscriber.email == "left@example.com")
            .values(status="unsubscribed")
        )

    campaign_sending.send_campaign(email_service.runtime, cid, rate=1000)
    assert [str(m["To"]) for m in smtp_server.wait_for(1)] == ["ada@example.com"]
    figures = client.get(f"/api/admin/campaigns/{cid}", headers=staff).get_json()["figures"]
    assert (figures["recipients"], figures["sent"], figures["suppressed"]) == (4, 1, 3)
    suppressed = client.get(
        f"/api/admin/campaigns/{cid}/deliveries?status=suppressed", headers=staff
    ).get_json()
    assert {d["email"] for d in suppressed} == {
        "bounced@example.com",
        "complains@example.com",
        "left@example.com",
    }
    sizes = {a["key"]: a["size"] for a in client.get("/api/admin/audiences", headers=staff).json}
    assert sizes["topic:step1-tips"] == 1


def test_the_one_click_post_unsubscribes_and_a_get_does_not(email_service, staff, smtp_server):
    client = email_service.client
    add_subscriber(email_service, "ada@example.com", "Ada")
    add_subscriber(email_service, "bob@example.com", "Bob")
    cid = create(client, staff).get_json()["id"]
    send(email_service, client, staff, cid)
    ada = by_recipient(smtp_server.wait_for(2))["ada@example.com"][0]
    token = link_in(ada, f"{PUBLIC_URL}/unsubscribe/").rsplit("/", 1)[1]

    for _ in range(2):
        looked = client.get(f"/api/preferences/{token}")
        assert looked.status_code == 200
        assert looked.get_json() == {
            "email": "ada@example.com",
            "topics": ["step1-tips"],
            "status": "confirmed",
        }
    with email_service.runtime.db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Suppression)) == 0
    changed = client.put(f"/api/preferences/{token}", json={"topics": ["step1-tips", "step2ck"]})
    assert changed.status_code == 200
    assert changed.get_json()["topics"] == ["step1-tips", "step2ck"]

    # RFC 8058: a form POST with no session or token header, exactly as mail clients send it
    for _ in range(2):
        answer = client.post(
            f"/api/unsubscribe/{token}",
            data="List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
        assert answer.status_code == 200
        assert answer.get_json() == {"email": "ada@example.com", "status": "unsubscribed"}
    assert client.get(f"/api/preferences/{token}").get_json()["status"] == "unsubscribed"
    [row] = client.get("/api/admin/suppressions", headers=staff).get_json()
    assert (row["email"], row["reason"], row["campaign_id"]) == (
        "ada@example.com",
        "unsubscribed",
        cid,
    )
    figures = client.get(f"/api/admin/campaigns/{cid}", headers=staff).get_json()["figures"]
    assert figures["unsubscribed"] == 1
    with email_service.runtime.db.session() as s:
        status = s.scalar(sa.select(Subscriber.status).where(Subscriber.email == "ada@example.com"))
        assert status == "unsubscribed"
    assert [e["email"] for e in email_service.recorded("subscriber.unsubscribed")] == [
        "ada@example.com"
    ]

    # the next campaign to the same topic does not reach her
    smtp_server.clear()
    second = create(client, staff, subject="Again").get_json()["id"]
    send(email_service, client, staff, second)
    assert [str(m["To"]) for m in smtp_server.wait_for(1)] == ["bob@example.com"]
    assert client.get("/api/preferences/not-a-token").status_code == 404


def test_pause_stops_at_the_next_message_resume_continues_and_cancel_ends(
    email_service, staff, smtp_server
):
    client = email_service.client
    for i in range(40):
        add_subscriber(email_service, f"p{i:02d}@example.com", f"P{i}")
    cid = create(client, staff).get_json()["id"]
    client.post(f"/api/admin/campaigns/{cid}/send", headers=staff)
    sender = threading.Thread(
        target=campaign_sending.send_campaign,
        args=(email_service.runtime, cid),
        kwargs={"rate": 20},
    )
    sender.start()
    wait_for(lambda: len(smtp_server.messages()) >= 5, message="some messages")
    paused = client.post(f"/api/admin/campaigns/{cid}/pause", headers=staff).get_json()
    assert paused["status"] == "paused"
    sender.join(timeout=10)
    assert not sender.is_alive()
    stopped_at = len(smtp_server.messages())
    assert 5 <= stopped_at < 40
    assert campaign_sending.send_campaign(email_service.runtime, cid, rate=1000) == 0  # paused
    assert len(smtp_server.messages()) == stopped_at
    figures = client.get(f"/api/admin/campaigns/{cid}", headers=staff).get_json()["figures"]
    assert figures["sent"] == stopped_at and figures["queued"] == 40 - stopped_at

    assert client.post(f"/api/admin/campaigns/{cid}/resume", headers=staff).json["status"] == (
        "sending"
    )
    campaign_sending.send_campaign(email_service.runtime, cid, rate=1000)
    mail = by_recipient(smtp_server.wait_for(40))
    assert len(mail) == 40 and all(len(m) == 1 for m in mail.values())
    assert client.get(f"/api/admin/campaigns/{cid}", headers=staff).json["status"] == "sent"
    assert client.post(f"/api/admin/campaigns/{cid}/cancel", headers=staff).status_code == 409

    other = create(client, staff).get_json()["id"]
    client.post(f"/api/admin/campaigns/{other}/send", headers=staff)
    cancelled = client.post(f"/api/admin/campaigns/{other}/cancel", headers=staff).get_json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["figures"]["queued"] == 0
    assert campaign_sending.send_campaign(email_service.runtime, other, rate=1000) == 0
    assert len(smtp_server.messages()) == 40


def test_a_worker_holding_the_lease_keeps_another_away(email_service, staff, smtp_server):
    client = email_service.client
    add_subscriber(email_service, "ada@example.com", "Ada")
    cid = create(client, staff).get_json()["id"]
    client.post(f"/api/admin/campaigns/{cid}/send", headers=staff)
    first = campaign_sending.CampaignSender(
        email_service.runtime,
        cid,
        owner="worker-a",
        rate=100,
        lease=timedelta(seconds=60),
        should_stop=lambda: False,
    )
    assert first.take_lease()
    assert campaign_sending.send_campaign(email_service.runtime, cid, owner="worker-b") == 0
    first.close()  # releases the lease
    assert campaign_sending.send_campaign(email_service.runtime, cid, owner="worker-b") == 1
    assert len(smtp_server.wait_for(1)) == 1


def test_the_worker_job_starts_due_campaigns_and_sends_them(email_service, staff, smtp_server):
    client = email_service.client
    add_subscriber(email_service, "ada@example.com", "Ada")
    cid = create(client, staff).get_json()["id"]
    when = datetime.now(UTC) + timedelta(seconds=2)
    client.post(
        f"/api/admin/campaigns/{cid}/schedule", json={"send_at": when.isoformat()}, headers=staff
    )
    assert campaign_sending.run(email_service.runtime) == 0
    wait_for(lambda: datetime.now(UTC) > when, message="the send time")
    assert campaign_sending.run(email_service.runtime) == 1
    assert client.get(f"/api/admin/campaigns/{cid}", headers=staff).json["status"] == "sent"


# --- suppression list and bounces ----------------------------------------------------------


def test_staff_add_and_list_suppressions(email_service, staff):
    client = email_service.client
    answer = client.post(
        "/api/admin/suppressions",
        json={"email": "No@Example.com", "reason": "manual"},
        headers=staff,
    )
    assert answer.status_code == 201
    assert answer.get_json()["email"] == "no@example.com"
    assert answer.get_json()["reason"] == "manual"
    again = client.post(
        "/api/admin/suppressions",
        json={"email": "no@example.com", "reason": "manual"},
        headers=staff,
    )
    assert again.status_code == 201
    bad = client.post(
        "/api/admin/suppressions",
        json={"email": "x@example.com", "reason": "hard_bounce"},
        headers=staff,
    )
    assert bad.status_code == 422 and "reason" in bad.get_json()["errors"]
    listed = client.get("/api/admin/suppressions?reason=manual", headers=staff).get_json()
    assert [s["email"] for s in listed] == ["no@example.com"]
    assert client.get("/api/admin/suppressions?reason=complaint", headers=staff).get_json() == []


def test_bounce_reports_need_the_webhook_secret_and_only_hard_ones_suppress(email_service):
    client = email_service.client
    report = {"type": "bounce", "bounce_type": "soft", "email": "ada@example.com"}
    assert client.post("/api/bounces", json=report).status_code == 401
    wrong = {"Authorization": "Bearer not-the-secret"}
    assert client.post("/api/bounces", json=report, headers=wrong).status_code == 401
    secret = {"Authorization": f"Bearer {config.bounce_webhook_secret()}"}
    soft = client.post("/api/bounces", json=report, headers=secret)
    assert soft.status_code == 202
    assert soft.get_json() == {"email": "ada@example.com", "suppressed": False}
    missing = client.post(
        "/api/bounces", json={"type": "bounce", "email": "ada@example.com"}, headers=secret
    )
    assert missing.status_code == 422 and "bounce_type" in missing.get_json()["errors"]
    hard = client.post(
        "/api/bounces",
        json={
            **report,
            "bounce_type": "hard",
            "diagnostic": "550 5.1.1 no such user",
            "occurred_at": "2026-11-25T10:00:00+00:00",
        },
        headers=secret,
    )
    assert hard.get_json() == {"email": "ada@example.com", "suppressed": True}
    with email_service.runtime.db.session() as s:
        [row] = s.scalars(sa.select(Suppression)).all()
        assert (row.reason, row.source) == ("hard_bounce", "bounce")


def test_a_hard_bounce_naming_a_campaign_email_fails_that_delivery(
    email_service, staff, smtp_server
):
    client = email_service.client
    add_subscriber(email_service, "ada@example.com", "Ada")
    cid = create(client, staff).get_json()["id"]
    send(email_service, client, staff, cid)
    [message] = smtp_server.wait_for(1)
    secret = {"Authorization": f"Bearer {config.bounce_webhook_secret()}"}
    client.post(
        "/api/bounces",
        json={
            "type": "bounce",
            "bounce_type": "hard",
            "email": "ada@example.com",
            "message_id": message["Message-ID"],
            "diagnostic": "550 gone",
        },
        headers=secret,
    )
    [delivery] = client.get(f"/api/admin/campaigns/{cid}/deliveries", headers=staff).get_json()
    assert delivery["status"] == "failed" and "550 gone" in delivery["error"]
    [row] = client.get("/api/admin/suppressions", headers=staff).get_json()
    assert row["campaign_id"] == cid
    with email_service.runtime.db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(CampaignRecipient)) == 1


def test_a_recipient_the_server_refuses_for_good_fails_and_the_rest_are_sent(
    email_service, staff, smtp_server
):
    handler = smtp_server._controller.handler

    async def handle_RCPT(server, session, envelope, address, options):
        if address == "nobody@example.com":
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    handler.handle_RCPT = handle_RCPT
    client = email_service.client
    for address in ("ada@example.com", "nobody@example.com", "zed@example.com"):
        add_subscriber(email_service, address, "X")
    cid = create(client, staff).get_json()["id"]
    campaign = send(email_service, client, staff, cid)
    assert campaign["status"] == "sent"
    assert (campaign["figures"]["sent"], campaign["figures"]["failed"]) == (2, 1)
    [failed] = client.get(
        f"/api/admin/campaigns/{cid}/deliveries?status=failed", headers=staff
    ).json
    assert failed["email"] == "nobody@example.com" and failed["error"].startswith("550")
    assert sorted(str(m["To"]) for m in smtp_server.wait_for(2)) == [
        "ada@example.com",
        "zed@example.com",
    ]
    [event] = email_service.recorded("campaign.sent")
    assert (event["sent"], event["failed"]) == (2, 1)
