"""The event catalogue: every event type the suite may publish, and the shape of its data.

This module is the contract between services. A producer cannot publish, and a consumer will
not accept, an event whose type is missing here or whose data does not validate against its
schema. ``docs/events.md`` is generated from it (``make docs``).
"""

from __future__ import annotations

from dataclasses import dataclass

from marshmallow import RAISE, Schema, fields, validate


@dataclass(frozen=True)
class EventType:
    name: str
    version: int
    schema: type[Schema]
    description: str
    producer: str


CATALOGUE: dict[str, EventType] = {}


def event(name: str, *, version: int = 1, producer: str, description: str):
    """Register the decorated schema as the data of event type ``name``."""

    def register(schema: type[Schema]) -> type[Schema]:
        if name in CATALOGUE:
            raise ValueError(f"event type {name} is registered twice")
        CATALOGUE[name] = EventType(name, version, schema, description.strip(), producer)
        return schema

    return register


class EventData(Schema):
    class Meta:
        unknown = RAISE


ROLES = ("student", "tutor", "marketing", "admin")
Email = fields.Email


# --- identity -----------------------------------------------------------------------------


@event(
    "user.registered",
    producer="identity",
    description="""
A person created a student account (or accepted an invitation). The email service welcomes them,
and keeps ``time_zone`` (the IANA zone they read times in, if known) to print times in their mail.
""",
)
class UserRegistered(EventData):
    user_id = fields.String(required=True)
    email = Email(required=True)
    name = fields.String(required=True)
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES)), required=True)
    time_zone = fields.String(load_default=None, allow_none=True)


@event(
    "user.time_zone_changed",
    producer="identity",
    description="""
A person chose the time zone they read times in on their account (``null``: not chosen any more,
so UTC in mail). The email service prints times in their mail on that clock.
""",
)
class UserTimeZoneChanged(EventData):
    user_id = fields.String(required=True)
    email = Email(required=True)
    time_zone = fields.String(required=True, allow_none=True)


