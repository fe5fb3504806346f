"""The site's only way to business data: the other services' HTTP APIs, called as the user.

The site holds no data of its own, so every page is a thin view over these calls. Problem+json
answers become ``ServiceError`` (so a page can put each message next to its form field), and a
service that cannot be reached becomes ``ServiceUnavailable`` (a friendly 503 page, never 500).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote, urlencode

import requests

from services.web.progress_calls import ProgressCalls
from shared import client_address, config, context

log = logging.getLogger(__name__)

TIMEOUT = 5.0


class ServiceError(Exception):
    """A service refused the request; ``errors`` maps form fields to messages."""

    def __init__(
        self,
        status: int,
        detail: str,
        errors: dict[str, list[str]] | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
        self.errors: dict[str, list[str]] = errors or {}
        self.retry_after = retry_after
        """Seconds the service asked us to wait (its ``Retry-After``), so a page can say how long."""

    def first(self, field: str) -> str | None:
        messages = self.errors.get(field)
        return messages[0] if messages else None


class ServiceUnavailable(Exception):
    """A service did not answer (down, timed out, or failing on its side)."""

    def __init__(self, service: str, reason: str) -> None:
        super().__init__(f"{service} unavailable: {reason}")
        self.service = service
        self.reason = reason


def _as_error(response: requests.Response) -> ServiceError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    raw_errors = body.get("errors") or {}
    errors: dict[str, list[str]] = {}
    if isinstance(raw_errors, dict):
        for field, messages in raw_errors.items():
            if isinstance(messages, str):
                messages = [messages]
            errors[str(field)] = [str(m) for m in messages or []]
    detail = body.get("detail") or body.get("title") or response.reason or "Request refused"
    wait = response.headers.get("Retry-After", "")
    retry_after = int(wait) if wait.isdigit() else None
    return ServiceError(response.status_code, str(detail), errors, retry_after)


class ServiceClient:
    """JSON over HTTP to one service, with the ids that let one grep follow a request."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.session = requests.Session()

    @property
    def base_url(self) -> str:
        # Read at call time: tests and deployments point the site at services by environment.
        return config.service_url(self.service)

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        token: str | None = None,
    ) -> Any:
        # The browser's address, vouched for, so per-client limits see the person, not the site.
        headers = {"Accept": "application/json", **client_address.forwarded()}
        request_id = context.request_id.get()
        correlation_id = context.correlation_id.get()
        if request_id:
            headers["X-Request-ID"] = request_id
        if correlation_id:
            headers["X-Correlation-ID"] = correlation_id
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            response = self.session.request(
                method, f"{self.base_url}{path}", json=json, headers=headers, timeout=TIMEOUT
            )
        except requests.RequestException as exc:
            log.warning(
                "service unreachable",
                extra={"target": self.service, "path": path, "error": type(exc).__name__},
            )
            raise ServiceUnavailable(self.service, type(exc).__name__) from exc
        if response.status_code >= 500:
            log.warning(
                "service failed",
                extra={"target": self.service, "path": path, "status": response.status_code},
            )
            raise ServiceUnavailable(self.service, f"HTTP {response.status_code}")
        if response.status_code >= 400:
            raise _as_error(response)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise ServiceUnavailable(self.service, "answer was not JSON") from exc

    # Every service with data answers these (shared/operations.py); admins only.

    def operations(self, token: str, events: int = 20) -> dict:
        """The service's outbox backlog, dead letters and last handled events."""
        return self.call("GET", f"/api/admin/operations?events={int(events)}", token=token)

    def replay_dead_letters(self, token: str, ids: list[str] | None = None) -> dict:
        """Replay the named dead letters, or every one when ``ids`` is None."""
        body: dict[str, Any] = {"all": True} if ids is None else {"ids": ids}
        path = "/api/admin/operations/dead-letters/replay"
        return self.call("POST", path, json=body, token=token)


