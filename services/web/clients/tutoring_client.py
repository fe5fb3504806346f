"""Tutors, availability, consultations, plans, packages and sessions at the tutoring service."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import requests

from services.web.clients.base import TIMEOUT, ServiceClient, ServiceUnavailable, segment
from services.web.clients.tutoring_progress import ProgressCalls


class TutoringClient(ProgressCalls, ServiceClient):
    """Tutors, availability, consultations, plans, packages and sessions (all but browsing as the user).

    Results, progress, checks, proposals, reflections and assessment forms: ``ProgressCalls``.
    """

    def __init__(self) -> None:
        super().__init__("tutoring")

    def exams(self) -> list[dict]:
        """The exams tutoring prepares for, each with its areas (slugs and labels)."""
        return self.call("GET", "/api/exams")

    def tutors(self) -> list[dict]:
        return self.call("GET", "/api/tutors")

    def tutor(self, tutor_id: str) -> dict:
        return self.call("GET", f"/api/tutors/{segment(tutor_id)}")

    def slots(self, tutor_id: str, tz: str, kind: str = "consultation") -> list[dict]:
        query = urlencode({"kind": kind, "tz": tz})
        return self.call("GET", f"/api/tutors/{segment(tutor_id)}/slots?{query}")

    def save_profile(self, token: str, fields: dict[str, Any]) -> dict:
        return self.call("PUT", "/api/tutors/me", json=fields, token=token)

    def availability(self, token: str) -> dict:
        return self.call("GET", "/api/tutors/me/availability", token=token)

    def save_availability(self, token: str, availability: dict[str, Any]) -> dict:
        return self.call("PUT", "/api/tutors/me/availability", json=availability, token=token)

    def add_time_off(self, token: str, starts_at: str, ends_at: str) -> dict:
        body = {"starts_at": starts_at, "ends_at": ends_at}
        return self.call("POST", "/api/tutors/me/time-off", json=body, token=token)

    def remove_time_off(self, token: str, time_off_id: str) -> None:
        self.call("DELETE", f"/api/tutors/me/time-off/{segment(time_off_id)}", token=token)

    def book(self, token: str, booking: dict[str, Any]) -> dict:
        return self.call("POST", "/api/consultations", json=booking, token=token)

    def consultations(self, token: str) -> list[dict]:
        return self.call("GET", "/api/consultations", token=token)

    def consultation(self, token: str, consultation_id: str) -> dict:
        return self.call("GET", f"/api/consultations/{segment(consultation_id)}", token=token)

    def act(self, token: str, consultation_id: str, action: str, body: dict | None = None) -> dict:
        """``cancel``, ``complete`` or ``no-show`` one consultation."""
        path = f"/api/consultations/{segment(consultation_id)}/{segment(action)}"
        return self.call("POST", path, json=body or {}, token=token)

    def save_assessment(self, token: str, consultation_id: str, fields: dict[str, str]) -> dict:
        path = f"/api/consultations/{segment(consultation_id)}/assessment"
        return self.call("PUT", path, json=fields, token=token)

    def generate_plan(self, token: str, consultation_id: str) -> dict:
        path = f"/api/consultations/{segment(consultation_id)}/plan"
        return self.call("POST", path, json={}, token=token)

    def my_plan(self, token: str) -> dict | None:
        """The student's newest study plan (the service lists them newest first)."""
        plans = self.call("GET", "/api/plans/mine", token=token)
        return plans[0] if plans else None

    def plan(self, token: str, plan_id: str) -> dict:
        return self.call("GET", f"/api/plans/{segment(plan_id)}", token=token)

    def edit_plan(self, token: str, plan_id: str, changes: list[dict]) -> dict:
        path = f"/api/plans/{segment(plan_id)}"
        return self.call("PUT", path, json={"changes": changes}, token=token)

    def calendar(self, token: str) -> dict:
        return self.call("GET", "/api/calendar/me", token=token)

    def admin_tutors(self, token: str) -> list:
        return self.call("GET", "/api/admin/tutors", token=token)

    def calendar_feed(self, feed_token: str) -> bytes | None:
        """A student's iCalendar feed (None when the secret is unknown); not JSON, so raw."""
        try:
            response = self.session.get(
                f"{self.base_url}/api/calendar/{segment(feed_token)}.ics", timeout=TIMEOUT
            )
        except requests.RequestException as exc:
            raise ServiceUnavailable(self.service, type(exc).__name__) from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise ServiceUnavailable(self.service, f"HTTP {response.status_code}")
        return response.content

    def buy_package(self, token: str, tutor_id: str, hours: int) -> dict:
        body = {"tutor_id": tutor_id, "hours": hours}
        return self.call("POST", "/api/packages", json=body, token=token)

    def package(self, token: str, package_id: str) -> dict:
        return self.call("GET", f"/api/packages/{segment(package_id)}", token=token)

    def credits(self, token: str) -> list[dict]:
        return self.call("GET", "/api/credits", token=token)

    def book_session(self, token: str, tutor_id: str, starts_at: str, time_zone: str) -> dict:
        body = {"tutor_id": tutor_id, "starts_at": starts_at, "time_zone": time_zone}
        return self.call("POST", "/api/sessions", json=body, token=token)

    def sessions(self, token: str) -> list[dict]:
        return self.call("GET", "/api/sessions", token=token)

    def tutoring_session(self, token: str, session_id: str) -> dict:
        return self.call("GET", f"/api/sessions/{segment(session_id)}", token=token)

    def act_on_session(self, token: str, session_id: str, action: str, body: dict) -> dict:
        """``cancel`` (reason), ``reschedule`` (starts_at) or ``complete`` (lesson_note)."""
        path = f"/api/sessions/{segment(session_id)}/{segment(action)}"
        return self.call("POST", path, json=body, token=token)
