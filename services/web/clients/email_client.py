"""Subscriptions and preferences, and marketing's topics, audiences, campaigns and suppression."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from services.web.clients.base import ServiceClient, segment


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
        return self.call("GET", f"/api/preferences/{segment(token)}")

    def save_preferences(self, token: str, topics: list[str]) -> dict:
        return self.call("PUT", f"/api/preferences/{segment(token)}", json={"topics": topics})

    def unsubscribe(self, token: str) -> dict:
        return self.call("POST", f"/api/unsubscribe/{segment(token)}")

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
        return self.call("GET", f"/api/admin/campaigns/{segment(campaign_id)}", token=token)

    def update_campaign(self, token: str, campaign_id: str, fields: dict[str, Any]) -> dict:
        path = f"/api/admin/campaigns/{segment(campaign_id)}"
        return self.call("PUT", path, json=fields, token=token)

    def preview_campaign(self, token: str, campaign_id: str) -> dict:
        path = f"/api/admin/campaigns/{segment(campaign_id)}/preview"
        return self.call("GET", path, token=token)

    def test_campaign(self, token: str, campaign_id: str, email: str | None = None) -> dict:
        body = {"email": email} if email else {}
        path = f"/api/admin/campaigns/{segment(campaign_id)}/test"
        return self.call("POST", path, json=body, token=token)

    def schedule_campaign(self, token: str, campaign_id: str, send_at: str) -> dict:
        path = f"/api/admin/campaigns/{segment(campaign_id)}/schedule"
        return self.call("POST", path, json={"send_at": send_at}, token=token)

    def act_on_campaign(self, token: str, campaign_id: str, action: str) -> dict:
        """``send`` (now), ``pause``, ``resume`` or ``cancel`` one campaign."""
        path = f"/api/admin/campaigns/{segment(campaign_id)}/{segment(action)}"
        return self.call("POST", path, json={}, token=token)

    def deliveries(
        self, token: str, campaign_id: str, status: str | None = None, limit: int = 100
    ) -> list[dict]:
        query = urlencode({k: v for k, v in (("status", status), ("limit", limit)) if v})
        path = f"/api/admin/campaigns/{segment(campaign_id)}/deliveries?{query}"
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
