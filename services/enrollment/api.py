"""Enrollment's HTTP API: request in, use case, response out."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app

from services.enrollment import domain, queries, schemas
from services.enrollment.use_cases import (
    administration,
    deferral,
    enrolling,
    refunds,
    waitlist,
)
from shared import auth, payments_client, response_cache
from shared import request_bounds as bounds
from shared.http import Blueprint, current_uow, runtime_of

blp = Blueprint(
    "enrollment",
    __name__,
    url_prefix="/api",
    description="Courses, their cycles and seats, enrollments, waitlists.",
)
admin_blp = Blueprint(
    "enrollment-admin",
    __name__,
    url_prefix="/api/admin",
    description="Courses, rosters and promotion codes, for admins.",
)


_uow = current_uow

CATALOGUE_FRESH_SECONDS = 1.0
"""How old the public course list may be (seats left included): see shared/response_cache.py."""


def _payments() -> payments_client.PaymentsClient:
    return payments_client.for_runtime(runtime_of(current_app))


def _start(value: str) -> date:
    """A cycle's start from the path, within the dates any request may carry."""
    try:
        start = date.fromisoformat(value)
    except ValueError:
        start = None
    if start is None or not bounds.EARLIEST <= start <= bounds.LATEST:
        raise domain.InvalidCycle("Name a cycle by its start date, YYYY-MM-DD", field="cycle_start")
    return start


# --- catalogue -----------------------------------------------------------------------------------


@blp.route("/courses", methods=["GET"])
@blp.response(200, schemas.CourseSchema(many=True))
@auth.public()
def list_courses() -> list[dict[str, Any]]:
    """Published courses with their next cycle starts and seats left (at most a second old)."""
    return response_cache.cached_json(
        "catalogue",
        CATALOGUE_FRESH_SECONDS,
        lambda: schemas.CourseSchema(many=True).dump(queries.list_courses(_uow())),
    )


@blp.route("/courses/<slug>", methods=["GET"])
@blp.response(200, schemas.CourseDetailSchema)
@blp.alt_response(404, description="No published course with that slug.")
@auth.public()
def get_course(slug: str) -> dict[str, Any]:
    """One published course and its next open cycles."""
    return queries.get_course(_uow(), slug)


@blp.route("/courses/<slug>/cycles/<start>/waitlist", methods=["POST"])
@blp.arguments(schemas.WaitlistJoinSchema)
@blp.response(201, schemas.WaitlistPlaceSchema)
@blp.alt_response(401, description="No valid access token.")
@blp.alt_response(404, description="No such course.")
@blp.alt_response(409, description="The cycle still has seats, or you are on its waitlist.")
@blp.alt_response(422, description="No open cycle starts on that date (field `cycle_start`).")
@auth.require("student")
def join_waitlist(_body: dict[str, Any], slug: str, start: str) -> dict[str, Any]:
    """Wait for a seat in a full cycle; a freed seat is held for the first in line."""
    return waitlist.join_waitlist(_uow(), auth.current_principal(), slug, _start(start))


# --- enrollments ---------------------------------------------------------------------------------


@blp.route("/enrollments", methods=["POST"])
@blp.arguments(schemas.EnrollmentCreateSchema)
@blp.response(201, schemas.EnrollmentSchema)
@blp.alt_response(401, description="No valid access token.")
@blp.alt_response(404, description="No such course (field `course_slug`).")
@blp.alt_response(409, description="The cycle is full (`cycle_start`), or already enrolled.")
@blp.alt_response(422, description="A closed cycle (`cycle_start`) or a bad `promo_code`.")
@blp.alt_response(503, description="Payments is unreachable; the seat was released.")
@auth.require("student")
def enroll(body: dict[str, Any]) -> dict[str, Any]:
    """Hold a seat in a cycle and start the checkout (a free enrollment is active at once)."""
    return enrolling.enroll(
        _uow(),
        _payments(),
        auth.current_principal(),
        body["course_slug"],
        body.get("cycle_start"),
        body.get("promo_code"),
    )


@blp.route("/enrollments", methods=["GET"])
@blp.response(200, schemas.EnrollmentSchema(many=True))
@blp.alt_response(401, description="No valid access token.")
@auth.require("student", "admin")
def my_enrollments() -> list[dict[str, Any]]:
    """The signed-in student's enrollments, newest first."""
    return queries.my_enrollments(_uow(), auth.current_principal())


@blp.route("/enrollments/<enrollment_id>", methods=["GET"])
@blp.response(200, schemas.EnrollmentSchema)
@blp.alt_response(401, description="No valid access token.")
@blp.alt_response(403, description="Someone else's enrollment.")
@blp.alt_response(404, description="No such enrollment.")
@auth.require("student", "admin")
def get_enrollment(enrollment_id: str) -> dict[str, Any]:
    """One enrollment (its owner or an admin); a pending one carries its checkout again."""
    return queries.get_enrollment(_uow(), _payments(), auth.current_principal(), enrollment_id)


