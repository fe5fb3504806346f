"""A line break in a name, a subject or a course title never becomes a header of its own.

The API refuses one-line fields with line breaks (422 naming the field); text that reaches an
email another way (an event from another service, a row stored before the rule) is folded onto
one line when the email is built, on both send paths: the delivery loop (``EmailMessage``) and
the campaign sender (which writes the headers itself). Checked in the messages a real SMTP
server stored.
"""

from __future__ import annotations

import email
import email.policy
from datetime import date

import pytest
import sqlalchemy as sa

from services.email import messages
from services.email.campaigns import sending as campaign_sending
from services.email.models import Campaign
from services.email.tests.test_campaigns import add_subscriber, create, enrollment
from shared.testing.fixtures import wait_for
from shared.tests.test_request_text import SPLITLINES

INJECTION = "Spring news\r\nBcc: everyone@example.com\r\nX-Injected: yes"


@pytest.fixture
def staff(staff_token) -> dict[str, str]:
    return {"Authorization": f"Bearer {staff_token('marketing')}"}


def assert_not_injected(message) -> None:
    assert message["Bcc"] is None
    assert message["X-Injected"] is None
    assert len(message.get_all("Subject")) == 1
    assert "\n" not in str(message["Subject"]) and "\r" not in str(message["Subject"])


@pytest.mark.parametrize("line_break", ["\r\n", "\n", "\r", "\u2028", "\x0b"])
def test_line_breaks_in_a_campaign_subject_or_a_subscriber_name_are_refused(
    email_service, staff, line_break
):
    client = email_service.client
    subject = f"Spring news{line_break}Bcc: everyone@example.com"
    r = create(client, staff, subject=subject)
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    assert "subject" in r.get_json()["errors"]

    r = client.post(
        "/api/subscriptions",
        json={
            "email": "eve@example.com",
            "topics": ["step1-tips"],
            "name": f"Eve{line_break}Bcc: everyone@example.com",
        },
    )
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    assert "name" in r.get_json()["errors"]


def test_a_campaign_subject_stored_with_line_breaks_is_sent_on_one_line(
    email_service, staff, smtp_server
):
    client = email_service.client
    add_subscriber(email_service, "ada@example.com", "Ada Lovelace")
    cid = create(client, staff).get_json()["id"]
    with email_service.runtime.db.session() as s, s.begin():
        s.execute(sa.update(Campaign).where(Campaign.id == cid).values(subject=INJECTION))
    assert client.post(f"/api/admin/campaigns/{cid}/send", headers=staff).status_code == 200
    campaign_sending.send_campaign(email_service.runtime, cid, rate=1000)

    [message] = smtp_server.wait_for(1)
    assert_not_injected(message)
    assert str(message["To"]) == "ada@example.com"
    assert str(message["Subject"]).startswith("Spring news Bcc: everyone@example.com")


def test_a_course_title_with_line_breaks_from_an_event_stays_inside_the_subject(
    email_service, deliver
):
    event = enrollment(
        "enrollment.activated",
        "kofi@example.com",
        "Kofi Mensah",
        "usmle-step-1-prep",
        "e-1",
        course_title=INJECTION,
        cycle_end=date(2026, 4, 27),
        access_ends_on=date(2026, 6, 1),
        amount_minor=0,
        currency="USD",
        payment_id=None,
    )
    assert email_service.consumer.apply(event)
    messages = wait_for(lambda: deliver() or None, message="the receipt and the welcome")
    assert messages
    for message in messages:
        assert_not_injected(message)
        assert str(message["To"]) == "kofi@example.com"


def test_a_name_and_a_title_stored_with_nel_or_other_separators_still_make_a_sendable_email(
    email_service, deliver
):
    """U+0085 (NEL) and the other separators ``str.splitlines`` knows made the ``email``
    package refuse the header, so every email naming that person failed."""
    event = enrollment(
        "enrollment.activated",
        "kofi@example.com",
        "Kofi\x85Mensah",
        "usmle-step-1-prep",
        "e-2",
        course_title="Step 1\x85Prep\u2028Spring\x1cEdition\x0b",
        cycle_end=date(2026, 4, 27),
        access_ends_on=date(2026, 6, 1),
        amount_minor=0,
        currency="USD",
        payment_id=None,
    )
    assert email_service.consumer.apply(event)
    messages = wait_for(lambda: deliver() or None, message="the receipt and the welcome")
    assert messages
    for message in messages:
        assert_not_injected(message)
        assert str(message["To"]) == "kofi@example.com"
        assert "Step 1 Prep Spring Edition" in str(message["Subject"])


@pytest.mark.parametrize("separator", SPLITLINES)
def test_both_builders_send_a_subject_naming_a_person_with_any_line_separator(separator):
    """And a from-name with one (``MAIL_FROM``). The ``EmailMessage`` path (emails with a calendar invite, whose subjects name the
    student and the tutor) raised on NEL; the wire path must put the same text on one line."""
    subject = f"New consultation: Kofi{separator}Mensah"
    built = messages.build_message(
        delivery_id="d-1",
        to="kofi@example.com",
        subject=subject,
        text="Hello",
        html="<p>Hello</p>",
        headers={},
        mail_from=f"Preceptor{separator}School <mail@preceptor.example>",
        attachments=[messages.Attachment("invite.ics", "text/calendar; method=REQUEST", b"X")],
    )
    wire = messages.wire_message(
        message_id="<d-1@preceptor.example>",
        to="kofi@example.com",
        subject=subject,
        text="Hello",
        html="<p>Hello</p>",
        headers={},
        mail_from=f"Preceptor{separator}School <mail@preceptor.example>",
    )
    for raw in (built.as_bytes(), wire):
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert str(parsed["Subject"]) == "New consultation: Kofi Mensah"
        assert str(parsed["From"]) == "Preceptor School <mail@preceptor.example>"
