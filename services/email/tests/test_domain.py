"""Fast tests of the rules: opt-in states, backoff, signed links and rendered emails."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from services.email import domain, messages, tokens
from services.email.domain import DeliveryStatus, InvalidConfirmation, Kind, SubscriberStatus

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_a_new_address_starts_pending_and_is_asked_to_confirm():
    outcome = domain.subscribe(None, [], ["step2ck"])
    assert outcome.status is SubscriberStatus.PENDING
    assert outcome.send_confirmation and outcome.new_opt_in
    assert outcome.topics == ["step2ck"]


def test_a_pending_address_is_asked_again_and_keeps_its_earlier_topics():
    outcome = domain.subscribe(SubscriberStatus.PENDING, ["step1-tips"], ["step2ck"])
    assert outcome.status is SubscriberStatus.PENDING
    assert outcome.send_confirmation and not outcome.new_opt_in
    assert outcome.topics == ["step1-tips", "step2ck"]


def test_a_confirmed_address_gains_topics_without_any_email():
    outcome = domain.subscribe(
        SubscriberStatus.CONFIRMED, ["step1-tips"], ["step1-tips", "step2ck"]
    )
    assert outcome.status is SubscriberStatus.CONFIRMED
    assert not outcome.send_confirmation
    assert outcome.topics == ["step1-tips", "step2ck"]


def test_an_unsubscribed_address_starts_a_new_opt_in_with_only_the_new_topics():
    outcome = domain.subscribe(SubscriberStatus.UNSUBSCRIBED, ["step1-tips"], ["step2ck"])
    assert outcome.status is SubscriberStatus.PENDING
    assert outcome.send_confirmation and outcome.new_opt_in
    assert outcome.topics == ["step2ck"]


def test_only_the_first_confirmation_completes_the_opt_in():
    assert domain.confirm(SubscriberStatus.PENDING) is True
    assert domain.confirm(SubscriberStatus.CONFIRMED) is False
    with pytest.raises(InvalidConfirmation) as refused:
        domain.confirm(SubscriberStatus.UNSUBSCRIBED)
    assert refused.value.field == "token"


def test_unsubscribing_twice_is_news_only_the_first_time():
    assert domain.unsubscribe(SubscriberStatus.CONFIRMED) is True
    assert domain.unsubscribe(SubscriberStatus.PENDING) is True
    assert domain.unsubscribe(SubscriberStatus.UNSUBSCRIBED) is False


def test_topics_must_be_known_and_at_least_one_and_repeats_collapse():
    known = {"step1-tips", "step2ck"}
    assert domain.check_topics(["step2ck", "step2ck", "step1-tips"], known) == [
        "step2ck",
        "step1-tips",
    ]
    for bad in (["cooking"], []):
        with pytest.raises(domain.UnknownTopics) as refused:
            domain.check_topics(bad, known)
        assert refused.value.field == "topics"


def test_addresses_are_compared_lowercased():
    assert domain.normalize_email("  Ada@Example.COM ") == "ada@example.com"


def test_backoff_doubles_from_thirty_seconds_and_stops_at_an_hour():
    assert domain.retry_delay(1) == timedelta(seconds=30)
    assert domain.retry_delay(2) == timedelta(seconds=60)
    assert domain.retry_delay(4) == timedelta(seconds=240)
    assert domain.retry_delay(20) == timedelta(hours=1)


def test_a_failed_try_is_requeued_until_the_eighth_then_fails():
    retry = domain.after_failure(1, NOW)
    assert retry.status is DeliveryStatus.QUEUED
    assert retry.next_attempt_at == NOW + timedelta(seconds=30)
    assert domain.after_failure(domain.MAX_ATTEMPTS, NOW).status is DeliveryStatus.FAILED
    assert domain.after_failure(1, NOW, permanent=True).status is DeliveryStatus.FAILED


def test_confirmation_tokens_expire_after_seven_days(var_dir):
    fresh = tokens.confirm_token("sub-1", "n1")
    assert tokens.read_confirm_token(fresh) == ("sub-1", "n1")
    six_days = tokens.confirm_token("sub-1", "n1", issued_at=time.time() - 6 * 86400)
    assert tokens.read_confirm_token(six_days) == ("sub-1", "n1")
    eight_days = tokens.confirm_token("sub-1", "n1", issued_at=time.time() - 8 * 86400)
    with pytest.raises(InvalidConfirmation):
        tokens.read_confirm_token(eight_days)


def test_manage_tokens_keep_working_for_a_year_and_cannot_confirm(var_dir):
    old = tokens.manage_token("sub-1", issued_at=time.time() - 300 * 86400)
    assert tokens.read_manage_token(old) == "sub-1"
    with pytest.raises(InvalidConfirmation):
        tokens.read_confirm_token(old)
    with pytest.raises(domain.SubscriptionNotFound):
        tokens.read_manage_token(tokens.confirm_token("sub-1", "n1"))
    too_old = tokens.manage_token("sub-1", issued_at=time.time() - 400 * 86400)
    with pytest.raises(domain.SubscriptionNotFound):
        tokens.read_manage_token(too_old)


def test_tokens_signed_with_another_secret_are_refused(var_dir, monkeypatch):
    token = tokens.manage_token("sub-1")
    monkeypatch.setenv("SECRET_KEY", "a-different-secret")
    with pytest.raises(domain.SubscriptionNotFound):
        tokens.read_manage_token(token)


def test_marketing_email_carries_rfc_8058_headers_with_the_https_url_first(monkeypatch):
    monkeypatch.setenv("PUBLIC_URL", "https://preceptor.test")
    url = "https://preceptor.test/unsubscribe/tok"
    email = messages.render(
        Kind.SUBSCRIBED,
        {
            "name": None,
            "topics": ["USMLE Step 2 CK"],
            "preferences_url": "https://preceptor.test/preferences/tok",
            "unsubscribe_url": url,
        },
    )
    first, second = email.headers["List-Unsubscribe"].split(", ")
    assert first == f"<{url}>"
    assert second.startswith("<mailto:") and second.endswith("?subject=unsubscribe>")
    assert email.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert url in email.text and url in email.html


def test_transactional_email_has_no_unsubscribe_headers():
    email = messages.render(Kind.WELCOME, {"name": "Ada"})
    assert email.headers == {}
    assert "Ada" in email.text


def test_built_messages_are_multipart_alternative_with_a_stable_message_id():
    msg = messages.build_message(
        delivery_id="d-1",
        to="ada@example.com",
        subject="Hi",
        text="plain",
        html="<p>html</p>",
        headers={"List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        mail_from="Preceptor <hello@preceptor.localhost>",
    )
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert msg["Message-ID"] == "<d-1@preceptor.localhost>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


@pytest.mark.parametrize(
    ("amount_minor", "currency", "shown"),
    [
        (149900, "USD", "$1,499.00"),
        (129900, "EUR", "1,299.00 EUR"),
        (5, "usd", "$0.05"),
        (123456789, "GBP", "1,234,567.89 GBP"),
        (500, "JPY", "500 JPY"),
    ],
)
def test_money_is_shown_from_minor_units_with_dollars_as_a_symbol_and_others_as_a_code(
    amount_minor, currency, shown
):
    assert messages.format_money(amount_minor, currency) == shown


def test_enrollment_subjects_name_the_course_and_carry_no_unsubscribe_headers():
    email = messages.render(
        Kind.ACCESS_EXPIRING,
        {
            "name": "Ada",
            "course_title": "USMLE Step 1 Prep",
            "cycle_start": "2 February 2026",
            "enrollment_id": "e-1",
            "enrollments_url": "https://preceptor.test/my/enrollments",
            "access_ends_on": "1 June 2026",
        },
    )
    assert email.subject == "Your access to USMLE Step 1 Prep ends on 1 June 2026"
    assert email.headers == {}


def test_a_calendar_attachment_goes_inline_for_outlook_and_as_an_ics_file_for_the_rest():
    ics = b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"
    invite = messages.Attachment("invite.ics", "text/calendar; charset=utf-8; method=REQUEST", ics)
    msg = messages.build_message(
        delivery_id="d-2",
        to="ada@example.com",
        subject="Booked",
        text="plain",
        html="<p>html</p>",
        headers={},
        mail_from="Preceptor <hello@preceptor.localhost>",
        attachments=[invite],
    )
    assert msg.get_content_type() == "multipart/mixed"
    body, attached = msg.iter_parts()
    assert [p.get_content_type() for p in body.iter_parts()] == [
        "text/plain",
        "text/html",
        "text/calendar",
    ]
    inline = list(body.iter_parts())[2]
    assert inline.get_param("method") == "REQUEST"
    assert attached.get_filename() == "invite.ics"
    assert attached.get_content_type() == "text/calendar"
    assert attached.get_param("method") == "REQUEST"
    assert attached.get_content().encode() == ics  # base64: the exact bytes
    assert inline.get_content().splitlines() == ics.decode().splitlines()  # CRLF on the wire


def test_attachments_survive_the_round_trip_through_the_delivery_row():
    invite = messages.Attachment("invite.ics", "text/calendar; method=CANCEL", b"\x00bytes\xff")
    rendered = messages.Rendered("s", "t", "h", attachments=(invite,))
    assert messages.attachments_from_json(rendered.attachments_json()) == [invite]
    assert messages.attachments_from_json(None) == []
