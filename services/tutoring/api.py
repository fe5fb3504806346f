"""Tutoring's HTTP API: request in, use case, response out.

Over 400 lines on purpose: one blueprint whose thirty-odd routes are each a decorator stack
(schema, responses, role) and a one-line call to a use case, in the order of the site's pages;
split, the routes of one page would sit in two files. The progress and tracking routes are
already apart (``api_progress``, ``api_tracking``).
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app

from services.tutoring import labels, queries, schemas
from services.tutoring.use_cases import (
    availability,
    consultations,
    packages,
    sessions,
    study_plans,
    tutors,
)
from services.tutoring.use_cases import calendar_feed as feeds
from shared import auth, calendar, config, payments_client
from shared.http import Blueprint, current_uow, runtime_of

blp = Blueprint(
    "tutoring",
    __name__,
    url_prefix="/api",
    description=(
        "Tutors, their availability and slots, consultations, assessments, study plans, "
        "packages of hours, credits and paid sessions."
    ),
)
admin_blp = Blueprint(
    "tutoring-admin", __name__, url_prefix="/api/admin", description="Tutors, for admins."
)

_uow = current_uow


def _payments() -> payments_client.PaymentsClient:
    return payments_client.for_runtime(runtime_of(current_app))


# --- tutors --------------------------------------------------------------------------------------


@blp.route("/exams", methods=["GET"])
@blp.response(200, schemas.ExamSchema(many=True))
@auth.public()
def list_exams() -> list[dict[str, Any]]:
    """The exams tutors prepare for, each with the areas an intake or a plan may name."""
    return labels.exam_catalogue()


@blp.route("/tutors", methods=["GET"])
@blp.response(200, schemas.PublicTutorSchema(many=True))
@auth.public()
def list_tutors() -> list[dict[str, Any]]:
    """Tutors students can choose from (those who wrote a bio)."""
    return queries.public_tutors(_uow())


@blp.route("/tutors/me", methods=["GET"])
@blp.response(200, schemas.TutorSchema)
@blp.alt_response(401, description="No valid access token.")
@blp.alt_response(403, description="Not a tutor.")
@auth.require("tutor")
def my_profile() -> dict[str, Any]:
    """The signed-in tutor's profile and booking settings."""
    return tutors.my_profile(_uow(), auth.current_principal())


@blp.route("/tutors/me", methods=["PUT"])
@blp.arguments(schemas.TutorUpdateSchema)
@blp.response(200, schemas.TutorSchema)
@blp.alt_response(401, description="No valid access token.")
@blp.alt_response(403, description="Not a tutor.")
@blp.alt_response(422, description="An unknown `time_zone` or senseless booking settings.")
@auth.require("tutor")
def update_profile(body: dict[str, Any]) -> dict[str, Any]:
    """Edit bio, exams, time zone, rate, photo and booking settings (fields left out stay)."""
    return tutors.update_profile(_uow(), auth.current_principal(), body)


@blp.route("/tutors/me/availability", methods=["GET"])
@blp.response(200, schemas.AvailabilitySchema)
@blp.alt_response(403, description="Not a tutor.")
@auth.require("tutor")
def my_availability() -> dict[str, Any]:
    """Weekly windows and date overrides (wall clock, the tutor's zone) and time off."""
    return availability.my_availability(_uow(), auth.current_principal())


@blp.route("/tutors/me/availability", methods=["PUT"])
@blp.arguments(schemas.AvailabilityUpdateSchema)
@blp.response(200, schemas.AvailabilitySchema)
@blp.alt_response(403, description="Not a tutor.")
@blp.alt_response(422, description="A window that ends before it starts, a date twice.")
@auth.require("tutor")
def set_availability(body: dict[str, Any]) -> dict[str, Any]:
    """Replace the weekly windows and date overrides as a whole."""
    return availability.set_availability(
        _uow(), auth.current_principal(), body["weekly"], body["overrides"]
    )


@blp.route("/tutors/me/time-off", methods=["POST"])
@blp.arguments(schemas.TimeOffCreateSchema)
@blp.response(201, schemas.TimeOffSchema)
@blp.alt_response(403, description="Not a tutor.")
@blp.alt_response(422, description="It ends before it starts (`ends_at`).")
@auth.require("tutor")
def add_time_off(body: dict[str, Any]) -> dict[str, Any]:
    """Block a stretch of time (holiday, conference): no slots are offered in it."""
    return availability.add_time_off(
        _uow(), auth.current_principal(), body["starts_at"], body["ends_at"]
    )


@blp.route("/tutors/me/time-off/<time_off_id>", methods=["DELETE"])
@blp.response(204)
@blp.alt_response(403, description="Not a tutor.")
@blp.alt_response(404, description="You have no such time off.")
@auth.require("tutor")
def remove_time_off(time_off_id: str) -> None:
    """Take a stretch of time off back."""
    availability.remove_time_off(_uow(), auth.current_principal(), time_off_id)