class IdentityClient(ServiceClient):
    def __init__(self) -> None:
        super().__init__("identity")

    def register(self, email: str, password: str, name: str, time_zone: str | None = None) -> dict:
        """Answers the same whether or not the email already has an account. ``time_zone``: the
        browser's, kept as the account's until the person chooses another."""
        body = {"email": email, "password": password, "name": name}
        if time_zone:
            body["time_zone"] = time_zone
        return self.call("POST", "/api/users", json=body)

    def login(self, email: str, password: str) -> dict:
        return self.call("POST", "/api/auth/login", json={"email": email, "password": password})

    def refresh(self, refresh_token: str) -> dict:
        return self.call("POST", "/api/auth/refresh", json={"refresh_token": refresh_token})

    def logout(self, refresh_token: str) -> None:
        self.call("POST", "/api/auth/logout", json={"refresh_token": refresh_token})

    def me(self, token: str) -> dict:
        return self.call("GET", "/api/users/me", token=token)

    def rename(self, token: str, name: str) -> dict:
        return self.call("PATCH", "/api/users/me", json={"name": name}, token=token)

    def set_time_zone(self, token: str, time_zone: str | None) -> dict:
        """The zone the person reads times in; None: the browser's again."""
        return self.call("PATCH", "/api/users/me", json={"time_zone": time_zone}, token=token)

    def request_password_reset(self, email: str) -> None:
        self.call("POST", "/api/password-resets", json={"email": email})

    def complete_password_reset(self, token: str, password: str) -> dict:
        """The account whose password changed (identity signed it out everywhere)."""
        return self.call(
            "POST", "/api/password-resets/complete", json={"token": token, "password": password}
        )

    def accept_invitation(self, token: str, password: str) -> dict:
        return self.call(
            "POST", "/api/invitations/accept", json={"token": token, "password": password}
        )

    def list_users(self, token: str) -> list[dict]:
        return self.call("GET", "/api/admin/users", token=token)

    def invite(self, token: str, email: str, name: str, role: str) -> dict:
        return self.call(
            "POST",
            "/api/admin/users",
            json={"email": email, "name": name, "role": role},
            token=token,
        )


class EmailClient(ServiceClient):
    def __init__(self) -> None:
        super().__init__("email")

    def topics(self) -> list[dict]:
        return self.call("GET", "/api/topics")

    def subscribe(self, email: str, topics: list[str], name: str | None = None) -> dict:
        body: dict[str, Any] = {"email": email, "topics": topics}
        if name:
            body["name"] = name
        return self.call("POST", "/api/subscriptions", json=body)

    def confirm(self, token: str) -> dict:
        return self.call("POST", "/api/subscriptions/confirm", json={"token": token})

    def preferences(self, token: str) -> dict:
        return self.call("GET", f"/api/preferences/{_segment(token)}")

    def save_preferences(self, token: str, topics: list[str]) -> dict:
        return self.call("PUT", f"/api/preferences/{_segment(token)}", json={"topics": topics})

    def unsubscribe(self, token: str) -> dict:
        return self.call("POST", f"/api/unsubscribe/{_segment(token)}")

    # Marketing (role marketing or admin): topics with counts, audiences, campaigns, suppression.

    def admin_topics(self, token: str) -> list[dict]:
        return self.call("GET", "/api/admin/topics", token=token)

    def audiences(self, token: str) -> list[dict]:
        return self.call("GET", "/api/admin/audiences", token=token)

    def campaigns(self, token: str) -> list[dict]:
        return self.call("GET", "/api/admin/campaigns", token=token)

    def create_campaign(self, token: str, fields: dict[str, Any]) -> dict:
        return self.call("POST", "/api/admin/campaigns", json=fields, token=token)

    def campaign(self, token: str, campaign_id: str) -> dict:
        return self.call("GET", f"/api/admin/campaigns/{_segment(campaign_id)}", token=token)

    def update_campaign(self, token: str, campaign_id: str, fields: dict[str, Any]) -> dict:
        path = f"/api/admin/campaigns/{_segment(campaign_id)}"
        return self.call("PUT", path, json=fields, token=token)

    def preview_campaign(self, token: str, campaign_id: str) -> dict:
        path = f"/api/admin/campaigns/{_segment(campaign_id)}/preview"
        return self.call("GET", path, token=token)

    def test_campaign(self, token: str, campaign_id: str, email: str | None = None) -> dict:
        body = {"email": email} if email else {}
        path = f"/api/admin/campaigns/{_segment(campaign_id)}/test"
        return self.call("POST", path, json=body, token=token)

    def schedule_campaign(self, token: str, campaign_id: str, send_at: str) -> dict:
        path = f"/api/admin/campaigns/{_segment(campaign_id)}/schedule"
        return self.call("POST", path, json={"send_at": send_at}, token=token)

    def act_on_campaign(self, token: str, campaign_id: str, action: str) -> dict:
        """``send`` (now), ``pause``, ``resume`` or ``cancel`` one campaign."""
        path = f"/api/admin/campaigns/{_segment(campaign_id)}/{_segment(action)}"
        return self.call("POST", path, json={}, token=token)

    def deliveries(
        self, token: str, campaign_id: str, status: str | None = None, limit: int = 100
    ) -> list[dict]:
        query = urlencode({k: v for k, v in (("status", status), ("limit", limit)) if v})
        path = f"/api/admin/campaigns/{_segment(campaign_id)}/deliveries?{query}"
        return self.call("GET", path, token=token)

    def subscribers(self, token: str, status: str | None = None, limit: int = 200) -> list[dict]:
        """Subscribers newest first, with their status and topics."""
        query = urlencode({k: v for k, v in (("status", status), ("limit", limit)) if v})
        return self.call("GET", f"/api/admin/subscribers?{query}", token=token)

    def suppressions(self, token: str, reason: str | None = None, limit: int = 200) -> list[dict]:
        query = urlencode({k: v for k, v in (("reason", reason), ("limit", limit)) if v})
        return self.call("GET", f"/api/admin/suppressions?{query}", token=token)

    def suppress(self, token: str, email: str) -> dict:
        body = {"email": email, "reason": "manual"}
        return self.call("POST", "/api/admin/suppressions", json=body, token=token)


