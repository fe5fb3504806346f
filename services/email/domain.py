"""The rules of subscriptions and deliveries, free of Flask, sessions and SMTP.

Double opt-in is a small state machine (pending → confirmed → unsubscribed → pending ...), and
a delivery is another (queued → sending → sent, or back to queued with backoff, or failed).
Keeping both here lets the fast tests check every transition without a database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from shared.errors import DomainError, NotFound


class SubscriberStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    UNSUBSCRIBED = "unsubscribed"


class DeliveryStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


EXAM_NAMES = {"step1": "USMLE Step 1", "step2ck": "USMLE Step 2 CK"}
"""Exams as people name them; events carry the slugs."""


def exam_name(exam: str) -> str:
    return EXAM_NAMES.get(exam, exam)


class Kind(StrEnum):
    """What an email is for; each kind has its templates and at most one email per event."""

    WELCOME = "welcome"
    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"
    REGISTRATION_ATTEMPTED = "registration_attempted"
    CONFIRM_SUBSCRIPTION = "confirm_subscription"
    SUBSCRIBED = "subscribed"
    ENROLLMENT_RECEIPT = "enrollment_receipt"
    COURSE_WELCOME = "course_welcome"
    SEAT_HOLD_EXPIRED = "seat_hold_expired"
    WAITLIST_OFFER = "waitlist_offer"
    REFUND_CONFIRMATION = "refund_confirmation"
    ACCESS_EXPIRING = "access_expiring"
    ENROLLMENT_DEFERRED = "enrollment_deferred"
    # An event that mails two people has one kind per recipient, so (event_id, kind) stays
    # unique and each of them gets their email once.
    CONSULTATION_BOOKED_STUDENT = "consultation_booked_student"
    CONSULTATION_BOOKED_TUTOR = "consultation_booked_tutor"
    CONSULTATION_CANCELLED_STUDENT = "consultation_cancelled_student"
    CONSULTATION_CANCELLED_TUTOR = "consultation_cancelled_tutor"
    CONSULTATION_COMPLETED = "consultation_completed"
    STUDY_PLAN_PUBLISHED = "study_plan_published"
    PACKAGE_RECEIPT = "package_receipt"
    SESSION_BOOKED_STUDENT = "session_booked_student"
    SESSION_BOOKED_TUTOR = "session_booked_tutor"
    SESSION_CANCELLED_STUDENT = "session_cancelled_student"
    SESSION_CANCELLED_TUTOR = "session_cancelled_tutor"
    SESSION_LESSON_NOTE = "session_lesson_note"
    SESSION_REMINDER_STUDENT = "session_reminder_student"
    SESSION_REMINDER_TUTOR = "session_reminder_tutor"
    TESTIMONIAL_REQUEST = "testimonial_request"
    TESTIMONIAL_THANKS = "testimonial_thanks"
    CAMPAIGN_TEST = "campaign_test"
    """A campaign's test send to marketing: transactional delivery, the campaign's own body."""
    # The assessment → plan loop (use_cases/progress.py).
    PROGRESS_DIGEST = "progress_digest"
    TUTOR_PROGRESS_DIGEST = "tutor_progress_digest"
    RESULT_MISSING = "result_missing"
    REVISION_PROPOSED_STUDENT = "revision_proposed_student"
    REVISION_PROPOSED_TUTOR = "revision_proposed_tutor"
    READINESS_WARNING_STUDENT = "readiness_warning_student"
    READINESS_WARNING_TUTOR = "readiness_warning_tutor"


MARKETING_KINDS = frozenset({Kind.SUBSCRIBED})
"""Kinds that must carry one-click unsubscribe (RFC 8058); transactional mail does not."""

OPT_OUT_KINDS = frozenset({Kind.PROGRESS_DIGEST, Kind.TUTOR_PROGRESS_DIGEST})
"""Service mail a person gets unless they opt out of that kind (opt_outs.py): it carries
one-click unsubscribe like marketing, but leaving it stops only that kind, nothing else."""

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)
STUCK_AFTER = timedelta(minutes=10)
"""A delivery claimed longer ago than this was lost with its worker and is claimed again, so
mail is delivered at least once (a crash after the SMTP send may send it twice)."""


class UnknownTopics(DomainError):
    title = "Unknown topics"


class InvalidConfirmation(DomainError):
    title = "The confirmation link is invalid or has expired"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, field="token")


class SubscriptionNotFound(NotFound):
    title = "No subscription for that link"


def normalize_email(address: str) -> str:
    """One spelling per mailbox, so the unique constraint catches ``Ada@X`` and ``ada@x``."""
    return address.strip().lower()


def check_topics(requested: list[str], known: set[str]) -> list[str]:
    """The requested topics in order without repeats, refusing any the school does not offer."""
    unknown = sorted(set(requested) - known)
    if unknown:
        raise UnknownTopics(f"Unknown topics: {', '.join(unknown)}.", field="topics")
    if not requested:
        raise UnknownTopics("Choose at least one topic.", field="topics")
    return list(dict.fromkeys(requested))


@dataclass(frozen=True)
class SubscribeOutcome:
    status: SubscriberStatus
    topics: list[str]
    send_confirmation: bool
    new_opt_in: bool
    """True when an earlier consent ended: old confirmation links must stop working."""


def subscribe(
    current: SubscriberStatus | None, topics_now: list[str], requested: list[str]
) -> SubscribeOutcome:
    """What subscribing does to an address in each state.

    A confirmed address only gains topics and gets no email (the answer stays the same so the
    API does not reveal who subscribes); anyone else must (re)confirm by email.
    """
    if current is None:
        return SubscribeOutcome(SubscriberStatus.PENDING, requested, True, True)
    if current is SubscriberStatus.UNSUBSCRIBED:
        return SubscribeOutcome(SubscriberStatus.PENDING, requested, True, True)
    merged = list(dict.fromkeys([*topics_now, *requested]))
    if current is SubscriberStatus.PENDING:
        return SubscribeOutcome(SubscriberStatus.PENDING, merged, True, False)
    return SubscribeOutcome(SubscriberStatus.CONFIRMED, merged, False, False)


def confirm(current: SubscriberStatus) -> bool:
    """Confirm an address; True if this confirmation is the one that completes the opt-in."""
    if current is SubscriberStatus.UNSUBSCRIBED:
        raise InvalidConfirmation("This address unsubscribed since; subscribe again.")
    return current is SubscriberStatus.PENDING


def unsubscribe(current: SubscriberStatus) -> bool:
    """Unsubscribe; True if the address was still subscribed (so the change is news)."""
    return current is not SubscriberStatus.UNSUBSCRIBED


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the ``attempts``-th failed try, capped at an hour."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


@dataclass(frozen=True)
class AfterFailure:
    status: DeliveryStatus
    next_attempt_at: datetime | None


def after_failure(attempts: int, now: datetime, *, permanent: bool = False) -> AfterFailure:
    """A failed try is retried later, unless the server refused for good or tries ran out."""
    if permanent or attempts >= MAX_ATTEMPTS:
        return AfterFailure(DeliveryStatus.FAILED, None)
    return AfterFailure(DeliveryStatus.QUEUED, now + retry_delay(attempts))
