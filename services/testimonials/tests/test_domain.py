"""The rules of testimonials, checked without a database."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.testimonials import domain, tokens
from services.testimonials.domain import Status
from shared import config

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


# --- moderation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (Status.PENDING, Status.APPROVED),
        (Status.PENDING, Status.REJECTED),
        (Status.APPROVED, Status.REJECTED),
        (Status.REJECTED, Status.APPROVED),
    ],
)
def test_moderation_allows_the_moves_of_the_transition_table(current, target):
    assert domain.moderate(current, target, consented=True) is target


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (Status.APPROVED, Status.APPROVED),
        (Status.REJECTED, Status.REJECTED),
        (Status.APPROVED, Status.PENDING),
        (Status.REJECTED, Status.PENDING),
        (Status.PENDING, Status.PENDING),
    ],
)
def test_moderation_refuses_every_other_move(current, target):
    with pytest.raises(domain.ModerationNotAllowed) as err:
        domain.moderate(current, target, consented=True)
    assert err.value.status == 409


@pytest.mark.parametrize("current", list(Status))
def test_a_story_without_consent_can_never_be_approved(current):
    with pytest.raises(domain.NoConsentToPublish) as err:
        domain.moderate(current, Status.APPROVED, consented=False)
    assert err.value.status == 409
    assert not domain.is_public(Status.APPROVED, consented=False)


def test_a_story_without_consent_can_still_be_rejected():
    assert domain.moderate(Status.PENDING, Status.REJECTED, consented=False) is Status.REJECTED


def test_only_an_approved_consented_story_is_public():
    assert domain.is_public(Status.APPROVED, consented=True)
    assert not domain.is_public(Status.PENDING, consented=True)
    assert not domain.is_public(Status.REJECTED, consented=True)


def test_only_an_approved_story_can_be_featured():
    domain.ensure_on_wall(Status.APPROVED)
    for status in (Status.PENDING, Status.REJECTED):
        with pytest.raises(domain.NotOnTheWall):
            domain.ensure_on_wall(status)


def test_rejection_reasons_are_a_fixed_list_that_never_mentions_the_rating():
    for reason in domain.REJECTION_REASONS:
        assert domain.ensure_rejection_reason(reason) == reason
        assert "rating" not in reason and "negative" not in reason
    for reason in ("low_rating", "rating", "negative", ""):
        with pytest.raises(domain.InvalidRejection) as err:
            domain.ensure_rejection_reason(reason)
        assert err.value.field == "reason"


# --- authors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("roles", "role"),
    [
        (["student"], "student"),
        ([], "student"),
        (["tutor"], "tutor"),
        (["tutor", "admin"], "tutor"),
        (["marketing"], "staff"),
        (["admin"], "staff"),
        (["student", "marketing"], "staff"),
    ],
)
def test_the_author_role_comes_from_the_token_roles(roles, role):
    assert domain.author_role(roles) == role


def test_verified_means_a_known_student_of_that_program():
    facts = [("u1", "course:usmle-step-1-prep"), ("u2", "tutoring")]
    assert domain.is_verified("u1", "course:usmle-step-1-prep", facts)
    assert not domain.is_verified("u1", "tutoring", facts)
    assert not domain.is_verified("u3", "tutoring", facts)
    assert not domain.is_verified(None, "tutoring", facts)


def test_programs_are_labelled_by_course_title_or_as_tutoring():
    known = {"course:usmle-step-1-prep": "USMLE Step 1 Prep"}
    assert domain.course_program("usmle-step-1-prep") == "course:usmle-step-1-prep"
    assert domain.program_label("tutoring", known) == "1:1 tutoring"
    assert domain.program_label("course:usmle-step-1-prep", known) == "USMLE Step 1 Prep"
    assert domain.program_label("course:step-2-ck") == "Step 2 Ck"


# --- what people write ---------------------------------------------------------------------------


def test_story_and_display_name_limits():
    assert domain.clean_story("  " + "x" * 20 + "  ") == "x" * 20
    assert domain.clean_display_name("  Ada   L. ") == "Ada L."
    for story in ("x" * 19, " " * 30 + "short", "x" * 2001):
        with pytest.raises(domain.InvalidStory) as err:
            domain.clean_story(story)
        assert err.value.field == "story"
    for name in ("", "   ", "x" * 81):
        with pytest.raises(domain.InvalidStory) as err:
            domain.clean_display_name(name)
        assert err.value.field == "display_name"
    with pytest.raises(domain.InvalidStory) as err:
        domain.clean_note("  ")
    assert err.value.field == "note"


# --- requests ------------------------------------------------------------------------------------


def test_the_request_after_sessions_comes_at_the_nth_completed_session():
    assert not domain.request_due_after_sessions(2, 3)
    assert domain.request_due_after_sessions(3, 3)
    assert domain.request_due_after_sessions(4, 3)
    assert domain.request_due_after_sessions(1, 0)  # a threshold below one means the first


def test_the_configured_default_agrees_with_the_domain_and_the_readme():
    [variable] = [v for v in config.VARIABLES if v.name == "TESTIMONIAL_REQUEST_AFTER_SESSIONS"]
    assert int(variable.default) == domain.DEFAULT_REQUEST_AFTER_SESSIONS
    readme = (Path(config.__file__).resolve().parents[1] / "README.md").read_text()
    row = re.search(
        r"^\|\s*`TESTIMONIAL_REQUEST_AFTER_SESSIONS`\s*\|\s*`?(\w+)`?\s*\|", readme, re.M
    )
    assert row and int(row.group(1)) == domain.DEFAULT_REQUEST_AFTER_SESSIONS


def test_a_request_token_names_its_request_and_expires_after_30_days():
    token = tokens.request_token("req-1")
    assert tokens.read_request_token(token) == "req-1"
    old = (datetime.now(UTC) - timedelta(days=domain.REQUEST_VALID_DAYS, minutes=1)).timestamp()
    with pytest.raises(tokens.Expired):
        tokens.read_request_token(tokens.request_token("req-1", issued_at=old))
    with pytest.raises(tokens.Invalid):
        tokens.read_request_token("f" + token[1:])  # the payload changed, the signature not
    with pytest.raises(tokens.Invalid):
        tokens.read_request_token("not-a-token")


# --- the wall ------------------------------------------------------------------------------------


def test_the_wall_is_featured_first_then_marketing_order_then_newest_approval():
    places = {
        "old": domain.WallPlace(False, None, T0),
        "new": domain.WallPlace(False, None, T0 + timedelta(days=1)),
        "placed-2": domain.WallPlace(False, 2, T0),
        "placed-1": domain.WallPlace(False, 1, T0 - timedelta(days=9)),
        "star-2": domain.WallPlace(True, 2, T0),
        "star-unplaced": domain.WallPlace(True, None, T0 + timedelta(days=5)),
        "star-1": domain.WallPlace(True, 1, T0),
    }
    order = sorted(places, key=lambda k: domain.wall_key(places[k]))
    assert order == ["star-1", "star-2", "star-unplaced", "placed-1", "placed-2", "new", "old"]


def test_a_new_wall_order_puts_the_listed_first_and_keeps_the_rest_as_they_were():
    assert domain.wall_order(["a", "b", "c", "d"], ["c", "a"]) == ["c", "a", "b", "d"]
    assert domain.wall_order(["a", "b"], []) == ["a", "b"]
    with pytest.raises(domain.InvalidWallOrder) as err:
        domain.wall_order(["a", "b"], ["a", "a"])
    assert err.value.field == "ids"
    with pytest.raises(domain.InvalidWallOrder):
        domain.wall_order(["a", "b"], ["z"])