class EnrollmentClient(ServiceClient):
    """Courses, cycles and enrollments: every call but the catalogue carries the user's token."""

    def __init__(self) -> None:
        super().__init__("enrollment")

    def courses(self) -> list[dict]:
        return self.call("GET", "/api/courses")

    def course(self, slug: str) -> dict:
        return self.call("GET", f"/api/courses/{_segment(slug)}")

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
        return self.call("GET", f"/api/enrollments/{_segment(enrollment_id)}", token=token)

    def my_enrollments(self, token: str) -> list[dict]:
        return self.call("GET", "/api/enrollments", token=token)

    def defer(self, token: str, enrollment_id: str, cycle_start: str) -> dict:
        return self.call(
            "POST",
            f"/api/enrollments/{_segment(enrollment_id)}/defer",
            json={"cycle_start": cycle_start},
            token=token,
        )

    def request_refund(self, token: str, enrollment_id: str) -> dict:
        return self.call(
            "POST", f"/api/enrollments/{_segment(enrollment_id)}/refund", json={}, token=token
        )

    def join_waitlist(self, token: str, course_slug: str, cycle_start: str) -> dict:
        path = f"/api/courses/{_segment(course_slug)}/cycles/{_segment(cycle_start)}/waitlist"
        return self.call("POST", path, json={}, token=token)

    def admin_courses(self, token: str) -> list[dict]:
        return self.call("GET", "/api/admin/courses", token=token)

    def create_course(self, token: str, fields: dict[str, Any]) -> dict:
        return self.call("POST", "/api/admin/courses", json=fields, token=token)

    def update_course(self, token: str, slug: str, fields: dict[str, Any]) -> dict:
        return self.call("PATCH", f"/api/admin/courses/{_segment(slug)}", json=fields, token=token)

    def roster(self, token: str, slug: str, cycle_start: str) -> Any:
        path = f"/api/admin/courses/{_segment(slug)}/cycles/{_segment(cycle_start)}/roster"
        return self.call("GET", path, token=token)

    def promo_codes(self, token: str) -> list[dict]:
        return self.call("GET", "/api/admin/promo-codes", token=token)

    def create_promo_code(self, token: str, fields: dict[str, Any]) -> dict:
        return self.call("POST", "/api/admin/promo-codes", json=fields, token=token)


