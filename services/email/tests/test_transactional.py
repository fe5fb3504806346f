"""Events from identity become emails: each event once, with its links, as text and HTML."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from services.email.models import Delivery
from services.email.tests.conftest import PUBLIC_URL, link_in, past_the_inbox
from services.email.use_cases import accounts
from shared.bus.envelope import Event, new_event, typed
from shared.testing.fixtures import publish_events, pump


def publish(svc, event: Event, times: int = 1) -> None:
    """Put an event on the bus the way a producer's relay does (possibly more than once)."""
    publish_events(svc.runtime.broker, event, times=times)


def registered(email: str = "ada@example.com", roles: tuple[str, ...] = ("student",)) -> Event:
    data = {"user_id": str(uuid.uuid4()), "email": email, "name": "Ada", "roles": list(roles)}
    return new_event("user.registered", data, "identity")


def deliveries(svc) -> list[Delivery]:
    with svc.runtime.db.session() as s:
        return list(s.scalars(sa.select(Delivery).order_by(Delivery.created_at)))


def test_a_registration_delivered_twice_produces_exactly_one_welcome_email(email_service, deliver):
    event = registered()
    publish(email_service, event, times=2)
    pump(email_service)
    [row] = deliveries(email_service)
    assert (row.kind, row.event_id, row.to_address) == ("welcome", event.id, "ada@example.com")

    [welcome] = deliver(1)
    assert welcome["Subject"] == "Welcome to Preceptor"
    assert welcome["To"] == "ada@example.com"
    assert welcome.get_content_type() == "multipart/alternative"
    assert "Hello Ada" in welcome.get_body(("plain",)).get_content()
    html = welcome.get_body(("html",)).get_content()
    assert "Preceptor" in html and "style=" in html
    assert "List-Unsubscribe" not in welcome  # transactional mail has nothing to leave
    assert len(deliver()) == 1  # sending again finds nothing due


def test_staff_who_accepted_an_invitation_get_a_staff_welcome_not_the_student_one(
    email_service, deliver
):
    publish(email_service, registered("tutor@example.com", roles=("tutor",)))
    pump(email_service)
    [welcome] = deliver(1)
    text = welcome.get_body(("plain",)).get_content()
    assert "as a tutor is ready" in text and f"{PUBLIC_URL}/login" in text
    for student_words in ("courses", "studies", "consultation"):
        assert student_words not in text
        assert student_words not in welcome.get_body(("html",)).get_content()


def test_the_same_event_applied_twice_past_the_inbox_still_queues_one_email(email_service):
    event = registered()
    for _ in range(2):  # as if the inbox had failed: the (event_id, kind) constraint holds
        accounts.welcome(past_the_inbox(email_service, event), typed(event))
    assert len(deliveries(email_service)) == 1


def test_password_reset_and_invitation_emails_carry_their_links(email_service, deliver):
    expires = datetime.now(UTC) + timedelta(hours=1)
    reset = new_event(
        "user.password_reset_requested",
        {
            "user_id": "u-1",
            "email": "bo@example.com",
            "name": "Bo",
            "token": "reset-token-123",
            "expires_at": expires,
        },
        "identity",
    )
    invitation = new_event(
        "user.invited",
        {
            "user_id": "u-2",
            "email": "tutor@example.com",
            "name": "Dr Tutor",
            "role": "tutor",
            "token": "invite-token-456",
            "expires_at": expires,
        },
        "identity",
    )
    publish(email_service, reset)
    publish(email_service, invitation)
    pump(email_service)
    by_kind = {d.kind: d for d in deliveries(email_service)}
    assert set(by_kind) == {"password_reset", "invitation"}

    messages = {m["To"]: m for m in deliver(2)}
    reset_mail = messages["bo@example.com"]
    assert reset_mail["Subject"] == "Reset your Preceptor password"
    link = link_in(reset_mail, f"{PUBLIC_URL}/password-reset/")
    assert link == f"{PUBLIC_URL}/password-reset/reset-token-123"
    assert link in reset_mail.get_body(("html",)).get_content()

    invite_mail = messages["tutor@example.com"]
    assert invite_mail["Subject"] == "You're invited to Preceptor"
    link = link_in(invite_mail, f"{PUBLIC_URL}/invitation/")
    assert link == f"{PUBLIC_URL}/invitation/invite-token-456"
    assert "tutor" in invite_mail.get_body(("plain",)).get_content()
    assert link in invite_mail.get_body(("html",)).get_content()


def test_names_in_events_are_escaped_in_the_html_part(email_service, deliver):
    event = new_event(
        "user.registered",
        {"user_id": "u-3", "email": "x@example.com", "name": "<b>Eve</b>", "roles": ["student"]},
        "identity",
    )
    publish(email_service, event)
    pump(email_service)
    [message] = deliver(1)
    html = message.get_body(("html",)).get_content()
    assert "&lt;b&gt;Eve&lt;/b&gt;" in html
    assert "<b>Eve</b>" not in html