@blp.route("/tutors/<tutor_id>", methods=["GET"])
@blp.response(200, schemas.PublicTutorSchema)
@blp.alt_response(404, description="No such tutor.")
@auth.public()
def get_tutor(tutor_id: str) -> dict[str, Any]:
    """One tutor's public profile."""
    return queries.public_tutor(_uow(), tutor_id)


@blp.route("/tutors/<tutor_id>/slots", methods=["GET"])
@blp.arguments(schemas.SlotQuerySchema, location="query")
@blp.response(200, schemas.SlotSchema(many=True))
@blp.alt_response(404, description="No such tutor.")
@blp.alt_response(422, description="An unknown `tz`.")
@auth.public()
def slots(query: dict[str, Any], tutor_id: str) -> list[dict[str, Any]]:
    """Bookable starts, in UTC and on the viewer's clock (`tz`)."""
    return availability.slots(_uow(), tutor_id, query["kind"], query.get("tz"))


@admin_blp.route("/tutors", methods=["GET"])
@admin_blp.response(200, schemas.TutorSchema(many=True))
@admin_blp.alt_response(403, description="Not an admin.")
@auth.require("admin")
def admin_tutors() -> list[dict[str, Any]]:
    """Every tutor, with or without a bio."""
    return queries.all_tutors(_uow())


# --- consultations -------------------------------------------------------------------------------


@blp.route("/consultations", methods=["POST"])
@blp.arguments(schemas.ConsultationCreateSchema)
@blp.response(201, schemas.ConsultationSchema)
@blp.alt_response(401, description="No valid access token.")
@blp.alt_response(404, description="No such tutor (`tutor_id`).")
@blp.alt_response(409, description="The slot was just taken, or you have an open consultation.")
@blp.alt_response(422, description="An invalid intake field, zone, or a slot not offered.")
@auth.require("student")
def book_consultation(body: dict[str, Any]) -> dict[str, Any]:
    """Book the free initial consultation in one of the tutor's slots, with the intake form."""
    return consultations.book_consultation(
        _uow(),
        auth.current_principal(),
        body["tutor_id"],
        body["starts_at"],
        body["time_zone"],
        body["intake"],
    )


@blp.route("/consultations", methods=["GET"])
@blp.response(200, schemas.ConsultationSchema(many=True))
@blp.alt_response(401, description="No valid access token.")
@auth.require()
def my_consultations() -> list[dict[str, Any]]:
    """My consultations, as their student or their tutor, latest first."""
    return queries.my_consultations(_uow(), auth.current_principal())


@blp.route("/consultations/<consultation_id>", methods=["GET"])
@blp.response(200, schemas.ConsultationSchema)
@blp.alt_response(403, description="Someone else's consultation.")
@blp.alt_response(404, description="No such consultation.")
@auth.require()
def get_consultation(consultation_id: str) -> dict[str, Any]:
    """One consultation (its student, its tutor or an admin)."""
    return queries.get_consultation(_uow(), auth.current_principal(), consultation_id)


@blp.route("/consultations/<consultation_id>/cancel", methods=["POST"])
@blp.arguments(schemas.CancelSchema)
@blp.response(200, schemas.ConsultationSchema)
@blp.alt_response(403, description="Not its student or tutor.")
@blp.alt_response(409, description="It is not booked any more.")
@auth.require()
def cancel_consultation(body: dict[str, Any], consultation_id: str) -> dict[str, Any]:
    """Call it off (the student or the tutor); the slot is free again."""
    return consultations.cancel_consultation(
        _uow(), auth.current_principal(), consultation_id, body["reason"]
    )


@blp.route("/consultations/<consultation_id>/complete", methods=["POST"])
@blp.arguments(schemas.EmptySchema)
@blp.response(200, schemas.ConsultationSchema)
@blp.alt_response(403, description="Not its tutor.")
@blp.alt_response(409, description="It is not booked any more, or has not started yet.")
@auth.require("tutor")
def complete_consultation(_body: dict[str, Any], consultation_id: str) -> dict[str, Any]:
    """The tutor held it."""
    return consultations.finish_consultation(
        _uow(), auth.current_principal(), consultation_id, "complete"
    )


@blp.route("/consultations/<consultation_id>/no-show", methods=["POST"])
@blp.arguments(schemas.EmptySchema)
@blp.response(200, schemas.ConsultationSchema)
@blp.alt_response(403, description="Not its tutor.")
@blp.alt_response(409, description="It is not booked any more, or has not started yet.")
@auth.require("tutor")
def no_show(_body: dict[str, Any], consultation_id: str) -> dict[str, Any]:
    """The student did not come."""
    return consultations.finish_consultation(
        _uow(), auth.current_principal(), consultation_id, "mark_no_show"
    )