class PaymentsClient(ServiceClient):
    """The card step of checkout and the admin ledger (enrollment asks for the intents)."""

    def __init__(self) -> None:
        super().__init__("payments")

    def pay_with_card(self, token: str, payment_id: str, card_token: str) -> dict:
        return self.call(
            "POST",
            f"/api/payments/{_segment(payment_id)}/card",
            token=token,
            json={"token": card_token},
        )

    def ledger(self, token: str) -> dict:
        return self.call("GET", "/api/admin/ledger", token=token)


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
        return self.call("GET", f"/api/tutors/{_segment(tutor_id)}")

    def slots(self, tutor_id: str, tz: str, kind: str = "consultation") -> list[dict]:
        query = urlencode({"kind": kind, "tz": tz})
        return self.call("GET", f"/api/tutors/{_segment(tutor_id)}/slots?{query}")

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
        self.call("DELETE", f"/api/tutors/me/time-off/{_segment(time_off_id)}", token=token)

    def book(self, token: str, booking: dict[str, Any]) -> dict:
        return self.call("POST", "/api/consultations", json=booking, token=token)

    def consultations(self, token: str) -> list[dict]:
        return self.call("GET", "/api/consultations", token=token)

    def consultation(self, token: str, consultation_id: str) -> dict:
        return self.call("GET", f"/api/consultations/{_segment(consultation_id)}", token=token)

    def act(self, token: str, consultation_id: str, action: str, body: dict | None = None) -> dict:
        """``cancel``, ``complete`` or ``no-show`` one consultation."""
        path = f"/api/consultations/{_segment(consultation_id)}/{_segment(action)}"
        return self.call("POST", path, json=body or {}, token=token)

    def save_assessment(self, token: str, consultation_id: str, fields: dict[str, str]) -> dict:
        path = f"/api/consultations/{_segment(consultation_id)}/assessment"
        return self.call("PUT", path, json=fields, token=token)

    def generate_plan(self, token: str, consultation_id: str) -> dict:
        path = f"/api/consultations/{_segment(consultation_id)}/plan"
        return self.call("POST", path, json={}, token=token)

    def my_plan(self, token: str) -> dict | None:
        """The student's newest study plan (the service lists them newest first)."""
        plans = self.call("GET", "/api/plans/mine", token=token)
        return plans[0] if plans else None

    def plan(self, token: str, plan_id: str) -> dict:
        return self.call("GET", f"/api/plans/{_segment(plan_id)}", token=token)

    def edit_plan(self, token: str, plan_id: str, changes: list[dict]) -> dict:
        path = f"/api/plans/{_segment(plan_id)}"
        return self.call("PUT", path, json={"changes": changes}, token=token)

    def calendar(self, token: str) -> dict:
        return self.call("GET", "/api/calendar/me", token=token)

    def admin_tutors(self, token: str) -> list:
        return self.call("GET", "/api/admin/tutors", token=token)

    def calendar_feed(self, feed_token: str) -> bytes | None:
        """A student's iCalendar feed (None when the secret is unknown); not JSON, so raw."""
        try:
            response = self.session.get(
                f"{self.base_url}/api/calendar/{_segment(feed_token)}.ics", timeout=TIMEOUT
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
        return self.call("GET", f"/api/packages/{_segment(package_id)}", token=token)

    def credits(self, token: str) -> list[dict]:
        return self.call("GET", "/api/credits", token=token)

    def book_session(self, token: str, tutor_id: str, starts_at: str, time_zone: str) -> dict:
        body = {"tutor_id": tutor_id, "starts_at": starts_at, "time_zone": time_zone}
        return self.call("POST", "/api/sessions", json=body, token=token)

    def sessions(self, token: str) -> list[dict]:
        return self.call("GET", "/api/sessions", token=token)

    def tutoring_session(self, token: str, session_id: str) -> dict:
        return self.call("GET", f"/api/sessions/{_segment(session_id)}", token=token)

    def act_on_session(self, token: str, session_id: str, action: str, body: dict) -> dict:
        """``cancel`` (reason), ``reschedule`` (starts_at) or ``complete`` (lesson_note)."""
        path = f"/api/sessions/{_segment(session_id)}/{_segment(action)}"
        return self.call("POST", path, json=body, token=token)


class TestimonialsClient(ServiceClient):
    """Stories from students: the public wall, submission, and moderation by marketing."""

    def __init__(self) -> None:
        super().__init__("testimonials")

    def programs(self) -> list[dict]:
        return self.call("GET", "/api/programs")

    def consent(self) -> dict:
        return self.call("GET", "/api/consent")

    def wall(self, program: str | None = None, limit: int | None = None) -> list[dict]:
        """Approved (and consented) testimonials only, featured first."""
        query = urlencode({k: v for k, v in (("program", program), ("limit", limit)) if v})
        return self.call("GET", "/api/testimonials" + (f"?{query}" if query else ""))

    def lookup_request(self, request_token: str) -> dict:
        """Who an email request link was for (404 bad link, 410 expired)."""
        return self.call("GET", f"/api/testimonial-requests/{_segment(request_token)}")

    def submit(
        self,
        fields: dict[str, Any],
        *,
        token: str | None = None,
        request_token: str | None = None,
    ) -> dict:
        """As the signed-in user (``token``) or through an email link (``request_token``)."""
        body = dict(fields)
        if request_token:
            body["request_token"] = request_token
        return self.call("POST", "/api/testimonials", json=body, token=token)

    def mine(self, token: str) -> list[dict]:
        return self.call("GET", "/api/testimonials/mine", token=token)

    def admin_list(self, token: str, status: str, limit: int = 200) -> list[dict]:
        query = urlencode({"status": status, "limit": limit})
        return self.call("GET", f"/api/admin/testimonials?{query}", token=token)

    def admin_get(self, token: str, testimonial_id: str) -> dict:
        return self.call("GET", f"/api/admin/testimonials/{_segment(testimonial_id)}", token=token)

    def approve(self, token: str, testimonial_id: str) -> dict:
        path = f"/api/admin/testimonials/{_segment(testimonial_id)}/approve"
        return self.call("POST", path, json={}, token=token)

    def reject(self, token: str, testimonial_id: str, reason: str, note: str | None) -> dict:
        body: dict[str, Any] = {"reason": reason}
        if note:
            body["note"] = note
        path = f"/api/admin/testimonials/{_segment(testimonial_id)}/reject"
        return self.call("POST", path, json=body, token=token)

    def edit(self, token: str, testimonial_id: str, changes: dict[str, Any]) -> dict:
        """``{display_name?, story?, note}``; the service keeps the revision."""
        path = f"/api/admin/testimonials/{_segment(testimonial_id)}"
        return self.call("PUT", path, json=changes, token=token)

    def feature(self, token: str, testimonial_id: str, featured: bool) -> dict:
        action = "feature" if featured else "unfeature"
        path = f"/api/admin/testimonials/{_segment(testimonial_id)}/{action}"
        return self.call("POST", path, json={}, token=token)

    def reorder_wall(self, token: str, ids: list[str]) -> list[dict]:
        return self.call(
            "PUT", "/api/admin/testimonials/wall-order", json={"ids": ids}, token=token
        )


def _segment(value: str) -> str:
    """A token as one URL path segment, so it can never reach another endpoint."""
    return quote(value, safe="")


identity = IdentityClient()
email = EmailClient()
enrollment = EnrollmentClient()
payments = PaymentsClient()
tutoring = TutoringClient()
testimonials = TestimonialsClient()

BY_SERVICE: dict[str, ServiceClient] = {
    c.service: c for c in (identity, email, enrollment, payments, tutoring, testimonials)
}
"""Every service the site calls, by name (the operations page asks each the same question)."""
