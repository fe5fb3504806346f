"""Events that become emails. Each handler only inserts delivery rows (DESIGN.md §8).

A handler commits once, so an event that means two emails queues both or neither.
"""

from __future__ import annotations

from services.email import audiences, reader_zones
from services.email.compose import Learn
from services.email.use_cases import accounts, enrollments, progress, testimonials, tutoring
from shared.bus.envelope import Event, load_data
from shared.bus.handlers import Handlers
from shared.db import UnitOfWork

handlers = Handlers("email")


@handlers.on("user.registered")
def on_user_registered(event: Event, uow: UnitOfWork) -> None:
    accounts.welcome(uow, event.id, load_data(event))


@handlers.on("user.time_zone_changed")
def on_user_time_zone_changed(event: Event, uow: UnitOfWork) -> None:
    reader_zones.time_zone_changed(uow, load_data(event))


@handlers.on("user.invited")
def on_user_invited(event: Event, uow: UnitOfWork) -> None:
    accounts.invite(uow, event.id, load_data(event))


@handlers.on("user.password_reset_requested")
def on_password_reset_requested(event: Event, uow: UnitOfWork) -> None:
    accounts.password_reset(uow, event.id, load_data(event))


@handlers.on("user.registration_attempted")
def on_registration_attempted(event: Event, uow: UnitOfWork) -> None:
    accounts.registration_attempted(uow, event.id, load_data(event))


@handlers.on("enrollment.activated")
def on_enrollment_activated(event: Event, uow: UnitOfWork) -> None:
    data = load_data(event)
    enrollments.enrollment_activated(
        uow, event.id, data, learn=_enrollment_fact(event.type, data), paid_at=event.occurred_at
    )


@handlers.on("enrollment.expired")
def on_enrollment_expired(event: Event, uow: UnitOfWork) -> None:
    enrollments.enrollment_expired(uow, event.id, load_data(event))


@handlers.on("enrollment.waitlist_offered")
def on_waitlist_offered(event: Event, uow: UnitOfWork) -> None:
    enrollments.waitlist_offered(uow, event.id, load_data(event))


@handlers.on("enrollment.refunded")
def on_enrollment_refunded(event: Event, uow: UnitOfWork) -> None:
    data = load_data(event)
    enrollments.enrollment_refunded(uow, event.id, data, learn=_enrollment_fact(event.type, data))


@handlers.on("enrollment.access_expiring")
def on_access_expiring(event: Event, uow: UnitOfWork) -> None:
    enrollments.access_expiring(uow, event.id, load_data(event))


@handlers.on("enrollment.deferred")
def on_enrollment_deferred(event: Event, uow: UnitOfWork) -> None:
    enrollments.enrollment_deferred(uow, event.id, load_data(event))


@handlers.on("consultation.booked")
def on_consultation_booked(event: Event, uow: UnitOfWork) -> None:
    tutoring.consultation_booked(uow, event.id, load_data(event))


@handlers.on("consultation.cancelled")
def on_consultation_cancelled(event: Event, uow: UnitOfWork) -> None:
    tutoring.consultation_cancelled(uow, event.id, load_data(event))


@handlers.on("consultation.completed")
def on_consultation_completed(event: Event, uow: UnitOfWork) -> None:
    data = load_data(event)
    tutoring.consultation_completed(
        uow, event.id, data, learn=lambda db: audiences.learn_consultation(db, data)
    )


@handlers.on("study_plan.published")
def on_study_plan_published(event: Event, uow: UnitOfWork) -> None:
    tutoring.study_plan_published(uow, event.id, load_data(event))


@handlers.on("package.purchased")
def on_package_purchased(event: Event, uow: UnitOfWork) -> None:
    tutoring.package_purchased(uow, event.id, load_data(event))


@handlers.on("session.booked")
def on_session_booked(event: Event, uow: UnitOfWork) -> None:
    tutoring.session_booked(uow, event.id, load_data(event))


@handlers.on("session.cancelled")
def on_session_cancelled(event: Event, uow: UnitOfWork) -> None:
    tutoring.session_cancelled(uow, event.id, load_data(event))


@handlers.on("session.completed")
def on_session_completed(event: Event, uow: UnitOfWork) -> None:
    tutoring.session_completed(uow, event.id, load_data(event))


@handlers.on("session.reminder_due")
def on_session_reminder_due(event: Event, uow: UnitOfWork) -> None:
    tutoring.session_reminder_due(uow, event.id, load_data(event))


@handlers.on("testimonial.requested")
def on_testimonial_requested(event: Event, uow: UnitOfWork) -> None:
    testimonials.testimonial_requested(uow, event.id, load_data(event))


@handlers.on("testimonial.approved")
def on_testimonial_approved(event: Event, uow: UnitOfWork) -> None:
    testimonials.testimonial_approved(uow, event.id, load_data(event))


@handlers.on("progress.digest_due")
def on_progress_digest_due(event: Event, uow: UnitOfWork) -> None:
    progress.progress_digest(uow, event.id, load_data(event))


@handlers.on("progress.tutor_digest_due")
def on_progress_tutor_digest_due(event: Event, uow: UnitOfWork) -> None:
    progress.tutor_digest(uow, event.id, load_data(event))


@handlers.on("plan.result_missing")
def on_plan_result_missing(event: Event, uow: UnitOfWork) -> None:
    progress.result_missing(uow, event.id, load_data(event))


@handlers.on("study_plan.revision_proposed")
def on_study_plan_revision_proposed(event: Event, uow: UnitOfWork) -> None:
    progress.revision_proposed(uow, event.id, load_data(event))


@handlers.on("readiness.warning")
def on_readiness_warning(event: Event, uow: UnitOfWork) -> None:
    progress.readiness_warning(uow, event.id, load_data(event))


# --- audience facts (campaigns): events that teach audiences but send no email ------------------


def _enrollment_fact(event_type: str, data: dict) -> Learn:
    return lambda db: audiences.learn_enrollment(db, event_type, data)


@handlers.on("enrollment.completed")
def on_enrollment_completed(event: Event, uow: UnitOfWork) -> None:
    audiences.learn(uow, _enrollment_fact(event.type, load_data(event)))


@handlers.on("enrollment.cancelled")
def on_enrollment_cancelled(event: Event, uow: UnitOfWork) -> None:
    audiences.learn(uow, _enrollment_fact(event.type, load_data(event)))
