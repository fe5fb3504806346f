"""email's stand-in: topics, subscriptions, preferences and the marketing screens."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, jsonify, request

from services.web.tests.contracts.base import ContractServer, _invalid, _staff, problem

TOPICS = [
    {"slug": "step1", "name": "USMLE Step 1", "description": "Cycles and strategy for Step 1."},
    {"slug": "step2ck", "name": "USMLE Step 2 CK", "description": "Cycles and strategy for CK."},
    {"slug": "tutoring", "name": "Tutoring", "description": "When tutors have openings."},
]


AUDIENCES = [
    {"key": "topic:step1", "label": "Subscribers: USMLE Step 1", "size": 120},
    {"key": "topic:tutoring", "label": "Subscribers: Tutoring", "size": 35},
    {
        "key": "students:active:usmle-step-1-prep",
        "label": "Active students: USMLE Step 1 Prep",
        "size": 42,
    },
    {"key": "students:past", "label": "Past students", "size": 15},
    {"key": "students:consulted", "label": "Students with a consultation", "size": 8},
]
MERGE_FIELDS = {"first_name", "course"}
MERGE_FIELD = re.compile(r"{{\s*([^}]*?)\s*}}")
CAMPAIGN_STATUSES = ("draft", "scheduled", "sending", "paused", "sent", "cancelled")


def _merge_errors(subject: str, body: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for field, text in (("subject", subject), ("body_markdown", body)):
        unknown = [name for name in MERGE_FIELD.findall(text) if name not in MERGE_FIELDS]
        if unknown:
            errors[field] = [f"Unknown merge field {{{{{unknown[0]}}}}}."]
    return errors


class EmailContract(ContractServer):
    """email's contract: topics, subscriptions, confirmation, preferences, unsubscribe, and
    for marketing: topics with counts, audiences, campaigns and suppression (in memory)."""

    name = "email"
    SUBSCRIBER = "reader@example.org"
    MISSING_TOKEN = "missing"
    EXPIRED_TOKEN = "expired"
    DIGEST_TOKEN = "digest-weekly"
    """A weekly progress digest's link: it leaves that digest only (``list_name``)."""
    DIGEST = "the weekly progress email"

    def __init__(self) -> None:
        self.campaigns: dict[str, dict] = {}
        self.deliveries: dict[str, list[dict]] = {}
        self.suppressions: list[dict] = []
        super().__init__()
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.campaigns = {}
        self.deliveries = {}
        self.suppressions = [
            {
                "email": "bounced@example.org",
                "reason": "hard_bounce",
                "source": "bounce webhook",
                "campaign_id": None,
                "created_at": "2026-11-20T10:00:00+00:00",
            }
        ]

    def add_campaign(self, status: str = "draft", **fields: Any) -> dict:
        """A campaign as the service would hold it (tests start from any status)."""
        campaign_id = f"cmp-{len(self.campaigns) + 1}"
        audience = fields.pop("audience", "topic:step1")
        size = next((a["size"] for a in AUDIENCES if a["key"] == audience), 0)
        self.campaigns[campaign_id] = {
            "id": campaign_id,
            "subject": "Step 1 cycle opens, {{first_name}}",
            "body_markdown": "Hello {{first_name}},\n\nThe **next cycle** of {{course}} starts soon.",
            "audience": audience,
            "audience_label": next(a["label"] for a in AUDIENCES if a["key"] == audience),
            "status": status,
            "send_at": None,
            "started_at": None,
            "finished_at": None,
            "created_at": "2026-11-24T09:00:00+00:00",
            "created_by": "user-marketing",
            "figures": {
                "recipients": size if status != "draft" else 0,
                "queued": size if status in ("sending", "paused") else 0,
                "sent": 0,
                "failed": 0,
                "suppressed": 0,
                "unsubscribed": 0,
            },
            **fields,
        }
        self.deliveries[campaign_id] = []
        return self.campaigns[campaign_id]

    def progress(self, campaign_id: str, sent: int, failed: int = 0) -> None:
        """The worker's side: ``sent`` more messages went out (the campaign ends when none queue)."""
        campaign = self.campaigns[campaign_id]
        figures = campaign["figures"]
        figures["sent"] += sent
        figures["failed"] += failed
        figures["queued"] = max(0, figures["queued"] - sent - failed)
        for n in range(sent):
            self.deliveries[campaign_id].append(
                {
                    "email": f"reader{n}@example.org",
                    "status": "sent",
                    "sent_at": "2026-11-25T10:00:00+00:00",
                    "error": None,
                }
            )
        if failed:
            self.deliveries[campaign_id].append(
                {
                    "email": "gone@example.org",
                    "status": "failed",
                    "sent_at": None,
                    "error": "550 mailbox unavailable",
                }
            )
        if figures["queued"] == 0:
            campaign["status"] = "sent"
            campaign["finished_at"] = datetime.now(UTC).isoformat()

    def _campaign_fields(self) -> tuple[dict, dict[str, list[str]]]:
        body = request.get_json(silent=True) or {}
        fields = {k: str(body.get(k) or "") for k in ("subject", "body_markdown", "audience")}
        errors: dict[str, list[str]] = {}
        if not fields["subject"].strip():
            errors["subject"] = ["Enter a subject."]
        if not fields["body_markdown"].strip():
            errors["body_markdown"] = ["Write the message."]
        if fields["audience"] not in {a["key"] for a in AUDIENCES}:
            errors["audience"] = ["Choose an audience."]
        for field, messages in _merge_errors(fields["subject"], fields["body_markdown"]).items():
            errors.setdefault(field, messages)
        return fields, errors

    def _transition(self, campaign_id: str, allowed: tuple[str, ...], to: str) -> Response:
        _, refused = _staff()
        if refused:
            return refused
        campaign = self.campaigns.get(campaign_id)
        if campaign is None:
            return problem(404, "No such campaign.")
        if campaign["status"] not in allowed:
            return problem(409, f"A {campaign['status']} campaign cannot do that.")
        campaign["status"] = to
        return jsonify(campaign)

    def routes(self, app: Flask) -> None:
        self.subscriber_routes(app)
        self.campaign_routes(app)

    def subscriber_routes(self, app: Flask) -> None:
        @app.get("/api/topics")
        def topics():
            return jsonify(TOPICS)

        @app.post("/api/subscriptions")
        def subscribe():
            body = request.get_json()
            return jsonify({"status": "pending", "email": body["email"]}), 202

        @app.post("/api/subscriptions/confirm")
        def confirm():
            if request.get_json()["token"] == self.EXPIRED_TOKEN:
                return problem(422, "Invalid fields: token", {"token": ["This link has expired."]})
            return jsonify(
                {
                    "email": self.SUBSCRIBER,
                    "topics": ["step1"],
                    "status": "confirmed",
                    "manage_token": "manage-abc",
                }
            )

        @app.get("/api/preferences/<token>")
        def preferences(token: str):
            if token == self.MISSING_TOKEN:
                return problem(404, "No subscription for that link.")
            if token == self.DIGEST_TOKEN:
                return jsonify(
                    {
                        "email": self.SUBSCRIBER,
                        "topics": [],
                        "status": "confirmed",
                        "list_name": self.DIGEST,
                    }
                )
            return jsonify({"email": self.SUBSCRIBER, "topics": ["step1"], "status": "confirmed"})

        @app.put("/api/preferences/<token>")
        def save_preferences(token: str):
            topics = request.get_json()["topics"]
            return jsonify({"email": self.SUBSCRIBER, "topics": topics, "status": "confirmed"})

        @app.post("/api/unsubscribe/<token>")
        def unsubscribe(token: str):
            if token == self.MISSING_TOKEN:
                return problem(404, "No subscription for that link.")
            if token == self.DIGEST_TOKEN:
                answer = {
                    "email": self.SUBSCRIBER,
                    "status": "unsubscribed",
                    "list_name": self.DIGEST,
                }
                return jsonify(answer)
            return jsonify({"email": self.SUBSCRIBER, "status": "unsubscribed"})

    def campaign_routes(self, app: Flask) -> None:
        @app.get("/api/admin/topics")
        def admin_topics():
            _, refused = _staff()
            if refused:
                return refused
            counts = {"step1": (120, 4, 9), "step2ck": (60, 1, 3), "tutoring": (35, 0, 2)}
            return jsonify(
                [
                    {
                        **t,
                        "confirmed": counts[t["slug"]][0],
                        "pending": counts[t["slug"]][1],
                        "unsubscribed": counts[t["slug"]][2],
                    }
                    for t in TOPICS
                ]
            )

        @app.get("/api/admin/audiences")
        def audiences():
            _, refused = _staff()
            return refused or jsonify(AUDIENCES)

        @app.get("/api/admin/campaigns")
        def campaigns():
            _, refused = _staff()
            return refused or jsonify(list(reversed(self.campaigns.values())))

        @app.post("/api/admin/campaigns")
        def create_campaign():
            _, refused = _staff()
            if refused:
                return refused
            fields, errors = self._campaign_fields()
            if errors:
                return _invalid(errors)
            return jsonify(self.add_campaign(**fields)), 201

        @app.get("/api/admin/campaigns/<campaign_id>")
        def campaign(campaign_id: str):
            _, refused = _staff()
            if refused:
                return refused
            found = self.campaigns.get(campaign_id)
            return jsonify(found) if found else problem(404, "No such campaign.")

        @app.put("/api/admin/campaigns/<campaign_id>")
        def update_campaign(campaign_id: str):
            _, refused = _staff()
            if refused:
                return refused
            found = self.campaigns.get(campaign_id)
            if found is None:
                return problem(404, "No such campaign.")
            if found["status"] != "draft":
                return problem(409, "Only a draft can be edited.")
            fields, errors = self._campaign_fields()
            if errors:
                return _invalid(errors)
            label = next(a["label"] for a in AUDIENCES if a["key"] == fields["audience"])
            found.update(fields, audience_label=label)
            return jsonify(found)

        @app.get("/api/admin/campaigns/<campaign_id>/preview")
        def preview(campaign_id: str):
            _, refused = _staff()
            if refused:
                return refused
            found = self.campaigns.get(campaign_id)
            if found is None:
                return problem(404, "No such campaign.")

            def merge(text: str) -> str:
                return text.replace("{{first_name}}", "Ada").replace(
                    "{{course}}", "USMLE Step 1 Prep"
                )

            text = merge(found["body_markdown"])
            escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            return jsonify(
                {
                    "subject": merge(found["subject"]),
                    "html": (
                        '<html><body style="background:#f4f5f7">'
                        f'<p style="color:#1f6feb">{escaped}</p></body></html>'
                    ),
                    "text": text,
                    "sample": {"first_name": "Ada", "course": "USMLE Step 1 Prep"},
                    "recipient": {
                        "email": "ada@example.com",
                        "name": "Ada Lovelace",
                        "sample": False,
                    },
                    "fallbacks": [],
                }
            )

        @app.post("/api/admin/campaigns/<campaign_id>/test")
        def test_send(campaign_id: str):
            user, refused = _staff()
            if refused:
                return refused
            if campaign_id not in self.campaigns:
                return problem(404, "No such campaign.")
            to = (request.get_json(silent=True) or {}).get("email") or user["email"]
            if "@" not in to:
                return _invalid({"email": ["Not a valid email address."]})
            return jsonify({"to": to}), 202

        @app.post("/api/admin/campaigns/<campaign_id>/schedule")
        def schedule(campaign_id: str):
            _, refused = _staff()
            if refused:
                return refused
            found = self.campaigns.get(campaign_id)
            if found is None:
                return problem(404, "No such campaign.")
            if found["status"] != "draft":
                return problem(409, "Only a draft can be scheduled.")
            raw = (request.get_json(silent=True) or {}).get("send_at") or ""
            try:
                send_at = datetime.fromisoformat(raw)
            except ValueError:
                return _invalid({"send_at": ["Not a valid datetime."]})
            if send_at.tzinfo is None:
                return _invalid({"send_at": ["Give the time zone."]})
            if send_at <= datetime.now(UTC):
                return _invalid({"send_at": ["Choose a time in the future."]})
            found.update(status="scheduled", send_at=send_at.astimezone(UTC).isoformat())
            return jsonify(found)

        @app.post("/api/admin/campaigns/<campaign_id>/send")
        def send(campaign_id: str):
            response = self._transition(campaign_id, ("draft", "scheduled"), "sending")
            if response.status_code == 200:
                found = self.campaigns[campaign_id]
                size = next(a["size"] for a in AUDIENCES if a["key"] == found["audience"])
                found["figures"].update(recipients=size, queued=size)
                found["started_at"] = datetime.now(UTC).isoformat()
                response = jsonify(found)
            return response

        @app.post("/api/admin/campaigns/<campaign_id>/pause")
        def pause(campaign_id: str):
            return self._transition(campaign_id, ("sending",), "paused")

        @app.post("/api/admin/campaigns/<campaign_id>/resume")
        def resume(campaign_id: str):
            return self._transition(campaign_id, ("paused",), "sending")

        @app.post("/api/admin/campaigns/<campaign_id>/cancel")
        def cancel(campaign_id: str):
            return self._transition(
                campaign_id, ("draft", "scheduled", "sending", "paused"), "cancelled"
            )

        @app.get("/api/admin/campaigns/<campaign_id>/deliveries")
        def deliveries(campaign_id: str):
            _, refused = _staff()
            if refused:
                return refused
            if campaign_id not in self.campaigns:
                return problem(404, "No such campaign.")
            status = request.args.get("status")
            rows = [d for d in self.deliveries[campaign_id] if not status or d["status"] == status]
            return jsonify(rows[: int(request.args.get("limit") or 100)])

        @app.get("/api/admin/subscribers")
        def subscribers():
            _, refused = _staff()
            if refused:
                return refused
            status = request.args.get("status")
            if status and status not in ("pending", "confirmed", "unsubscribed"):
                return _invalid({"status": ["Must be one of: pending, confirmed, unsubscribed."]})
            rows = [
                {
                    "id": "sub-1",
                    "email": "ada@example.com",
                    "name": "Ada",
                    "status": "confirmed",
                    "topics": ["step1"],
                    "created_at": "2026-11-01T09:00:00+00:00",
                    "confirmed_at": "2026-11-01T09:05:00+00:00",
                    "unsubscribed_at": None,
                },
                {
                    "id": "sub-2",
                    "email": "ben@example.com",
                    "name": None,
                    "status": "unsubscribed",
                    "topics": ["step2ck"],
                    "created_at": "2026-10-01T09:00:00+00:00",
                    "confirmed_at": "2026-10-01T09:05:00+00:00",
                    "unsubscribed_at": "2026-11-02T10:00:00+00:00",
                },
            ]
            return jsonify([r for r in rows if not status or r["status"] == status])

        @app.get("/api/admin/suppressions")
        def suppressions():
            _, refused = _staff()
            if refused:
                return refused
            reason = request.args.get("reason")
            rows = [r for r in self.suppressions if not reason or r["reason"] == reason]
            return jsonify(list(reversed(rows))[: int(request.args.get("limit") or 100)])

        @app.post("/api/admin/suppressions")
        def suppress():
            _, refused = _staff()
            if refused:
                return refused
            body = request.get_json(silent=True) or {}
            email = str(body.get("email") or "")
            if "@" not in email:
                return _invalid({"email": ["Not a valid email address."]})
            if body.get("reason") != "manual":
                return _invalid({"reason": ["Only manual suppressions can be added."]})
            row = {
                "email": email.lower(),
                "reason": "manual",
                "source": "marketing",
                "campaign_id": None,
                "created_at": datetime.now(UTC).isoformat(),
            }
            self.suppressions.append(row)
            return jsonify(row), 201
