"""The rules of campaigns without a database: merge fields, audiences, the state machine,
what enrollment events mean for audiences, bounces, pacing, rendering and DATA framing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.email.campaigns import domain as d
from services.email.campaigns import render as campaign_render
from services.email.campaigns.domain import CampaignStatus as S
from services.email.campaigns.domain import EnrollmentFact as F
from services.email.campaigns.sending import dot_stuffed

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_known_merge_fields_pass_with_or_without_spaces():
    d.check_merge_fields(subject="Hi {{first_name}}", body_markdown="On {{ course }} today")


@pytest.mark.parametrize(
    ("subject", "body", "field", "named"),
    [
        ("Hi {{last_name}}", "body", "subject", "{{last_name}}"),
        ("Hi", "Dear {{ email }}", "body_markdown", "{{ email }}"),
        ("Hi", "{{}}", "body_markdown", "{{}}"),
    ],
)
def test_an_unknown_merge_field_is_refused_naming_the_field_and_the_merge_field(
    subject, body, field, named
):
    with pytest.raises(d.UnknownMergeField) as caught:
        d.check_merge_fields(subject=subject, body_markdown=body)
    assert caught.value.field == field
    assert named in caught.value.detail
    assert caught.value.status == 422


def test_merge_values_take_the_first_name_and_fall_back_when_unknown():
    assert d.merge_values("Ada Lovelace", "USMLE Step 1") == {
        "first_name": "Ada",
        "course": "USMLE Step 1",
    }
    assert d.merge_values(None, None) == {"first_name": "there", "course": "your course"}
    assert d.merge_values("  ", " ") == {"first_name": "there", "course": "your course"}


def test_merge_replaces_each_field():
    text = "Hi {{first_name}}, about {{ course }}"
    assert d.merge(text, d.merge_values("Lin Wei", None)) == "Hi Lin, about your course"


@pytest.mark.parametrize(
    ("key", "kind", "slug"),
    [
        ("topic:step1-tips", d.AudienceKind.TOPIC, "step1-tips"),
        ("students:active:usmle-step-1", d.AudienceKind.ACTIVE_STUDENTS, "usmle-step-1"),
        ("students:past", d.AudienceKind.PAST_STUDENTS, None),
        ("students:consulted", d.AudienceKind.CONSULTED_STUDENTS, None),
    ],
)
def test_audience_keys_parse_and_round_trip(key, kind, slug):
    audience = d.parse_audience(key)
    assert (audience.kind, audience.slug, audience.key) == (kind, slug, key)


@pytest.mark.parametrize(
    "key", ["", "topic:", "students", "students:active:", "everyone", "topic:Bad Slug"]
)
def test_an_unknown_audience_is_refused_naming_the_audience(key):
    with pytest.raises(d.UnknownAudience) as caught:
        d.parse_audience(key)
    assert caught.value.field == "audience"


def test_audience_labels_use_topic_names_and_course_titles():
    names, courses = {"step2ck": "USMLE Step 2 CK"}, {"usmle-step-1": "USMLE Step 1 Prep"}
    label = d.audience_label
    assert (
        label(d.parse_audience("topic:step2ck"), names, courses) == "Subscribers: USMLE Step 2 CK"
    )
    active = d.parse_audience("students:active:usmle-step-1")
    assert label(active, names, courses) == "Active students: USMLE Step 1 Prep"
    assert label(d.parse_audience("students:past"), names, courses) == "Past students"


@pytest.mark.parametrize(
    ("current", "event", "after"),
    [
        (None, "enrollment.activated", F.ACTIVE),
        (F.ACTIVE, "enrollment.completed", F.COMPLETED),
        (F.ACTIVE, "enrollment.refunded", F.ENDED),
        (None, "enrollment.cancelled", F.ENDED),
        (F.ENDED, "enrollment.activated", F.ENDED),  # a late activation does not revive it
        (F.COMPLETED, "enrollment.activated", F.COMPLETED),
        (F.COMPLETED, "enrollment.refunded", F.COMPLETED),
        (None, "enrollment.completed", F.COMPLETED),
    ],
)
def test_enrollment_events_move_a_student_between_audiences_in_any_order(current, event, after):
    assert d.enrollment_fact_after(current, event) is after


def test_only_a_draft_can_be_edited():
    d.check_editable(S.DRAFT)
    for status in (S.SCHEDULED, S.SENDING, S.PAUSED, S.SENT, S.CANCELLED):
        with pytest.raises(d.CampaignNotEditable):
            d.check_editable(status)


def test_scheduling_needs_an_aware_time_in_the_future():
    assert d.schedule(S.DRAFT, NOW + timedelta(hours=1), NOW) is S.SCHEDULED
    assert d.schedule(S.SCHEDULED, NOW + timedelta(hours=2), NOW) is S.SCHEDULED
    for when in (NOW, NOW - timedelta(seconds=1)):
        with pytest.raises(d.SendAtNotInFuture) as caught:
            d.schedule(S.DRAFT, when, NOW)
        assert caught.value.field == "send_at"
    with pytest.raises(d.CampaignStateConflict):
        d.schedule(S.SENT, NOW + timedelta(hours=1), NOW)


def test_the_campaign_state_machine():
    assert d.send_now(S.DRAFT) is S.SENDING
    assert d.send_now(S.SCHEDULED) is S.SENDING
    assert d.pause(S.SENDING) is S.PAUSED
    assert d.pause(S.PAUSED) is S.PAUSED
    assert d.resume(S.PAUSED) is S.SENDING
    assert d.cancel(S.PAUSED) is S.CANCELLED
    assert d.cancel(S.DRAFT) is S.CANCELLED
    for refused in (
        lambda: d.send_now(S.SENDING),
        lambda: d.send_now(S.SENT),
        lambda: d.pause(S.DRAFT),
        lambda: d.resume(S.CANCELLED),
        lambda: d.cancel(S.SENT),
    ):
        with pytest.raises(d.CampaignStateConflict) as caught:
            refused()
        assert caught.value.status == 409


def test_hard_bounces_and_complaints_suppress_soft_bounces_do_not():
    assert d.suppression_for_report("bounce", "hard") is d.SuppressionReason.HARD_BOUNCE
    assert d.suppression_for_report("complaint", None) is d.SuppressionReason.COMPLAINT
    assert d.suppression_for_report("bounce", "soft") is None
    with pytest.raises(d.BounceTypeRequired) as caught:
        d.suppression_for_report("bounce", None)
    assert caught.value.field == "bounce_type"


def test_the_pacer_spaces_sends_at_the_rate_and_never_bursts_after_a_stall():
    pacer = d.Pacer(rate=10)
    assert pacer.wait(100.0) == 0
    assert pacer.wait(100.0) == pytest.approx(0.1)
    assert pacer.wait(100.05) == pytest.approx(0.15)
    # a ten-second stall: the pacer restarts from now instead of sending 100 at once
    assert pacer.wait(110.0) == 0
    assert pacer.wait(110.0) == pytest.approx(0.1)


def test_markdown_becomes_escaped_html_and_readable_text():
    html = campaign_render.markdown_to_html("**Hi** <script>alert(1)</script> [x](javascript:y)")
    assert "<strong>Hi</strong>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript' not in html
    text = campaign_render.markdown_to_text(
        "# Title\n\nSee [our courses](https://p.test/courses).\n\n- one\n- two\n\n1. a\n2. b\n"
    )
    assert text == (
        "Title\n\nSee our courses (https://p.test/courses).\n\n- one\n- two\n\n1. a\n2. b\n"
    )


def test_a_campaign_template_is_personalised_with_html_escaped_values():
    compiled = campaign_render.template("Hi {{first_name}}", "Welcome to *{{course}}*")
    values = d.merge_values("<Ada>", "Step 1 & 2")
    subject, text, html = compiled.personalise(values, "https://p.test/unsubscribe/t")
    assert subject == "Hi <Ada>"
    assert "Welcome to Step 1 & 2" in text
    assert "<em>Step 1 &amp; 2</em>" in html
    assert "&lt;Ada&gt;" in html and "<Ada>" not in html
    assert "https://p.test/unsubscribe/t" in text and "https://p.test/unsubscribe/t" in html


def test_a_bounce_message_id_names_the_campaign_recipient():
    key = campaign_render.message_key(42)
    assert campaign_render.recipient_id_of(f"<{key}@preceptor.localhost>") == 42
    assert campaign_render.recipient_id_of("<abc@x>") is None
    assert campaign_render.recipient_id_of(None) is None


def test_data_is_dot_stuffed_with_crlf_and_ends_in_crlf_without_the_final_dot():
    assert dot_stuffed(b"a\n.b\r\n..c\rd") == b"a\r\n..b\r\n...c\r\nd\r\n"
    assert dot_stuffed(b".\r\n") == b"..\r\n"
