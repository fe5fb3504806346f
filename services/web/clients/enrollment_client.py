"""Courses, cycles, enrollments and promo codes at the enrollment service."""

from __future__ import annotations

from typing import Any

from services.web.clients.base import ServiceClient, segment


class EnrollmentClient(ServiceClient):
    """Courses, cycles and enrollments: every call but the catalogue carries the user's token."""

    def __init__(self) -> None:
        super().__init__("enrollment")

    def courses(self) -> list[dict]:
        return self.call("GET", "/api/courses")

    def course(self, slug: str) -> dict:
        return self.call("GET", f"/api/courses/{segment(slug)}")

    def enroll(
        self, token: str, course_slug: str, cycle_start: str | None, promo_code: str | None
    ) -> dict:
        body: dict[str, Any] = {"course_slug": course_slug}
        if cycle_start:
            body["cycle_start"] = cycle_start
        if promo_code:
            body["promo_code"] = promo_code
        return self.call("POST", "/api/enrollments", json=body, token=token)

    def enrollment(self, token: str, enrollment_id: str) -> dict:
        return self.call("GET", f"/api/enrollments/{segment(enrollment_id)}", token=token)

    def my_enrollments(self, token: str) -> list[dict]:
        return self.call("GET", "/api/enrollments", token=token)

    def defer(self, token: str, enrollment_id: str, cycle_start: str) -> dict:
        return self.call(
            "POST",
            f"/api/enrollments/{segment(enrollment_id)}/defer",
            json={"cycle_start": cycle_start},
            token=token,
        )

    def request_refund(self, token: str, enrollment_id: str) -> dict:
        return self.call(
            "POST", f"/api/enrollments/{segment(enrollment_id)}/refund", json={}, token=token
        )

    def join_waitlist(self, token: str, course_slug: str, cycle_start: str) -> dict:
        path = f"/api/courses/{segment(course_slug)}/cycles/{segment(cycle_start)}/waitlist"
        return self.call("POST", path, json={}, token=token)

    def admin_courses(self, token: str) -> list[dict]:
        return self.call("GET", "/api/admin/courses", token=token)

    def create_course(self, token: str, fields: dict[str, Any]) -> dict:
        return self.call("POST", "/api/admin/courses", json=fields, token=token)

    def update_course(self, token: str, slug: str, fields: dict[str, Any]) -> dict:
        return self.call("PATCH", f"/api/admin/courses/{segment(slug)}", json=fields, token=token)

    def roster(self, token: str, slug: str, cycle_start: str) -> Any:
        path = f"/api/admin/courses/{segment(slug)}/cycles/{segment(cycle_start)}/roster"
        return self.call("GET", path, token=token)

    def promo_codes(self, token: str) -> list[dict]:
        return self.call("GET", "/api/admin/promo-codes", token=token)

    def create_promo_code(self, token: str, fields: dict[str, Any]) -> dict:
        return self.call("POST", "/api/admin/promo-codes", json=fields, token=token)