@event(
    "user.invited",
    producer="identity",
    description="""
An admin created a tutor, marketing or admin account. The invitation email carries a signed,
expiring link (``token``) that lets the person choose a password.
""",
)
class UserInvited(EventData):
    user_id = fields.String(required=True)
    email = Email(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    token = fields.String(required=True)
    expires_at = fields.AwareDateTime(required=True)


@event(
    "user.password_reset_requested",
    producer="identity",
    description="""
Someone asked to reset the password of an existing account. The email carries a signed link
(``token``) that works once, until ``expires_at``.
""",
)
class PasswordResetRequested(EventData):
    user_id = fields.String(required=True)
    email = Email(required=True)
    name = fields.String(required=True)
    token = fields.String(required=True)
    expires_at = fields.AwareDateTime(required=True)


@event(
    "user.registration_attempted",
    producer="identity",
    description="""
Someone tried to register with the email of an existing account. Registration answers the same
whether or not the address has an account, so the email service tells the owner instead (sign
in, or reset the password) and a stranger learns nothing. At most ``MAIL_REQUEST_LIMIT`` per
address in ``MAIL_REQUEST_WINDOW``.
""",
)
class RegistrationAttempted(EventData):
    user_id = fields.String(required=True)
    email = Email(required=True)
    name = fields.String(required=True)


# --- email --------------------------------------------------------------------------------


@event(
    "subscriber.confirmed",
    producer="email",
    description="""
An address confirmed its subscription to email updates (double opt-in completed).
""",
)
class SubscriberConfirmed(EventData):
    subscriber_id = fields.String(required=True)
    email = Email(required=True)
    topics = fields.List(fields.String(), required=True)


@event(
    "subscriber.unsubscribed",
    producer="email",
    description="""
An address unsubscribed from every email update (one click, or from the preference page).
""",
)
class SubscriberUnsubscribed(EventData):
    subscriber_id = fields.String(required=True)
    email = Email(required=True)


@event(
    "campaign.sent",
    producer="email",
    description="""
A campaign finished: every recipient it had when sending started was mailed once, skipped by
the suppression list, or failed for good. The figures are final.
""",
)
class CampaignSent(EventData):
    campaign_id = fields.String(required=True)
    subject = fields.String(required=True)
    audience = fields.String(required=True)
    recipients = fields.Integer(required=True, validate=validate.Range(min=0))
    sent = fields.Integer(required=True, validate=validate.Range(min=0))
    failed = fields.Integer(required=True, validate=validate.Range(min=0))
    suppressed = fields.Integer(required=True, validate=validate.Range(min=0))
    finished_at = fields.AwareDateTime(required=True)


# --- enrollment ---------------------------------------------------------------------------


class EnrollmentFacts(EventData):
    """What every enrollment event says, so consumers never need enrollment's tables."""

    enrollment_id = fields.String(required=True)
    student_id = fields.String(required=True)
    email = Email(required=True)
    name = fields.String(required=True)
    course_slug = fields.String(required=True)
    course_title = fields.String(required=True)
    cycle_start = fields.Date(required=True)


@event(
    "enrollment.pending",
    producer="enrollment",
    description="""
A student started checkout: a seat in the cycle is held until ``hold_expires_at`` while the
payment is pending.
""",
)
class EnrollmentPending(EnrollmentFacts):
    amount_minor = fields.Integer(required=True, validate=validate.Range(min=0))
    currency = fields.String(required=True, validate=validate.Length(equal=3))
    hold_expires_at = fields.AwareDateTime(required=True)


@event(
    "enrollment.activated",
    producer="enrollment",
    description="""
The enrollment is paid (or free with a promotion code): the student has a seat and access from
``cycle_start`` until ``access_ends_on``. The email service sends the receipt and the welcome.
""",
)
class EnrollmentActivated(EnrollmentFacts):
    cycle_end = fields.Date(required=True)
    access_ends_on = fields.Date(required=True)
    amount_minor = fields.Integer(required=True, validate=validate.Range(min=0))
    currency = fields.String(required=True, validate=validate.Length(equal=3))
    payment_id = fields.String(required=True, allow_none=True)


@event(
    "enrollment.expired",
    producer="enrollment",
    description="""
The seat hold lapsed before payment arrived; the seat is free again.
""",
)
class EnrollmentExpired(EnrollmentFacts):
    pass


@event(
    "enrollment.cancelled",
    producer="enrollment",
    description="""
A pending enrollment was cancelled (by the student or an admin) and its seat released.
""",
)
class EnrollmentCancelled(EnrollmentFacts):
    reason = fields.String(required=True)


@event(
    "enrollment.deferred",
    producer="enrollment",
    description="""
The student used their one free deferral: the seat moved from ``from_cycle_start`` to
``cycle_start``.
""",
)
class EnrollmentDeferred(EnrollmentFacts):
    from_cycle_start = fields.Date(required=True)
    access_ends_on = fields.Date(required=True)


@event(
    "enrollment.refunded",
    producer="enrollment",
    description="""
The payment was refunded: the enrollment ends and its seat is released.
""",
)
class EnrollmentRefunded(EnrollmentFacts):
    amount_minor = fields.Integer(required=True, validate=validate.Range(min=0))
    currency = fields.String(required=True, validate=validate.Length(equal=3))


@event(
    "enrollment.completed",
    producer="enrollment",
    description="""
The student's access period ended; the enrollment is complete.
""",
)
class EnrollmentCompleted(EnrollmentFacts):
    access_ends_on = fields.Date(required=True)


@event(
    "enrollment.access_expiring",
    producer="enrollment",
    description="""
The student's access ends soon (sent once per enrollment, a few days before ``access_ends_on``).
""",
)
class EnrollmentAccessExpiring(EnrollmentFacts):
    access_ends_on = fields.Date(required=True)


@event(
    "enrollment.waitlist_offered",
    producer="enrollment",
    description="""
A seat freed up in a full cycle and is held for the first student on its waitlist until
``offer_expires_at``; ``enrollment_id`` is the pending enrollment they can pay for.
""",
)
class WaitlistOffered(EnrollmentFacts):
    offer_expires_at = fields.AwareDateTime(required=True)
    amount_minor = fields.Integer(required=True, validate=validate.Range(min=0))
    currency = fields.String(required=True, validate=validate.Length(equal=3))


@event(
    "refund.requested",
    producer="enrollment",
    description="""
A purchase should be refunded (a student asked inside the refund window). Payments refunds it
through Stripe, at most once per payment, and answers with ``payment.refunded``.
""",
)
class RefundRequested(EventData):
    refund_request_id = fields.String(required=True)
    purchase_ref = fields.String(required=True)
    user_id = fields.String(required=True)
    amount_minor = fields.Integer(required=True, allow_none=True, validate=validate.Range(min=1))
    reason = fields.String(required=True)


# --- payments -----------------------------------------------------------------------------

PURCHASE_KINDS = ("enrollment", "tutoring_package")


class PaymentFacts(EventData):
    payment_id = fields.String(required=True)
    purchase_ref = fields.String(required=True)
    purchase_kind = fields.String(required=True, validate=validate.OneOf(PURCHASE_KINDS))
    user_id = fields.String(required=True)
    amount_minor = fields.Integer(required=True, validate=validate.Range(min=0))
    currency = fields.String(required=True, validate=validate.Length(equal=3))


@event(
    "payment.succeeded",
    producer="payments",
    description="""
Stripe confirmed the payment of a purchase (learned from its webhook or by reconciliation).
""",
)
class PaymentSucceeded(PaymentFacts):
    stripe_payment_intent_id = fields.String(required=True)


@event(
    "payment.failed",
    producer="payments",
    description="""
A payment attempt failed (e.g. the card was declined). The purchase stays pending; the buyer
may try again until the hold expires.
""",
)
class PaymentFailed(PaymentFacts):
    reason = fields.String(required=True)


@event(
    "payment.refunded",
    producer="payments",
    description="""
Money went back to the buyer, in full or in part (``amount_minor`` is this refund's amount).
""",
)
class PaymentRefunded(PaymentFacts):
    refund_id = fields.String(required=True)
    refund_request_id = fields.String(required=True, allow_none=True)


@event(
    "payment.disputed",
    producer="payments",
    description="""
The buyer's bank opened a dispute (chargeback) on the payment.
""",
)
class PaymentDisputed(PaymentFacts):
    reason = fields.String(required=True)


# --- tutoring -----------------------------------------------------------------------------


class MeetingFacts(EventData):
    """Who meets whom and when: enough for an email with a calendar invite, in both zones."""

    student_id = fields.String(required=True)
    student_email = Email(required=True)
    student_name = fields.String(required=True)
    student_timezone = fields.String(required=True)
    tutor_id = fields.String(required=True)
    tutor_email = Email(required=True)
    tutor_name = fields.String(required=True)
    tutor_timezone = fields.String(required=True)
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    ics_uid = fields.String(required=True)
    ics_sequence = fields.Integer(required=True, validate=validate.Range(min=0))


@event(
    "consultation.booked",
    producer="tutoring",
    description="""
A student booked their free initial consultation with a tutor (the intake is stored by
tutoring). The email service sends both of them a confirmation with a METHOD:REQUEST invite.
""",
)
class ConsultationBooked(MeetingFacts):
    consultation_id = fields.String(required=True)


@event(
    "consultation.cancelled",
    producer="tutoring",
    description="""
A booked consultation was cancelled by the student or the tutor; the slot is free again. The
email carries a METHOD:CANCEL with the same UID and a higher sequence.
""",
)
class ConsultationCancelled(MeetingFacts):
    consultation_id = fields.String(required=True)
    cancelled_by = fields.String(required=True, validate=validate.OneOf(("student", "tutor")))
    reason = fields.String(required=True)


@event(
    "consultation.completed",
    producer="tutoring",
    description="""
The tutor ran the consultation. The student may now book paid sessions; testimonials learns
the student is a verified tutoring student.
""",
)
class ConsultationCompleted(EventData):
    consultation_id = fields.String(required=True)
    student_id = fields.String(required=True)
    student_email = Email(required=True)
    student_name = fields.String(required=True)
    tutor_id = fields.String(required=True)
    tutor_name = fields.String(required=True)


@event(
    "assessment.recorded",
    producer="tutoring",
    description="""
The tutor recorded (or revised) the assessment of a consultation: strengths, weaknesses, goals.
""",
)
class AssessmentRecorded(EventData):
    consultation_id = fields.String(required=True)
    student_id = fields.String(required=True)
    tutor_id = fields.String(required=True)


@event(
    "study_plan.published",
    producer="tutoring",
    description="""
A study plan version is ready for the student (the first one, or a tutor's revision).
""",
)
class StudyPlanPublished(EventData):
    plan_id = fields.String(required=True)
    version = fields.Integer(required=True, validate=validate.Range(min=1))
    student_id = fields.String(required=True)
    student_email = Email(required=True)
    student_name = fields.String(required=True)
    tutor_name = fields.String(required=True)
    exam = fields.String(required=True)
    exam_date = fields.Date(required=True)


@event(
    "package.purchased",
    producer="tutoring",
    description="""
A student's payment for a package of tutoring hours went through; the hours are credited.
""",
)
class PackagePurchased(EventData):
    package_id = fields.String(required=True)
    student_id = fields.String(required=True)
    student_email = Email(required=True)
    student_name = fields.String(required=True)
    tutor_id = fields.String(required=True)
    tutor_name = fields.String(required=True)
    hours = fields.Integer(required=True, validate=validate.Range(min=1))
    amount_minor = fields.Integer(required=True, validate=validate.Range(min=0))
    currency = fields.String(required=True, validate=validate.Length(equal=3))


@event(
    "session.booked",
    producer="tutoring",
    description="""
A paid 1:1 session was booked with one credit (or moved: ``rescheduled`` is true, the UID is
the same and the sequence higher, so calendars move the existing entry).
""",
)
class SessionBooked(MeetingFacts):
    session_id = fields.String(required=True)
    rescheduled = fields.Boolean(required=True)


@event(
    "session.cancelled",
    producer="tutoring",
    description="""
A session was cancelled. ``credit_returned`` says whether the hour went back to the student
(always when the tutor cancels; when the student cancels before the cut-off).
""",
)
class SessionCancelled(MeetingFacts):
    session_id = fields.String(required=True)
    cancelled_by = fields.String(required=True, validate=validate.OneOf(("student", "tutor")))
    credit_returned = fields.Boolean(required=True)
    reason = fields.String(required=True)


@event(
    "session.completed",
    producer="tutoring",
    description="""
The tutor finished a session and wrote the lesson note, which is emailed to the student.
""",
)
class SessionCompleted(EventData):
    session_id = fields.String(required=True)
    student_id = fields.String(required=True)
    student_email = Email(required=True)
    student_name = fields.String(required=True)
    tutor_id = fields.String(required=True)
    tutor_name = fields.String(required=True)
    starts_at = fields.AwareDateTime(required=True)
    lesson_note = fields.String(required=True)


@event(
    "session.reminder_due",
    producer="tutoring",
    description="""
A booked session starts in about 24 hours; published once per session (and again only if it
is moved), whatever the worker restarts.
""",
)
class SessionReminderDue(MeetingFacts):
    session_id = fields.String(required=True)


# --- testimonials -------------------------------------------------------------------------

PROGRAM = validate.Regexp(r"^(tutoring|course:[a-z0-9][a-z0-9-]*)$")
"""A testimonial is about a course (``course:<slug>``) or about 1:1 ``tutoring``."""
AUTHOR_ROLES = ("student", "tutor", "staff")


@event(
    "testimonial.requested",
    producer="testimonials",
    description="""
A student finished a course (``enrollment.completed``) or their Nth tutoring session, and is
asked once per program for their story. ``token`` is the signed, expiring submission link's
secret; the email service mails ``PUBLIC_URL/testimonials/new/<token>``.
""",
)
class TestimonialRequested(EventData):
    request_id = fields.String(required=True)
    user_id = fields.String(required=True)
    email = Email(required=True)
    name = fields.String(required=True)
    program = fields.String(required=True, validate=PROGRAM)
    program_label = fields.String(required=True)
    token = fields.String(required=True)
    expires_at = fields.AwareDateTime(required=True)


@event(
    "testimonial.submitted",
    producer="testimonials",
    description="""
Someone submitted a testimonial; it waits for moderation. Without ``consent`` it is private
feedback and can never be published.
""",
)
class TestimonialSubmitted(EventData):
    testimonial_id = fields.String(required=True)
    user_id = fields.String(required=True, allow_none=True)
    display_name = fields.String(required=True)
    program = fields.String(required=True, validate=PROGRAM)
    rating = fields.Integer(required=True, validate=validate.Range(min=1, max=5))
    consent = fields.Boolean(required=True)
    verified = fields.Boolean(required=True)
    author_role = fields.String(required=True, validate=validate.OneOf(AUTHOR_ROLES))


@event(
    "testimonial.approved",
    producer="testimonials",
    description="""
Marketing approved a testimonial: it is on the public wall. The email service thanks the author.
""",
)
class TestimonialApproved(EventData):
    testimonial_id = fields.String(required=True)
    user_id = fields.String(required=True, allow_none=True)
    email = Email(required=True)
    display_name = fields.String(required=True)
    program = fields.String(required=True, validate=PROGRAM)
    program_label = fields.String(required=True)
    verified = fields.Boolean(required=True)


@event(
    "testimonial.rejected",
    producer="testimonials",
    description="""
Marketing rejected a testimonial (or took an approved one down), for a stated reason that is
never the rating alone.
""",
)
class TestimonialRejected(EventData):
    testimonial_id = fields.String(required=True)
    user_id = fields.String(required=True, allow_none=True)
    reason = fields.String(required=True)


@event(
    "testimonial.featured",
    producer="testimonials",
    description="""
Marketing featured an approved testimonial (``featured`` true: first on the wall) or stopped
featuring it (``featured`` false).
""",
)
class TestimonialFeatured(EventData):
    testimonial_id = fields.String(required=True)
    featured = fields.Boolean(required=True)


# --- tutoring: progress (its own module; imported last so it registers after the rest) ---

from shared.bus import progress_events  # noqa: E402, F401
