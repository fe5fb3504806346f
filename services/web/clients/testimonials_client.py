"""The public wall, submitting a story, and marketing's moderation at the testimonials service."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from services.web.clients.base import ServiceClient, segment


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
        return self.call("GET", f"/api/testimonial-requests/{segment(request_token)}")

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
        return self.call("GET", f"/api/admin/testimonials/{segment(testimonial_id)}", token=token)

    def approve(self, token: str, testimonial_id: str) -> dict:
        path = f"/api/admin/testimonials/{segment(testimonial_id)}/approve"
        return self.call("POST", path, json={}, token=token)

    def reject(self, token: str, testimonial_id: str, reason: str, note: str | None) -> dict:
        body: dict[str, Any] = {"reason": reason}
        if note:
            body["note"] = note
        path = f"/api/admin/testimonials/{segment(testimonial_id)}/reject"
        return self.call("POST", path, json=body, token=token)

    def edit(self, token: str, testimonial_id: str, changes: dict[str, Any]) -> dict:
        """``{display_name?, story?, note}``; the service keeps the revision."""
        path = f"/api/admin/testimonials/{segment(testimonial_id)}"
        return self.call("PUT", path, json=changes, token=token)

    def feature(self, token: str, testimonial_id: str, featured: bool) -> dict:
        action = "feature" if featured else "unfeature"
        path = f"/api/admin/testimonials/{segment(testimonial_id)}/{action}"
        return self.call("POST", path, json={}, token=token)

    def reorder_wall(self, token: str, ids: list[str]) -> list[dict]:
        return self.call(
            "PUT", "/api/admin/testimonials/wall-order", json={"ids": ids}, token=token
        )
