"""The rules of testimonials, free of Flask, sessions and kombu.

- **Moderation** is a small state machine (a transition table): pending → approved | rejected,
  an approved story can be taken down (→ rejected) and a rejected one reconsidered
  (→ approved).
- **Consent** is the gate of everything public: a story without consent is private feedback; it
  can never be approved, featured or shown. The database holds the same rule as a CHECK
  constraint (see ``models``).
- **Rejection** needs a reason from a fixed list, and the rating is never one of them: nobody
  suppresses a review for being negative.
- **Verified**: the author is known (from enrollment's and tutoring's events) to be a student
  of the program the story is about.
- **Requests**: a student is asked once per program, after finishing a course or after their
  Nth completed tutoring session.
- **The wall**: featured stories first, each group in the order marketing set, the rest after
  it, newest approval first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from shared.errors import Conflict, DomainError, NotFound


class Status(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.PENDING: frozenset({Status.APPROVED, Status.REJECTED}),
    Status.APPROVED: frozenset({Status.REJECTED}),
    Status.REJECTED: frozenset({Status.APPROVED}),
}
"""Moderation moves a testimonial may make; anything else is refused (409)."""

REJECTION_REASONS = (
    "spam",
    "offensive",
    "personal_data",
    "not_about_us",
    "duplicate",
    "author_request",
)
"""Why a story may be refused. The rating is deliberately not a reason."""

AUTHOR_ROLES = ("student", "tutor", "staff")
STAFF_ROLES = ("marketing", "admin")

TUTORING = "tutoring"
TUTORING_LABEL = "1:1 tutoring"
COURSE_PREFIX = "course:"

DISPLAY_NAME_MAX = 80
STORY_MIN = 20
STORY_MAX = 2000
RATING_MIN = 1
RATING_MAX = 5
NOTE_MAX = 500

DEFAULT_REQUEST_AFTER_SESSIONS = 3
"""The default of ``TESTIMONIAL_REQUEST_AFTER_SESSIONS`` (``shared.config`` declares the same)."""
REQUEST_VALID_DAYS = 30

CONSENT_VERSION = "2026-11"
CONSENT_TEXT = (
    "I agree that Preceptor may publish this testimonial, under the name I chose above, with "
    "my rating and the program it is about, on its website and in its marketing (including "
    "pages of other sites that embed the Preceptor testimonials). Preceptor may shorten or "
    "correct it without changing its meaning. I can ask for it to be taken down at any time."
)
"""The consent the form shows and each consented testimonial stores, word for word."""


# --- errors, in business words -------------------------------------------------------------------


class TestimonialNotFound(NotFound):
    title = "No such testimonial"


class NoConsentToPublish(Conflict):
    title = "The author did not consent to publication"


class ModerationNotAllowed(Conflict):
    title = "That moderation step is not possible from the testimonial's status"


class NotOnTheWall(Conflict):
    title = "Only an approved testimonial can be featured"


class UnknownProgram(DomainError):
    title = "Unknown program"


class InvalidStory(DomainError):
    title = "The testimonial is not acceptable as written"


class InvalidRejection(DomainError):
    title = "A rejection needs one of the listed reasons"


class NothingToEdit(DomainError):
    title = "Send a new display_name or story"


class InvalidWallOrder(DomainError):
    title = "The wall order must list approved testimonials, each once"


class RequestLinkNotFound(NotFound):
    title = "The testimonial link is not valid"


class InvalidRequestLink(DomainError):
    title = "The testimonial link is not valid"


class RequestLinkGone(DomainError):
    status = 410
    title = "The testimonial link has expired"


class MissingAuthor(DomainError):
    status = 401
    title = "Sign in, or use the link from your email"


# --- moderation ----------------------------------------------------------------------------------


def moderate(current: Status | str, target: Status | str, *, consented: bool) -> Status:
    """The status after a moderation step, or the business reason it cannot happen."""
    current, target = Status(current), Status(target)
    if target is Status.APPROVED and not consented:
        raise NoConsentToPublish(
            "The author did not consent to publication: this story stays private feedback."
        )
    if target not in TRANSITIONS[current]:
        raise ModerationNotAllowed(f"A {current.value} testimonial cannot become {target.value}.")
    return target


def ensure_rejection_reason(reason: str) -> str:
    if reason not in REJECTION_REASONS:
        raise InvalidRejection(
            f"Choose one of: {', '.join(REJECTION_REASONS)} (never the rating).", field="reason"
        )
    return reason


def ensure_on_wall(status: Status | str) -> None:
    if Status(status) is not Status.APPROVED:
        raise NotOnTheWall("Approve the testimonial before featuring it.")


def is_public(status: Status | str, consented: bool) -> bool:
    """Shown to the public: approved, and (always, by the rule above) consented."""
    return Status(status) is Status.APPROVED and consented


# --- who wrote it --------------------------------------------------------------------------------


def author_role(roles: Iterable[str]) -> str:
    """``tutor`` if the token has the tutor role, ``staff`` for marketing/admin, else student."""
    roles = set(roles)
    if "tutor" in roles:
        return "tutor"
    if roles & set(STAFF_ROLES):
        return "staff"
    return "student"


def is_verified(user_id: str | None, program: str, facts: Iterable[tuple[str, str]]) -> bool:
    """The author is a known student of the program (facts are ``(user_id, program)``)."""
    return user_id is not None and (user_id, program) in set(facts)


# --- programs ------------------------------------------------------------------------------------


def course_program(slug: str) -> str:
    return f"{COURSE_PREFIX}{slug}"


def program_label(program: str, known: dict[str, str] | None = None) -> str:
    """The label people read: the course title learned from events, or "1:1 tutoring"."""
    if program == TUTORING:
        return TUTORING_LABEL
    if known and program in known:
        return known[program]
    return program.removeprefix(COURSE_PREFIX).replace("-", " ").title()


# --- what people write ---------------------------------------------------------------------------


def clean_display_name(value: str) -> str:
    name = " ".join(value.split())
    if not 1 <= len(name) <= DISPLAY_NAME_MAX:
        raise InvalidStory(
            f"The name shown needs 1 to {DISPLAY_NAME_MAX} characters.", field="display_name"
        )
    return name


def clean_story(value: str) -> str:
    story = value.strip()
    if not STORY_MIN <= len(story) <= STORY_MAX:
        raise InvalidStory(
            f"The story needs {STORY_MIN} to {STORY_MAX} characters (without surrounding blanks).",
            field="story",
        )
    return story


def clean_note(value: str) -> str:
    note = value.strip()
    if not 1 <= len(note) <= NOTE_MAX:
        raise InvalidStory(f"Say why you edit it (1 to {NOTE_MAX} characters).", field="note")
    return note


# --- requests ------------------------------------------------------------------------------------


def request_due_after_sessions(completed_sessions: int, threshold: int) -> bool:
    """Ask about tutoring once the student has completed ``threshold`` sessions.

    "Once per (user, program)" is the database's part (a unique request per user and program);
    this only says whether the moment has come. A later session still answers yes, so a count
    that was reached while the request could not be written is caught up with.
    """
    return completed_sessions >= max(1, threshold)


# --- the wall ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WallPlace:
    featured: bool
    position: int | None
    approved_at: datetime | None


def wall_key(place: WallPlace) -> tuple:
    """Sort key of the public wall: featured first; within each group the order marketing set
    (positions ascending, unplaced ones after them), then the newest approval first."""
    approved = place.approved_at.timestamp() if place.approved_at else 0.0
    return (
        not place.featured,
        place.position is None,
        place.position or 0,
        -approved,
    )


def wall_order(current: list[str], requested: list[str]) -> list[str]:
    """The wall's new order: the ids asked for, in that order, then the others as they were.

    Every id asked for must be on the wall (approved), and only once.
    """
    if len(set(requested)) != len(requested):
        raise InvalidWallOrder("An id is listed twice.", field="ids")
    unknown = [i for i in requested if i not in set(current)]
    if unknown:
        raise InvalidWallOrder(
            f"Not on the wall (not approved or no such testimonial): {', '.join(unknown)}.",
            field="ids",
        )
    chosen = set(requested)
    return list(requested) + [i for i in current if i not in chosen]