@blp.route("/enrollments/<enrollment_id>/defer", methods=["POST"])
@blp.arguments(schemas.DeferSchema)
@blp.response(200, schemas.EnrollmentSchema)
@blp.alt_response(401, description="No valid access token.")
@blp.alt_response(403, description="Someone else's enrollment.")
@blp.alt_response(409, description="Not active, already deferred, or the target cycle is full.")
@blp.alt_response(422, description="The target is not a later open cycle (`cycle_start`).")
@auth.require("student", "admin")
def defer(body: dict[str, Any], enrollment_id: str) -> dict[str, Any]:
    """Move to a later open cycle (once, free)."""
    return deferral.defer(_uow(), auth.current_principal(), enrollment_id, body["cycle_start"])


@blp.route("/enrollments/<enrollment_id>/refund", methods=["POST"])
@blp.arguments(schemas.RefundRequestSchema)
@blp.response(202, schemas.EnrollmentSchema)
@blp.alt_response(401, description="No valid access token.")
@blp.alt_response(403, description="Someone else's enrollment.")
@blp.alt_response(409, description="Not active, free, or a refund is already requested.")
@blp.alt_response(422, description="The refund window has closed (`OutsideRefundWindow`).")
@auth.require("student", "admin")
def request_refund(body: dict[str, Any], enrollment_id: str) -> dict[str, Any]:
    """Ask for the money back; the enrollment stays active until payments confirms."""
    return refunds.request_refund(
        _uow(), auth.current_principal(), enrollment_id, body.get("reason")
    )


# --- administration ------------------------------------------------------------------------------


@admin_blp.route("/courses", methods=["GET"])
@admin_blp.response(200, schemas.AdminCourseSchema(many=True))
@admin_blp.alt_response(403, description="Not an admin.")
@auth.require("admin")
def admin_courses() -> list[dict[str, Any]]:
    """Every course, published or not."""
    return queries.admin_courses(_uow())


@admin_blp.route("/courses", methods=["POST"])
@admin_blp.arguments(schemas.CourseCreateSchema)
@admin_blp.response(201, schemas.AdminCourseSchema)
@admin_blp.alt_response(403, description="Not an admin.")
@admin_blp.alt_response(409, description="The slug is taken (field `slug`).")
@auth.require("admin")
def create_course(body: dict[str, Any]) -> dict[str, Any]:
    """Create a course (unpublished unless `published` is true)."""
    created = administration.create_course(_uow(), body)
    response_cache.forget(current_app, "catalogue")
    return created


@admin_blp.route("/courses/<slug>", methods=["PATCH"])
@admin_blp.arguments(schemas.CourseUpdateSchema)
@admin_blp.response(200, schemas.AdminCourseSchema)
@admin_blp.alt_response(403, description="Not an admin.")
@admin_blp.alt_response(404, description="No such course.")
@auth.require("admin")
def update_course(body: dict[str, Any], slug: str) -> dict[str, Any]:
    """Change a course; a new seat count applies to cycles not yet started."""
    updated = administration.update_course(_uow(), slug, body)
    response_cache.forget(current_app, "catalogue")
    return updated


@admin_blp.route("/courses/<slug>/cycles/<start>/roster", methods=["GET"])
@admin_blp.response(200, schemas.RosterSchema)
@admin_blp.alt_response(403, description="Not an admin.")
@admin_blp.alt_response(404, description="No such course.")
@admin_blp.alt_response(422, description="The start is not a date, YYYY-MM-DD (`cycle_start`).")
@auth.require("admin")
def roster(slug: str, start: str) -> dict[str, Any]:
    """Who is enrolled in (and waiting for) one cycle."""
    return queries.roster(_uow(), slug, _start(start))


@admin_blp.route("/promo-codes", methods=["GET"])
@admin_blp.response(200, schemas.PromoCodeSchema(many=True))
@admin_blp.alt_response(403, description="Not an admin.")
@auth.require("admin")
def list_promo_codes() -> list[dict[str, Any]]:
    """Every promotion code and how often it was used."""
    return queries.list_promo_codes(_uow())


@admin_blp.route("/promo-codes", methods=["POST"])
@admin_blp.arguments(schemas.PromoCodeCreateSchema)
@admin_blp.response(201, schemas.PromoCodeSchema)
@admin_blp.alt_response(403, description="Not an admin.")
@admin_blp.alt_response(409, description="The code exists (field `code`).")
@auth.require("admin")
def create_promo_code(body: dict[str, Any]) -> dict[str, Any]:
    """Create a promotion code (percent or amount off)."""
    return administration.create_promo_code(_uow(), body)