@blp.route("/consultations/<consultation_id>/assessment", methods=["PUT"])
@blp.arguments(schemas.AssessmentUpdateSchema)
@blp.response(200, schemas.ConsultationSchema)
@blp.alt_response(403, description="Not its tutor.")
@blp.alt_response(409, description="The consultation is not completed.")
@auth.require("tutor")
def record_assessment(body: dict[str, Any], consultation_id: str) -> dict[str, Any]:
    """Record (or revise) strengths, weaknesses and goals."""
    return consultations.record_assessment(_uow(), auth.current_principal(), consultation_id, body)


# --- study plans ---------------------------------------------------------------------------------


@blp.route("/consultations/<consultation_id>/plan", methods=["POST"])
@blp.arguments(schemas.PlanCreateSchema)
@blp.response(201, schemas.PlanSchema)
@blp.alt_response(403, description="Not its tutor.")
@blp.alt_response(409, description="Not completed, or it already has a plan.")
@blp.alt_response(422, description="No realistic plan fits (`exam_date` / `weekly_hours`).")
@auth.require("tutor")
def create_plan(body: dict[str, Any], consultation_id: str) -> dict[str, Any]:
    """Generate version 1 of the student's study plan from the intake."""
    areas = body.pop("areas", None)
    return study_plans.create_plan(_uow(), auth.current_principal(), consultation_id, areas, body)


@blp.route("/plans/mine", methods=["GET"])
@blp.response(200, schemas.PlanSchema(many=True))
@auth.require("student")
def my_plans() -> list[dict[str, Any]]:
    """My study plans (latest version of each), newest first."""
    return queries.my_plans(_uow(), auth.current_principal())


@blp.route("/plans/<plan_id>", methods=["GET"])
@blp.response(200, schemas.PlanSchema)
@blp.alt_response(403, description="Someone else's plan.")
@blp.alt_response(404, description="No such plan.")
@auth.require()
def get_plan(plan_id: str) -> dict[str, Any]:
    """The latest version of a plan (its student, its tutor or an admin)."""
    return queries.get_plan(_uow(), auth.current_principal(), plan_id)


@blp.route("/plans/<plan_id>", methods=["PUT"])
@blp.arguments(schemas.PlanEditSchema)
@blp.response(200, schemas.PlanSchema)
@blp.alt_response(403, description="Not the student's tutor.")
@blp.alt_response(422, description="The changed plan breaks a plan rule (`day`, `kind`, ...).")
@auth.require("tutor")
def edit_plan(body: dict[str, Any], plan_id: str) -> dict[str, Any]:
    """Change some days; the result is published as a new version."""
    return study_plans.edit_plan(_uow(), auth.current_principal(), plan_id, body["changes"])


# --- packages and credits ------------------------------------------------------------------------


@blp.route("/packages", methods=["POST"])
@blp.arguments(schemas.PackageCreateSchema)
@blp.response(201, schemas.PackageSchema)
@blp.alt_response(401, description="No valid access token.")
@blp.alt_response(403, description="Not a student.")
@blp.alt_response(404, description="No such tutor (`tutor_id`).")
@blp.alt_response(409, description="No completed consultation with this tutor yet.")
@blp.alt_response(422, description="Hours not 1, 5 or 10, or the tutor has no session rate.")
@blp.alt_response(503, description="Payments is unreachable; the package was cancelled.")
@auth.require("student")
def buy_package(body: dict[str, Any]) -> dict[str, Any]:
    """Buy hours of sessions with a tutor; pay with the returned checkout."""
    return packages.buy_package(
        _uow(), _payments(), auth.current_principal(), body["tutor_id"], body["hours"]
    )


@blp.route("/packages", methods=["GET"])
@blp.response(200, schemas.PackageSchema(many=True))
@blp.alt_response(401, description="No valid access token.")
@auth.require("student")
def my_packages() -> list[dict[str, Any]]:
    """My packages, newest first."""
    return queries.my_packages(_uow(), auth.current_principal())


@blp.route("/packages/<package_id>", methods=["GET"])
@blp.response(200, schemas.PackageSchema)
@blp.alt_response(403, description="Someone else's package.")
@blp.alt_response(404, description="No such package.")
@auth.require()
def get_package(package_id: str) -> dict[str, Any]:
    """One package (its buyer or an admin); a pending one carries its checkout again."""
    return packages.get_package(_uow(), _payments(), auth.current_principal(), package_id)


