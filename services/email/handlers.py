"""Events that become emails. Each handler only inserts delivery rows (DESIGN.md §8).

A handler commits once, so an event that means two emails queues both or neither.
"""

from __future__ import annotations

from services.email import audiences, progress_mail, reader_zones, service, testimonial_mail
from shared.bus.envelope import Event, load_data
from shared.bus.handlers import Handlers
from shared.db import UnitOfWork

handlers = Handlers("email")


@handlers.on("user.registered")
def on_user_registered(event: Event, uow: UnitOfWork) -> None:
    service.welcome(uow, event.id, load_data(event))


@handlers.on("user.time_zone_changed")
def on_user_time_zone_changed(event: Event, uow: UnitOfWork) -> None:
    reader_zones.time_zone_changed(uow, load_data(event))


@handlers.on("user.invited")
def on_user_invited(event: Event, uow: UnitOfWork) -> None:
    service.invite(uow, event.id, load_data(event))


@handlers.on("user.password_reset_requested")
def on_password_reset_requested(event: Event, uow: UnitOfWork) -> None:
    service.password_reset(uow, event.id, load_data(event))


@handlers.on("user.registration_attempted")
def on_registration_attempted(event: Event, uow: UnitOfWork) -> None:
    service.registration_attempted(uow, event.id, load_data(event))


@handlers.on("enrollment.activated")
def on_enrollment_activated(event: Event, uow: UnitOfWork) -> None:
    data = load_data(event)
    service.enrollment_activated(
        uow, event.id, data, learn=_enrollment_fact(event.type, data), paid_at=event.occurred_at
    )


@handlers.on("enrollment.expired")
def on_enrollment_expired(event: Event, uow: UnitOfWork) -> None:
    service.enrollment_expired(uow, event.id, load_data(event))


@handlers.on("enrollment.waitlist_offered")
def on_waitlist_offered(event: Event, uow: UnitOfWork) -> None:
    service.waitlist_offered(uow, event.id, load_data(event))


@handlers.on("enrollment.refunded")
def on_enrollment_refunded(event: Event, uow: UnitOfWork) -> None:
    data = load_data(event)
    service.enrollment_refunded(uow, event.id, data, learn=_enrollment_fact(event.type, data))


@handlers.on("enrollment.access_expiring")
def on_access_expiring(event: Event, uow: UnitOfWork) -> None:
    service.access_expiring(uow, event.id, load_data(event))


@handlers.on("enrollment.deferred")
def on_enrollment_deferred(event: Event, uow: UnitOfWork) -> None:
    service.enrollment_deferred(uow, event.id, load_data(event))


@handlers.on("consultation.booked")
def on_consultation_booked(event: Event, uow: UnitOfWork) -> None:
    service.consultation_booked(uow, event.id, load_data(event))


@handlers.on("consultation.cancelled")
def on_consultation_cancelled(event: Event, uow: UnitOfWork) -> None:
    service.consultation_cancelled(uow, event.id, load_data(event))


@handlers.on("consultation.completed")
def on_consultation_completed(event: Event, uow: UnitOfWork) -> None:
    data = load_data(event)
    service.consultation_completed(
        uow, event.id, data, learn=lambda session: audiences.learn_consultation(session, data)
    )


@handlers.on("study_plan.published")
def on_study_plan_published(event: Event, uow: UnitOfWork) -> None:
    service.study_plan_published(uow, event.id, load_data(event))


@handlers.on("package.purchased")
def on_package_purchased(event: Event, uow: UnitOfWork) -> None:
    service.package_purchased(uow, event.id, load_data(event))


@handlers.on("session.booked")
def on_session_booked(event: Event, uow: UnitOfWork) -> None:
    service.session_booked(uow, event.id, load_data(event))


@handlers.on("session.cancelled")
def on_session_cancelled(event: Event, uow: UnitOfWork) -> None:
    service.session_cancelled(uow, event.id, load_data(event))


@handlers.on("session.completed")
def on_session_completed(event: Event, uow: UnitOfWork) -> None:
    service.session_completed(uow, event.id, load_data(event))


@handlers.on("session.reminder_due")
def on_session_reminder_due(event: Event, uow: UnitOfWork) -> None:
    service.session_reminder_due(uow, event.id, load_data(event))


@handlers.on("testimonial.requested")
def on_testimonial_requested(event: Event, uow: UnitOfWork) -> None:
    testimonial_mail.testimonial_requested(uow, event.id, load_data(event))


@handlers.on("testimonial.approved")
def on_testimonial_approved(event: Event, uow: UnitOfWork) -> None:
    testimonial_mail.testimonial_approved(uow, event.id, load_data(event))


@handlers.on("progress.digest_due")
def on_progress_digest_due(event: Event, uow: UnitOfWork) -> None:
    progress_mail.progress_digest(uow, event.id, load_data(event))


@handlers.on("progress.tutor_digest_due")
def on_progress_tutor_digest_due(event: Event, uow: UnitOfWork) -> None:
    progress_mail.tutor_digest(uow, event.id, load_data(event))


@handlers.on("plan.result_missing")
def on_plan_result_missing(event: Event, uow: UnitOfWork) -> None:
    progress_mail.result_missing(uow, event.id, load_data(event))


@handlers.on("study_plan.revision_proposed")
def on_study_plan_revision_proposed(event: Event, uow: UnitOfWork) -> None:
    progress_mail.revision_proposed(uow, event.id, load_data(event))


@handlers.on("readiness.warning")
def on_readiness_warning(event: Event, uow: UnitOfWork) -> None:
    progress_mail.readiness_warning(uow, event.id, load_data(event))


# --- audience facts (campaigns): events that teach audiences but send no email ------------------


def _enrollment_fact(event_type: str, data: dict) -> service.Learn:
    return lambda session: audiences.learn_enrollment(session, event_type, data)


@handlers.on("enrollment.completed")
def on_enrollment_completed(event: Event, uow: UnitOfWork) -> None:
    audiences.learn(uow, _enrollment_fact(event.type, load_data(event)))


@handlers.on("enrollment.cancelled")
def on_enrollment_cancelled(event: Event, uow: UnitOfWork) -> None:
    audiences.learn(uow, _enrollment_fact(event.type, load_data(event)))