@blp.route("/credits", methods=["GET"])
@blp.response(200, schemas.CreditSchema(many=True))
@blp.alt_response(401, description="No valid access token.")
@auth.require("student")
def my_credits() -> list[dict[str, Any]]:
    """My hours left, per tutor."""
    return queries.my_credits(_uow(), auth.current_principal())


# --- sessions ------------------------------------------------------------------------------------


@blp.route("/sessions", methods=["POST"])
@blp.arguments(schemas.SessionCreateSchema)
@blp.response(201, schemas.SessionSchema)
@blp.alt_response(401, description="No valid access token.")
@blp.alt_response(404, description="No such tutor (`tutor_id`).")
@blp.alt_response(
    409, description="No completed consultation, no hours left, or the slot was just taken."
)
@blp.alt_response(422, description="An unknown zone, or a time not offered for sessions.")
@auth.require("student")
def book_session(body: dict[str, Any]) -> dict[str, Any]:
    """Book a paid session in one of the tutor's session slots; it uses one hour of credit."""
    return sessions.book_session(
        _uow(), auth.current_principal(), body["tutor_id"], body["starts_at"], body["time_zone"]
    )


@blp.route("/sessions", methods=["GET"])
@blp.response(200, schemas.SessionSchema(many=True))
@blp.alt_response(401, description="No valid access token.")
@auth.require()
def my_sessions() -> list[dict[str, Any]]:
    """My sessions, as their student or their tutor, latest first."""
    return queries.my_sessions(_uow(), auth.current_principal())


@blp.route("/sessions/<session_id>", methods=["GET"])
@blp.response(200, schemas.SessionSchema)
@blp.alt_response(403, description="Someone else's session.")
@blp.alt_response(404, description="No such session.")
@auth.require()
def get_session(session_id: str) -> dict[str, Any]:
    """One session (its student or its tutor)."""
    return queries.get_session(_uow(), auth.current_principal(), session_id)


@blp.route("/sessions/<session_id>/cancel", methods=["POST"])
@blp.arguments(schemas.CancelSchema)
@blp.response(200, schemas.SessionSchema)
@blp.alt_response(403, description="Not its student or tutor.")
@blp.alt_response(409, description="It is not booked any more, or it has started.")
@auth.require()
def cancel_session(body: dict[str, Any], session_id: str) -> dict[str, Any]:
    """Call it off: the hour comes back if the tutor cancels or the student does in time."""
    return sessions.cancel_session(_uow(), auth.current_principal(), session_id, body["reason"])


@blp.route("/sessions/<session_id>/reschedule", methods=["POST"])
@blp.arguments(schemas.RescheduleSchema)
@blp.response(200, schemas.SessionSchema)
@blp.alt_response(403, description="Not its student.")
@blp.alt_response(409, description="Moved too often, not booked, or the new slot was taken.")
@blp.alt_response(422, description="Too late to move it, or a time not offered.")
@auth.require("student")
def reschedule_session(body: dict[str, Any], session_id: str) -> dict[str, Any]:
    """Move it to another session slot (up to the cut-off, at most twice)."""
    return sessions.reschedule_session(
        _uow(), auth.current_principal(), session_id, body["starts_at"]
    )


@blp.route("/sessions/<session_id>/complete", methods=["POST"])
@blp.arguments(schemas.CompleteSessionSchema)
@blp.response(200, schemas.SessionSchema)
@blp.alt_response(403, description="Not its tutor.")
@blp.alt_response(409, description="Not booked any more, or it has not started yet.")
@auth.require("tutor")
def complete_session(body: dict[str, Any], session_id: str) -> dict[str, Any]:
    """The tutor held it and writes the lesson note (emailed to the student)."""
    return sessions.complete_session(
        _uow(), auth.current_principal(), session_id, body["lesson_note"]
    )


# --- calendar feed -------------------------------------------------------------------------------


@blp.route("/calendar/me", methods=["GET"])
@blp.response(200, schemas.CalendarLinkSchema)
@auth.require("student")
def my_calendar() -> dict[str, str]:
    """The secret address of my calendar feed (consultations, sessions, study plan days).

    It is on the site (``PUBLIC_URL``), the one address calendar apps can reach; the site
    hands the request to ``/api/calendar/<token>.ics`` here.
    """
    token = feeds.calendar_token(_uow(), auth.current_principal())
    return {"url": f"{config.public_url()}/calendar/{token}.ics"}


@blp.route("/calendar/<token>.ics", methods=["GET"])
@blp.alt_response(200, description="An iCalendar feed (text/calendar).")
@blp.alt_response(404, description="No calendar at that address.")
@auth.public()
def calendar_feed(token: str) -> Response:
    """The student's feed for a calendar app to subscribe to (the token is the secret)."""
    return Response(feeds.feed(_uow(), token), content_type=calendar.FEED_CONTENT_TYPE)
