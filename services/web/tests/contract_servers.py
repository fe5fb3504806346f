"""Stand-ins for the identity, email, enrollment, payments, tutoring and testimonials services'
HTTP contracts, for the site's tests only.

The site is tested against real HTTP servers that answer the endpoints it calls with canned
JSON shaped like the contract (problem+json errors included) and record every request, so a
test can check exactly what the site sent. They hold no business rules: the real services are
tested in their own folders, and the end-to-end tests run the site against them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, Response, jsonify, request
from werkzeug.serving import BaseWSGIServer

from services.web.tests.progress_contract import progress_routes, reset_progress
from shared.testing.fixtures import serve_in_thread


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    json: Any
    headers: dict[str, str]
    body: bytes
    query: dict[str, str]


def problem(status: int, detail: str, errors: dict[str, list[str]] | None = None) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": detail, "status": status}
    body["detail"] = detail
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


class ContractServer:
    """A real HTTP server for one service's contract; ``answer()`` overrides one endpoint."""

    name = "service"

    def __init__(self) -> None:
        self.app = Flask(f"{self.name}-contract")
        self.calls: list[Call] = []
        self._overrides: dict[tuple[str, str], tuple[int, Any]] = {}
        self._server: BaseWSGIServer | None = None
        self.url = ""

        @self.app.before_request
        def record() -> Response | None:
            self.calls.append(
                Call(
                    request.method,
                    request.path,
                    request.get_json(silent=True),
                    dict(request.headers),
                    request.get_data(),
                    request.args.to_dict(),
                )
            )
            override = self._overrides.get((request.method, request.path))
            if override is None:
                return None
            status, body = override
            if status >= 400 and isinstance(body, dict):
                return problem(status, body.get("detail", "Refused"), body.get("errors"))
            response = jsonify(body) if body is not None else Response(status=status)
            response.status_code = status
            return response

        self.routes(self.app)
        self._operations_routes(self.app)

    def routes(self, app: Flask) -> None:
        raise NotImplementedError

    def _operations_routes(self, app: Flask) -> None:
        """Every service with data answers the shared operations API (shared/operations.py)."""

        @app.get("/api/admin/operations", endpoint="contract_operations")
        def operations():
            if not request.headers.get("Authorization", "").startswith("Bearer access-"):
                return problem(401, "Send an access token.")
            return jsonify(
                {
                    "service": self.name,
                    "outbox": {"backlog": 0, "oldest_age_seconds": None},
                    "last_events": [],
                    "dead_letters": [],
                    "problems": [],
                }
            )

        @app.post("/api/admin/operations/dead-letters/replay", endpoint="contract_replay")
        def replay():
            body = request.get_json() or {}
            return jsonify({"service": self.name, "replayed": len(body.get("ids") or [1])})

    def reset(self) -> None:
        """Forget recorded calls and overrides (one server serves a whole test session)."""
        self.calls.clear()
        self._overrides.clear()

    def answer(self, method: str, path: str, status: int, body: Any = None) -> None:
        """Make one endpoint answer ``status`` with ``body`` (a problem's detail/errors if 4xx)."""
        self._overrides[(method, path)] = (status, body)

    def calls_to(self, method: str, path: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.path == path]

    def start(self) -> str:
        self._server = serve_in_thread(self.app)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()


def _user(email: str, name: str = "Ada Student", roles: list[str] | None = None) -> dict:
    return {
        "id": f"user-{email.split('@')[0]}",
        "email": email,
        "name": name,
        "roles": roles or _roles_of(email),
        "time_zone": "Asia/Kolkata" if email.startswith("kolkata") else None,
        "created_at": "2026-11-02T09:00:00+00:00",
    }


def _roles_of(email: str) -> list[str]:
    for role in ("admin", "tutor", "marketing"):
        if email.startswith(role):
            return [role]
    return ["student"]


def _tokens(user: dict, generation: int = 1, expires_in: int = 900) -> dict:
    return {
        "access_token": f"access-{generation}.{user['email']}",
        "refresh_token": f"refresh.{user['email']}",
        "token_type": "Bearer",
        "expires_in": expires_in,
        "user": user,
    }


class IdentityContract(ContractServer):
    """identity's contract: users, login/refresh/logout, password resets, invitations, admin."""

    name = "identity"
    WRONG_PASSWORD = "wrong-password"
    EXPIRED_TOKEN = "expired"

    def __init__(self) -> None:
        self.access_ttl = 900
        super().__init__()

    def reset(self) -> None:
        super().reset()
        self.access_ttl = 900

    def _bearer_user(self) -> dict | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer access-"):
            return None
        return _user(header.split(".", 1)[1])

    def routes(self, app: Flask) -> None:
        @app.post("/api/users")
        def register():
            # The same answer whether or not the email already has an account.
            body = request.get_json()
            return jsonify({"status": "check-inbox", "email": body["email"].lower()}), 202

        @app.post("/api/auth/login")
        def login():
            body = request.get_json()
            if body["password"] == self.WRONG_PASSWORD:
                return problem(401, "Wrong email or password.")
            return jsonify(_tokens(_user(body["email"]), expires_in=self.access_ttl))

        @app.post("/api/auth/refresh")
        def refresh():
            email = request.get_json()["refresh_token"].split(".", 1)[1]
            return jsonify(_tokens(_user(email), generation=2))

        @app.post("/api/auth/logout")
        def logout():
            return Response(status=204)

        @app.get("/api/users/me")
        def me():
            user = self._bearer_user()
            return jsonify(user) if user else problem(401, "Send an access token.")

        @app.patch("/api/users/me")
        def rename():
            user = self._bearer_user()
            if user is None:
                return problem(401, "Send an access token.")
            return jsonify({**user, **request.get_json()})

        @app.post("/api/password-resets")
        def request_reset():
            return Response(status=202)

        @app.post("/api/password-resets/complete")
        def complete_reset():
            if request.get_json()["token"] == self.EXPIRED_TOKEN:
                return problem(
                    422, "Invalid fields: token", {"token": ["This reset link has expired."]}
                )
            # A token `reset.<email>` resets that account (else the default student's).
            token = request.get_json()["token"]
            email = token.split(".", 1)[1] if token.startswith("reset.") else "student@example.org"
            return jsonify(_user(email))

        @app.post("/api/invitations/accept")
        def accept_invitation():
            return jsonify(_user("invited@example.org", "Ines Tutor", ["tutor"]))

        @app.get("/api/admin/users")
        def list_users():
            user = self._bearer_user()
            if user is None or "admin" not in user["roles"]:
                return problem(403, "This needs the role admin.")
            return jsonify(
                [
                    {**_user("admin@example.org", "Ann Admin"), "status": "active"},
                    {**_user("tutor@example.org", "Tom Tutor", ["tutor"]), "status": "invited"},
                ]
            )

        @app.post("/api/admin/users")
        def invite():
            body = request.get_json()
            user = _user(body["email"], body["name"], [body["role"]])
            return jsonify({**user, "status": "invited"}), 201


TOPICS = [
    {"slug": "step1", "name": "USMLE Step 1", "description": "Cycles and strategy for Step 1."},
    {"slug": "step2ck", "name": "USMLE Step 2 CK", "description": "Cycles and strategy for CK."},
    {"slug": "tutoring", "name": "Tutoring", "description": "When tutors have openings."},
]


def _bearer() -> dict | None:
    """The user a stand-in's caller is, from the identity stand-in's ``access-N.<email>`` token."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer access-"):
        return None
    return _user(header.split(".", 1)[1])


def _staff() -> tuple[dict | None, Response | None]:
    """Marketing screens' rule: marketing or admin; 401 without a token, 403 for anyone else."""
    user = _bearer()
    if user is None:
        return None, problem(401, "Send an access token.")
    if not {"marketing", "admin"} & set(user["roles"]):
        return None, problem(403, "This needs the role marketing or admin.")
    return user, None


def _invalid(errors: dict[str, list[str]]) -> Response:
    return problem(422, "Invalid fields: " + ", ".join(sorted(errors)), errors)


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


def _cycle(start: str, end: str, seats_left: int, seats_total: int = 25) -> dict:
    return {
        "start": start,
        "end": end,
        "seats_total": seats_total,
        "seats_left": seats_left,
        "status": "open" if seats_left else "full",
    }


STEP1_CYCLES = [
    _cycle("2026-03-02", "2026-05-24", 3),
    _cycle("2026-03-30", "2026-06-21", 0),
    _cycle("2026-04-27", "2026-07-19", 25),
    _cycle("2026-05-25", "2026-08-16", 25),
]

COURSES = {
    "usmle-step-1-prep": {
        "slug": "usmle-step-1-prep",
        "title": "USMLE Step 1 Prep",
        "description": "Twelve weeks of systems-based review with weekly assessments.",
        "price_minor": 149900,
        "currency": "USD",
        "cycle_length_days": 84,
        "cadence_days": 28,
        "anchor_date": "2026-01-05",
        "seats_per_cycle": 25,
        "access_days": 120,
        "refund_window_days": 14,
        "published": True,
    },
    "usmle-step-2-ck-prep": {
        "slug": "usmle-step-2-ck-prep",
        "title": "USMLE Step 2 CK Prep",
        "description": "Eight weeks of clinical knowledge review.",
        "price_minor": 129900,
        "currency": "USD",
        "cycle_length_days": 56,
        "cadence_days": 28,
        "anchor_date": "2026-01-12",
        "seats_per_cycle": 25,
        "access_days": 90,
        "refund_window_days": 14,
        "published": True,
    },
}

CYCLES = {
    "usmle-step-1-prep": STEP1_CYCLES,
    "usmle-step-2-ck-prep": [
        _cycle("2026-03-09", "2026-05-03", 12),
        _cycle("2026-04-06", "2026-05-31", 25),
    ],
}


class EnrollmentContract(ContractServer):
    """enrollment's contract: catalogue, enrollments (owner or admin), waitlist, admin."""

    name = "enrollment"
    FREE_CODE = "FREE100"
    BAD_CODE = "NOPE"
    CLIENT_SECRET = "pi_contract1_secret_abc"
    PUBLISHABLE_KEY = "pk_test_contract"

    def __init__(self) -> None:
        self.enrollments: dict[str, dict] = {}
        super().__init__()
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.enrollments = {}
        self.add_enrollment("enr-pending", "student@example.org", "pending_payment")
        self.add_enrollment("enr-active", "student@example.org", "active")
        self.add_enrollment("enr-other", "other@example.org", "pending_payment")

    def add_enrollment(
        self, enrollment_id: str, email: str, status: str, cycle: dict | None = None
    ) -> dict:
        cycle = cycle or STEP1_CYCLES[0]
        self.enrollments[enrollment_id] = {
            "id": enrollment_id,
            "student_email": email,
            "status": status,
            "course_slug": "usmle-step-1-prep",
            "course_title": "USMLE Step 1 Prep",
            "cycle_start": cycle["start"],
            "cycle_end": cycle["end"],
            "access_ends_on": "2026-06-30",
            "amount_minor": 149900,
            "currency": "USD",
            "hold_expires_at": "2026-02-20T14:30:00+00:00",
            "refund_requested": False,
        }
        return self.enrollments[enrollment_id]

    def _view(self, record: dict) -> dict:
        view = {k: v for k, v in record.items() if k != "student_email"}
        # What enrollment's domain allows (domain.allowed_actions), for the page to offer.
        if record["status"] == "pending_payment":
            view["allowed_actions"] = ["pay"]
        elif record["status"] == "active" and not record["refund_requested"]:
            view["allowed_actions"] = ["defer", "refund"]
        else:
            view["allowed_actions"] = []
        view["checkout"] = None
        if record["status"] == "pending_payment":
            view["checkout"] = {
                "client_secret": self.CLIENT_SECRET,
                "publishable_key": self.PUBLISHABLE_KEY,
                "js_url": "http://stripe.invalid/js.stripe.com/v3/",
                "payment_id": f"pay-{record['id']}",
            }
        return view

    def _bearer_user(self) -> dict | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer access-"):
            return None
        return _user(header.split(".", 1)[1])

    def _owned(self, enrollment_id: str) -> tuple[dict | None, Response | None]:
        user = self._bearer_user()
        if user is None:
            return None, problem(401, "Send an access token.")
        record = self.enrollments.get(enrollment_id)
        if record is None:
            return None, problem(404, "No such enrollment.")
        if record["student_email"] != user["email"] and "admin" not in user["roles"]:
            return None, problem(403, "This enrollment belongs to someone else.")
        return record, None

    def _admin(self) -> Response | None:
        user = self._bearer_user()
        if user is None or "admin" not in user["roles"]:
            return problem(403, "This needs the role admin.")
        return None

    def routes(self, app: Flask) -> None:
        @app.get("/api/courses")
        def courses():
            return jsonify(
                [{**course, "next_cycles": CYCLES[slug]} for slug, course in COURSES.items()]
            )

        @app.get("/api/courses/<slug>")
        def course(slug: str):
            if slug not in COURSES:
                return problem(404, "No such course.")
            return jsonify({**COURSES[slug], "cycles": CYCLES[slug]})

        @app.post("/api/enrollments")
        def enroll():
            user = self._bearer_user()
            if user is None:
                return problem(401, "Send an access token.")
            body = request.get_json()
            cycles = CYCLES[body["course_slug"]]
            start = body.get("cycle_start") or cycles[0]["start"]
            [cycle] = [c for c in cycles if c["start"] == start]
            if cycle["status"] == "full":
                return problem(409, "That cycle is full", {"cycle_start": ["That cycle is full."]})
            code = body.get("promo_code")
            if code == self.BAD_CODE:
                return problem(
                    422, "Unknown promotion code", {"promo_code": ["Unknown promotion code."]}
                )
            status = "active" if code == self.FREE_CODE else "pending_payment"
            record = self.add_enrollment("enr-new", user["email"], status, cycle)
            return jsonify(self._view(record)), 201

        @app.get("/api/enrollments")
        def mine():
            user = self._bearer_user()
            if user is None:
                return problem(401, "Send an access token.")
            return jsonify(
                [
                    self._view(r)
                    for r in self.enrollments.values()
                    if r["student_email"] == user["email"]
                ]
            )

        @app.get("/api/enrollments/<enrollment_id>")
        def one(enrollment_id: str):
            record, refusal = self._owned(enrollment_id)
            return refusal or jsonify(self._view(record))

        @app.post("/api/enrollments/<enrollment_id>/defer")
        def defer(enrollment_id: str):
            record, refusal = self._owned(enrollment_id)
            if refusal:
                return refusal
            record["cycle_start"] = request.get_json()["cycle_start"]
            return jsonify(self._view(record))

        @app.post("/api/enrollments/<enrollment_id>/refund")
        def refund(enrollment_id: str):
            record, refusal = self._owned(enrollment_id)
            if refusal:
                return refusal
            record["refund_requested"] = True
            return jsonify(self._view(record)), 202

        @app.post("/api/courses/<slug>/cycles/<start>/waitlist")
        def waitlist(slug: str, start: str):
            if self._bearer_user() is None:
                return problem(401, "Send an access token.")
            return jsonify({"position": 3}), 201

        @app.get("/api/admin/courses")
        def admin_courses():
            return self._admin() or jsonify(list(COURSES.values()))

        @app.post("/api/admin/courses")
        def create_course():
            return self._admin() or (jsonify(request.get_json()), 201)

        @app.patch("/api/admin/courses/<slug>")
        def update_course(slug: str):
            return self._admin() or jsonify({**COURSES[slug], **request.get_json()})

        @app.get("/api/admin/courses/<slug>/cycles/<start>/roster")
        def roster(slug: str, start: str):
            return self._admin() or jsonify(
                {
                    "course_slug": slug,
                    "course_title": COURSES[slug]["title"],
                    "cycle_start": start,
                    "cycle_end": "2026-05-24",
                    "seats_total": 25,
                    "seats_taken": 2,  # as enrollment's RosterSchema answers (no seats_left)
                    "enrollments": [
                        {
                            "id": "enr-r1",
                            "name": "Rita Roster",
                            "email": "rita@example.org",
                            "status": "active",
                            "amount_minor": 149900,
                            "currency": "USD",
                            "access_ends_on": "2026-06-30",
                        }
                    ],
                }
            )

        @app.get("/api/admin/promo-codes")
        def promo_codes():
            return self._admin() or jsonify(
                [
                    {
                        "code": "SPRING25",
                        "kind": "percent",
                        "value": 25,
                        "course_slug": None,
                        "max_redemptions": 100,
                        "redemptions": 7,
                        "per_student_limit": 1,
                        "expires_at": None,
                        "currency": None,
                    }
                ]
            )

        @app.post("/api/admin/promo-codes")
        def create_promo_code():
            return self._admin() or (jsonify(request.get_json()), 201)


class PaymentsContract(ContractServer):
    """payments' contract as the site uses it: only the admin ledger."""

    name = "payments"

    def routes(self, app: Flask) -> None:
        @app.post("/api/payments/<payment_id>/card")
        def pay_with_card(payment_id: str):
            if not request.headers.get("Authorization", "").startswith("Bearer access-"):
                return problem(401, "Send an access token.")
            if request.get_json()["token"] == "tok_chargeDeclined":
                return problem(402, "The card was declined", {"card": ["Your card was declined."]})
            return jsonify(
                {
                    "payment_id": payment_id,
                    "status": "succeeded",
                    "client_secret": "pi_contract1_secret_abc",
                }
            )

        @app.get("/api/admin/ledger")
        def ledger():
            header = request.headers.get("Authorization", "")
            if not header.startswith("Bearer access-") or not header.split(".", 1)[1].startswith(
                "admin"
            ):
                return problem(403, "This needs the role admin.")
            return jsonify(
                {
                    "payments": [
                        {
                            "payment_id": "pay-1",
                            "purchase_ref": "enr-1",
                            "purchase_kind": "enrollment",
                            "user_id": "user-student",
                            "email": "payer@example.org",
                            "name": "Paula Payer",
                            "description": "USMLE Step 1 Prep",
                            "amount_minor": 149900,
                            "currency": "USD",
                            "status": "succeeded",
                            "refunded_minor": 50000,
                            "created_at": "2026-02-20T14:00:00+00:00",
                        }
                    ],
                    "refunds": [
                        {
                            "refund_id": "re_1",
                            "payment_id": "pay-1",
                            "amount_minor": 50000,
                            "currency": "USD",
                            "purchase_ref": "enr-1",
                            "purchase_kind": "enrollment",
                            "description": "USMLE Step 1 Prep",
                            "name": "Paula Payer",
                            "email": "payer@example.org",
                            "status": "succeeded",
                            "created_at": "2026-02-21T09:00:00+00:00",
                        }
                    ],
                    "disputes": [
                        {
                            "dispute_id": "dp_1",
                            "payment_id": "pay-9",
                            "amount_minor": 129900,
                            "currency": "USD",
                            "status": "needs_response",
                            "reason": "fraudulent",
                            "created_at": "2026-02-22T09:00:00+00:00",
                        }
                    ],
                    "flagged_events": [
                        {
                            "stripe_event_id": "evt_flagged_1",
                            "type": "payment_intent.succeeded",
                            "source": "webhook",
                            "outcome": "flagged: Stripe says 100 usd, the payment is 149900 USD",
                            "received_at": "2026-02-23T09:00:00+00:00",
                        }
                    ],
                }
            )


TUTORS = {
    "user-tutor": {
        "id": "user-tutor",
        "name": "Tom Tutor",
        "bio": "Former NBME item writer; twelve years of Step 1 and CK tutoring.",
        "exams": ["step1", "step2ck"],
        "time_zone": "Europe/London",
        "session_rate_minor": 12000,
        "currency": "USD",
        "photo_url": None,
        "horizon_days": 28,
    },
    "user-tina": {
        "id": "user-tina",
        "name": "Tina Teach",
        "bio": "Pathology first, then everything else.",
        "exams": ["step1"],
        "time_zone": "Asia/Kolkata",
        "session_rate_minor": 9000,
        "currency": "USD",
        "photo_url": None,
        "horizon_days": 28,
    },
}

SLOT_STARTS = ("2026-03-02T14:00:00+00:00", "2026-03-02T23:30:00+00:00")
"""14:00 UTC is 19:30 in Kolkata and 09:00 in New York; 23:30 UTC falls on the next day in Kolkata."""

UPCOMING_CONSULTATION = "2030-03-04T14:00:00+00:00"
"""A booked consultation years ahead, so it stays upcoming whatever the date the tests run."""

INTAKE = {
    "exam": "step1",
    "exam_date": "2026-06-15",
    "attempts": 0,
    "weekly_hours": 30,
    "weak_areas": ["renal", "hematology-oncology"],
}


def _plan(version: int = 1) -> dict:
    days = [
        {"day": "2026-03-05", "kind": "study", "blocks": [{"area": "renal", "hours": 3.0}]},
        {"day": "2026-03-06", "kind": "study", "blocks": [{"area": "anatomy", "hours": 2.5}]},
        {"day": "2026-03-07", "kind": "free", "blocks": []},
        {
            "day": "2026-03-08",
            "kind": "checkpoint",
            "blocks": [{"area": "Self-assessment", "hours": 5.0}],
        },
        {
            "day": "2026-03-09",
            "kind": "review",
            "blocks": [{"area": "hematology-oncology", "hours": 1.5}],
        },
        {"day": "2026-03-10", "kind": "exam", "blocks": []},
    ]
    return {
        "id": "plan-1",
        "plan_id": "plan-1",
        "consultation_id": "con-done",
        "published_at": "2026-03-04T12:00:00+00:00",
        "version": version,
        "student_id": "user-student",
        "tutor_id": "user-tutor",
        "exam": "step1",
        "exam_date": "2026-03-10",
        "total_hours": 12.0,
        "hours_by_area": {"renal": 3.0, "anatomy": 2.5, "hematology-oncology": 1.5},
        "warnings": ["Only 5 study days before the exam: consider a later date."],
        "days": days,
        "reset": False,
        "starts_on": "2026-03-05",
        "weekly_hours": 30,
        "targets": {},
    }


SESSION_SLOT_STARTS = ("2026-03-04T15:00:00+00:00", "2026-03-05T16:00:00+00:00")
"""Hour-long session slots: 15:00 UTC is 20:30 in Kolkata."""


def _not_completed(record: dict, what: str) -> Response:
    """tutoring's refusal of an assessment or a plan for a consultation not completed."""
    return problem(
        409,
        f"A {record['status']} consultation has no {what}; complete it first",
        {"state": [f"A {record['status']} consultation has no {what}; complete it first"]},
    )


_NOT_STARTED = "This {kind} starts later; it can be completed once it has started."


def _not_started(record: dict) -> bool:
    """Tutoring's rule: a meeting's outcome is recorded only once it has begun."""
    return datetime.fromisoformat(record["starts_at"]) > datetime.now(UTC)


def _package_price(rate_minor: int, hours: int) -> int:
    return rate_minor * hours * 9 // 10 if hours == 10 else rate_minor * hours


class TutoringContract(ContractServer):
    """tutoring's contract: tutors and slots, availability, consultations (owner or their tutor),
    assessments, study plans, packages of hours, credits and paid sessions; results, progress,
    day checks, proposals, reflections and assessment forms in tests/progress_contract.py."""

    name = "tutoring"
    TAKEN_SLOT = "2026-03-02T23:30:00+00:00"
    PUBLISHABLE_KEY = "pk_test_tutoring"

    def __init__(self) -> None:
        self.consultations: dict[str, dict] = {}
        self.availability: dict = {}
        self.packages: dict[str, dict] = {}
        self.credits: dict[str, dict[str, int]] = {}
        self.sessions: dict[str, dict] = {}
        super().__init__()
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.availability = {
            "weekly": [
                {"weekday": 0, "start": "09:00", "end": "12:00"},
                {"weekday": 0, "start": "14:00", "end": "17:00"},
                {"weekday": 2, "start": "10:00", "end": "16:00"},
            ],
            "overrides": [{"day": "2026-03-11", "windows": []}],
            "time_off": [
                {
                    "id": "off-1",
                    "starts_at": "2026-04-01T00:00:00+00:00",
                    "ends_at": "2026-04-08T00:00:00+00:00",
                }
            ],
        }
        self.consultations = {}
        # Booked and still to come (a tutor records its outcome only once it has started).
        self.add_consultation(
            "con-booked", "student@example.org", "booked", starts_at=UPCOMING_CONSULTATION
        )
        self.add_consultation("con-done", "student@example.org", "completed", plan_id="plan-1")
        self.add_consultation("con-other", "other@example.org", "booked", tutor_id="user-tina")
        self.packages = {}
        self.add_package("pkg-pending", "student@example.org", "pending_payment")
        self.add_package("pkg-paid", "student@example.org", "paid")
        self.add_package("pkg-other", "other@example.org", "pending_payment")
        self.credits = {"user-student": {"user-tutor": 3}}
        self.sessions = {}
        soon = (datetime.now(UTC) + timedelta(hours=5)).replace(microsecond=0).isoformat()
        self.add_session("ses-booked", "student@example.org", "booked", "2030-03-04T15:00:00+00:00")
        self.add_session("ses-soon", "student@example.org", "booked", soon)
        self.add_session(
            "ses-done",
            "student@example.org",
            "completed",
            "2026-02-20T15:00:00+00:00",
            lesson_note="Acid-base went well; next time: renal tubular acidosis.",
        )
        self.add_session(
            "ses-cancelled", "student@example.org", "cancelled", "2026-02-21T15:00:00+00:00"
        )
        self.add_session(
            "ses-other", "other@example.org", "booked", "2030-03-05T15:00:00+00:00", "user-tina"
        )
        reset_progress(self)  # results, checks, proposals, forms (tests/progress_contract.py)

    def add_package(
        self, package_id: str, email: str, status: str, tutor_id: str = "user-tutor", hours: int = 5
    ) -> dict:
        tutor = TUTORS[tutor_id]
        self.packages[package_id] = {
            "id": package_id,
            "student_id": _user(email)["id"],
            "status": status,
            "tutor_id": tutor_id,
            "tutor_name": tutor["name"],
            "hours": hours,
            "amount_minor": _package_price(tutor["session_rate_minor"], hours),
            "currency": tutor["currency"],
        }
        return self.packages[package_id]

    def _package_view(self, record: dict) -> dict:
        view = {k: v for k, v in record.items() if k != "student_id"}
        view["checkout"] = None
        if record["status"] == "pending_payment":
            view["checkout"] = {
                "client_secret": f"pi_{record['id']}_secret",
                "publishable_key": self.PUBLISHABLE_KEY,
                "js_url": "http://stripe.invalid/js.stripe.com/v3/",
                "payment_id": f"pay-{record['id']}",
            }
        return view

    def add_session(
        self,
        session_id: str,
        email: str,
        status: str,
        starts_at: str,
        tutor_id: str = "user-tutor",
        *,
        lesson_note: str | None = None,
    ) -> dict:
        student = _user(email)
        begin = datetime.fromisoformat(starts_at)
        self.sessions[session_id] = {
            "id": session_id,
            "status": status,
            "tutor_id": tutor_id,
            "tutor_name": TUTORS[tutor_id]["name"],
            "student_id": student["id"],
            "student_name": "Sam Student",
            "starts_at": begin.isoformat(),
            "ends_at": (begin + timedelta(hours=1)).isoformat(),
            "reschedules": 0,
            "lesson_note": lesson_note,
            "credit_returned": status == "cancelled",
        }
        return self.sessions[session_id]

    def _completed_consultation(self, student_id: str, tutor_id: str) -> bool:
        return any(
            c["student_id"] == student_id
            and c["tutor_id"] == tutor_id
            and c["status"] == "completed"
            for c in self.consultations.values()
        )

    def _student(self) -> tuple[dict | None, Response | None]:
        user = self._bearer_user()
        if user is None:
            return None, problem(401, "Send an access token.")
        if "student" not in user["roles"]:
            return None, problem(403, "This needs the role student.")
        return user, None

    def _session_visible(self, session_id: str) -> tuple[dict | None, Response | None]:
        user = self._bearer_user()
        if user is None:
            return None, problem(401, "Send an access token.")
        record = self.sessions.get(session_id)
        if record is None:
            return None, problem(404, "No such session.")
        if user["id"] not in (record["student_id"], record["tutor_id"]):
            return None, problem(403, "This session belongs to someone else.")
        return record, None

    def add_consultation(
        self,
        consultation_id: str,
        email: str,
        status: str,
        *,
        tutor_id: str = "user-tutor",
        starts_at: str = SLOT_STARTS[0],
        plan_id: str | None = None,
    ) -> dict:
        student = _user(email)
        self.consultations[consultation_id] = {
            "id": consultation_id,
            "status": status,
            "starts_at": starts_at,
            "ends_at": starts_at.replace("14:00", "14:30"),
            "tutor_id": tutor_id,
            "tutor_name": TUTORS[tutor_id]["name"],
            "student_id": student["id"],
            "student_name": "Sam Student",
            "student_email": email,
            "intake": dict(INTAKE),
            "assessment": None,
            "plan_id": plan_id,
            "reflection": None,
            "reflection_asked": False,
        }
        return self.consultations[consultation_id]

    def _bearer_user(self) -> dict | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer access-"):
            return None
        return _user(header.split(".", 1)[1])

    def _tutor(self) -> tuple[dict | None, Response | None]:
        user = self._bearer_user()
        if user is None:
            return None, problem(401, "Send an access token.")
        if "tutor" not in user["roles"]:
            return None, problem(403, "This needs the role tutor.")
        return user, None

    def _visible(self, consultation_id: str) -> tuple[dict | None, Response | None]:
        user = self._bearer_user()
        if user is None:
            return None, problem(401, "Send an access token.")
        record = self.consultations.get(consultation_id)
        if record is None:
            return None, problem(404, "No such consultation.")
        if user["id"] not in (record["student_id"], record["tutor_id"]):
            return None, problem(403, "This consultation belongs to someone else.")
        return record, None

    def _tutors_own(self, consultation_id: str) -> tuple[dict | None, Response | None]:
        record, refusal = self._visible(consultation_id)
        if refusal:
            return None, refusal
        if self._bearer_user()["id"] != record["tutor_id"]:
            return None, problem(403, "Only the consultation's tutor may do this.")
        return record, None

    def routes(self, app: Flask) -> None:
        @app.get("/api/admin/tutors")
        def admin_tutors():
            user = self._bearer_user()
            if user is None or "admin" not in user["roles"]:
                return problem(403, "This needs the role admin.")
            return jsonify(
                [
                    {
                        "id": "tutor-1",
                        "name": "Dr Rao",
                        "email": "rao@example.org",
                        "bio": "",
                        "exams": ["step1"],
                        "time_zone": "America/New_York",
                        "session_rate_minor": 12000,
                        "currency": "USD",
                        "consultation_minutes": 30,
                        "session_minutes": 60,
                        "buffer_minutes": 15,
                        "min_notice_hours": 24,
                        "horizon_days": 28,
                    }
                ]
            )

        @app.get("/api/calendar/<name>")
        def calendar_feed(name: str):
            if name != "feed-token.ics":
                return problem(404, "No calendar at that address")
            return Response(
                b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", content_type="text/calendar; charset=utf-8"
            )

        @app.get("/api/tutors")
        def tutors():
            return jsonify(list(TUTORS.values()))

        @app.get("/api/tutors/<tutor_id>")
        def tutor(tutor_id: str):
            if tutor_id not in TUTORS:
                return problem(404, "No such tutor.")
            return jsonify(TUTORS[tutor_id])

        @app.get("/api/tutors/<tutor_id>/slots")
        def slots(tutor_id: str):
            zone = ZoneInfo(request.args.get("tz", "UTC"))
            session = request.args.get("kind") == "session"
            answer = []
            for start in SESSION_SLOT_STARTS if session else SLOT_STARTS:
                begin = datetime.fromisoformat(start)
                end = begin + timedelta(minutes=60 if session else 30)
                answer.append(
                    {
                        "starts_at": begin.isoformat(),
                        "ends_at": end.isoformat(),
                        "local_start": begin.astimezone(zone).isoformat(),
                        "local_end": end.astimezone(zone).isoformat(),
                    }
                )
            return jsonify(answer)

        @app.put("/api/tutors/me")
        def save_profile():
            user, refusal = self._tutor()
            return refusal or jsonify(
                {"id": user["id"], "name": user["name"], **request.get_json()}
            )

        @app.get("/api/tutors/me/availability")
        def availability():
            _, refusal = self._tutor()
            return refusal or jsonify(self.availability)

        @app.put("/api/tutors/me/availability")
        def save_availability():
            _, refusal = self._tutor()
            if refusal:
                return refusal
            self.availability.update(request.get_json())
            return jsonify(self.availability)

        @app.post("/api/tutors/me/time-off")
        def add_time_off():
            _, refusal = self._tutor()
            return refusal or (jsonify({"id": "off-new", **request.get_json()}), 201)

        @app.delete("/api/tutors/me/time-off/<time_off_id>")
        def remove_time_off(time_off_id: str):
            _, refusal = self._tutor()
            return refusal or Response(status=204)

        @app.post("/api/consultations")
        def book():
            user = self._bearer_user()
            if user is None:
                return problem(401, "Send an access token.")
            if "student" not in user["roles"]:
                return problem(403, "Only students book consultations.")
            body = request.get_json()
            if body["starts_at"] == self.TAKEN_SLOT:
                return problem(409, "That time was just taken by someone else.")
            record = self.add_consultation(
                "con-new",
                user["email"],
                "booked",
                tutor_id=body["tutor_id"],
                starts_at=body["starts_at"],
            )
            record["intake"] = body["intake"]
            # As tutoring: an earlier attempt at the exam asks for a reflection.
            record["reflection_asked"] = int(body["intake"].get("attempts") or 0) >= 1
            return jsonify(record), 201

        @app.get("/api/consultations")
        def mine():
            user = self._bearer_user()
            if user is None:
                return problem(401, "Send an access token.")
            return jsonify(
                [
                    c
                    for c in self.consultations.values()
                    if user["id"] in (c["student_id"], c["tutor_id"])
                ]
            )

        @app.get("/api/consultations/<consultation_id>")
        def one(consultation_id: str):
            record, refusal = self._visible(consultation_id)
            return refusal or jsonify(record)

        @app.post("/api/consultations/<consultation_id>/cancel")
        def cancel(consultation_id: str):
            record, refusal = self._visible(consultation_id)
            if refusal:
                return refusal
            record["status"] = "cancelled"
            return jsonify(record)

        @app.post("/api/consultations/<consultation_id>/<action>")
        def tutor_action(consultation_id: str, action: str):
            record, refusal = self._tutors_own(consultation_id)
            if refusal:
                return refusal
            if action == "plan":
                if record["status"] != "completed":
                    return _not_completed(record, "study plan")
                record["plan_id"] = "plan-1"
                return jsonify(_plan()), 201
            if _not_started(record):
                return problem(409, _NOT_STARTED.format(kind="consultation"))
            record["status"] = {"complete": "completed", "no-show": "no_show"}[action]
            return jsonify(record)

        @app.put("/api/consultations/<consultation_id>/assessment")
        def assessment(consultation_id: str):
            record, refusal = self._tutors_own(consultation_id)
            if refusal:
                return refusal
            if record["status"] != "completed":
                return _not_completed(record, "assessment")
            record["assessment"] = request.get_json()
            return jsonify(record)

        @app.get("/api/plans/mine")
        def my_plan():
            user = self._bearer_user()
            if user is None:
                return problem(401, "Send an access token.")
            return jsonify([_plan()] if user["id"] == "user-student" else [])

        @app.get("/api/plans/<plan_id>")
        def plan(plan_id: str):
            return jsonify(_plan()) if plan_id == "plan-1" else problem(404, "No such plan.")

        @app.put("/api/plans/<plan_id>")
        def edit_plan(plan_id: str):
            _, refusal = self._tutor()
            return refusal or jsonify(_plan(version=2))

        @app.get("/api/calendar/me")
        def calendar():
            user = self._bearer_user()
            if user is None:
                return problem(401, "Send an access token.")
            return jsonify({"url": f"https://cal.example.org/feeds/{user['id']}.ics"})

        @app.post("/api/packages")
        def buy_package():
            user, refusal = self._student()
            if refusal:
                return refusal
            body = request.get_json()
            if body["hours"] not in (1, 5, 10):
                return problem(
                    422, "Invalid fields: hours", {"hours": ["Choose 1, 5 or 10 hours."]}
                )
            if not self._completed_consultation(user["id"], body["tutor_id"]):
                return problem(409, "Have your free consultation with this tutor first.")
            record = self.add_package(
                "pkg-new", user["email"], "pending_payment", body["tutor_id"], body["hours"]
            )
            return jsonify(self._package_view(record)), 201

        @app.get("/api/packages/<package_id>")
        def package(package_id: str):
            user = self._bearer_user()
            if user is None:
                return problem(401, "Send an access token.")
            record = self.packages.get(package_id)
            if record is None:
                return problem(404, "No such package.")
            if record["student_id"] != user["id"]:
                return problem(403, "This package belongs to someone else.")
            return jsonify(self._package_view(record))

        @app.get("/api/credits")
        def credits():
            user, refusal = self._student()
            if refusal:
                return refusal
            return jsonify(
                [
                    {
                        "tutor_id": tutor_id,
                        "tutor_name": TUTORS[tutor_id]["name"],
                        "hours_available": hours,
                    }
                    for tutor_id, hours in self.credits.get(user["id"], {}).items()
                ]
            )

        @app.post("/api/sessions")
        def book_session():
            user, refusal = self._student()
            if refusal:
                return refusal
            body = request.get_json()
            if not self._completed_consultation(user["id"], body["tutor_id"]):
                return problem(409, "Have your free consultation with this tutor first.")
            if not self.credits.get(user["id"], {}).get(body["tutor_id"]):
                return problem(409, "You have no hours left with this tutor. Buy a package first.")
            if body["starts_at"] == self.TAKEN_SLOT:
                return problem(409, "That time was just taken by someone else.")
            record = self.add_session(
                "ses-new", user["email"], "booked", body["starts_at"], body["tutor_id"]
            )
            return jsonify(record), 201

        @app.get("/api/sessions")
        def my_sessions():
            user = self._bearer_user()
            if user is None:
                return problem(401, "Send an access token.")
            return jsonify(
                [
                    s
                    for s in self.sessions.values()
                    if user["id"] in (s["student_id"], s["tutor_id"])
                ]
            )

        @app.get("/api/sessions/<session_id>")
        def one_session(session_id: str):
            record, refusal = self._session_visible(session_id)
            return refusal or jsonify(record)

        @app.post("/api/sessions/<session_id>/cancel")
        def cancel_session(session_id: str):
            record, refusal = self._session_visible(session_id)
            if refusal:
                return refusal
            record["status"] = "cancelled"
            record["credit_returned"] = session_id != "ses-soon"
            return jsonify(record)

        @app.post("/api/sessions/<session_id>/reschedule")
        def reschedule_session(session_id: str):
            record, refusal = self._session_visible(session_id)
            if refusal:
                return refusal
            if session_id == "ses-soon":
                return problem(409, "A session can only be moved until 24 hours before it starts.")
            record["starts_at"] = request.get_json()["starts_at"]
            record["reschedules"] += 1
            return jsonify(record)

        @app.post("/api/sessions/<session_id>/complete")
        def complete_session(session_id: str):
            record, refusal = self._session_visible(session_id)
            if refusal:
                return refusal
            if self._bearer_user()["id"] != record["tutor_id"]:
                return problem(403, "Only the session's tutor may do this.")
            note = request.get_json().get("lesson_note", "")
            if not note.strip():
                return problem(
                    422,
                    "Invalid fields: lesson_note",
                    {"lesson_note": ["Write a note for the student."]},
                )
            if _not_started(record):
                return problem(409, _NOT_STARTED.format(kind="session"))
            record["status"] = "completed"
            record["lesson_note"] = note
            return jsonify(record)

        progress_routes(self, app, problem, lambda: _plan()["days"])


PROGRAMS = [
    {"program": "course:usmle-step-1-prep", "label": "USMLE Step 1 Prep"},
    {"program": "course:usmle-step-2-ck-prep", "label": "USMLE Step 2 CK Prep"},
    {"program": "tutoring", "label": "1:1 tutoring"},
]
CONSENT = {
    "version": "2026-11",
    "text": "I agree that Preceptor may publish my story, my rating, my name as shown and my "
    "program on its website and in its emails. I can ask for it to be removed at any time.",
}
REJECTION_REASONS = {
    "spam",
    "offensive",
    "personal_data",
    "not_about_us",
    "duplicate",
    "author_request",
}
PUBLIC_FIELDS = (
    "id",
    "display_name",
    "program",
    "program_label",
    "story",
    "rating",
    "verified",
    "author_role",
    "featured",
    "approved_at",
)


def _author_role(user: dict | None) -> str:
    roles = set((user or {}).get("roles") or [])
    if "tutor" in roles:
        return "tutor"
    if roles & {"marketing", "admin"}:
        return "staff"
    return "student"


class TestimonialsContract(ContractServer):
    """testimonials' contract in memory: the public wall (approved and consented only),
    submission by a user or a request link, and moderation by marketing or admin."""

    __test__ = False  # not a pytest class, despite the name
    name = "testimonials"
    REQUEST_TOKEN = "request-ok"
    EXPIRED_REQUEST = "request-expired"

    def __init__(self) -> None:
        self.records: dict[str, dict] = {}
        super().__init__()
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.records = {}
        self.add(
            "Maya R.",
            "course:usmle-step-1-prep",
            status="approved",
            featured=True,
            position=1,
            story="Passed Step 1 with a 250 after failing once. The plan "
            "and the weekly checks made the difference.",
            verified=True,
        )
        self.add(
            "Tom T.",
            "tutoring",
            status="approved",
            author_role="tutor",
            position=2,
            story="I tutor here and watch students rebuild their confidence every week.",
        )
        self.add(
            "Sam Staff",
            "tutoring",
            status="approved",
            author_role="staff",
            position=3,
            story="We answer every message from our students within one working day.",
        )
        self.add(
            "Priya P.",
            "course:usmle-step-2-ck-prep",
            status="pending",
            story="The CK cycle was intense but the question reviews were worth it.",
        )
        self.add(
            "Quiet Q.",
            "tutoring",
            status="pending",
            consent=False,
            story="Private feedback: the booking page confused me at first.",
        )
        self.add(
            "Spammy S.",
            "tutoring",
            status="rejected",
            rejection_reason="spam",
            story="Buy cheap followers at example dot com, best prices every day.",
        )

    def add(self, display_name: str, program: str, **fields: Any) -> dict:
        testimonial_id = f"t-{len(self.records) + 1}"
        label = next(p["label"] for p in PROGRAMS if p["program"] == program)
        record = {
            "id": testimonial_id,
            "user_id": f"user-{testimonial_id}",
            "email": f"{testimonial_id}@example.org",
            "display_name": display_name,
            "program": program,
            "program_label": label,
            "story": "A story long enough to be one.",
            "rating": 5,
            "consent": True,
            "consent_text": CONSENT["text"],
            "consented_at": "2026-11-20T09:00:00+00:00",
            "verified": False,
            "author_role": "student",
            "status": "pending",
            "featured": False,
            "position": None,
            "rejection_reason": None,
            "rejection_note": None,
            "submitted_at": "2026-11-20T09:00:00+00:00",
            "moderated_at": None,
            "approved_at": None,
            "edited": False,
            "original": None,
            "revisions": [],
            **fields,
        }
        if not record["consent"]:
            record.update(consent_text=None, consented_at=None)
        if record["status"] == "approved":
            record["approved_at"] = record["moderated_at"] = "2026-11-21T09:00:00+00:00"
        record["original"] = {"display_name": record["display_name"], "story": record["story"]}
        self.records[testimonial_id] = record
        return record

    def wall(self) -> list[dict]:
        shown = [r for r in self.records.values() if r["status"] == "approved" and r["consent"]]
        return sorted(
            shown,
            key=lambda r: (
                not r["featured"],
                r["position"] is None,
                r["position"] or 0,
                -(datetime.fromisoformat(r["approved_at"]).timestamp()),
            ),
        )

    def _full(self, record: dict, *, detail: bool = False) -> dict:
        hidden = () if detail else ("original", "revisions")
        return {k: v for k, v in record.items() if k not in hidden}

    def _found(self, testimonial_id: str) -> tuple[dict | None, Response | None]:
        _, refused = _staff()
        if refused:
            return None, refused
        record = self.records.get(testimonial_id)
        if record is None:
            return None, problem(404, "No such testimonial.")
        return record, None

    def _submission_errors(self, body: dict) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        name = str(body.get("display_name") or "").strip()
        if not 1 <= len(name) <= 80:
            errors["display_name"] = ["Length must be between 1 and 80."]
        if body.get("program") not in {p["program"] for p in PROGRAMS}:
            errors["program"] = ["Choose a course or tutoring."]
        if not 20 <= len(str(body.get("story") or "")) <= 2000:
            errors["story"] = ["Length must be between 20 and 2000."]
        rating = body.get("rating")
        if not isinstance(rating, int) or not 1 <= rating <= 5:
            errors["rating"] = ["Must be between 1 and 5."]
        if not isinstance(body.get("consent"), bool):
            errors["consent"] = ["Missing data for required field."]
        return errors

    def routes(self, app: Flask) -> None:
        @app.get("/api/programs")
        def programs():
            return jsonify(PROGRAMS)

        @app.get("/api/consent")
        def consent():
            return jsonify(CONSENT)

        @app.get("/api/testimonials")
        def public_wall():
            program = request.args.get("program")
            shown = [r for r in self.wall() if not program or r["program"] == program]
            limit = int(request.args.get("limit") or 50)
            return jsonify([{k: r[k] for k in PUBLIC_FIELDS} for r in shown[:limit]])

        @app.get("/api/testimonial-requests/<token>")
        def lookup_request(token: str):
            if token == self.EXPIRED_REQUEST:
                return problem(410, "This link has expired.")
            if token != self.REQUEST_TOKEN:
                return problem(404, "No such request.")
            return jsonify(
                {
                    "name": "Rosa Requested",
                    "email": "rosa@example.org",
                    "program": "course:usmle-step-1-prep",
                    "program_label": "USMLE Step 1 Prep",
                    "expires_at": "2026-12-20T09:00:00+00:00",
                }
            )

        @app.post("/api/testimonials")
        def submit():
            body = request.get_json(silent=True) or {}
            user = _bearer()
            request_token = body.get("request_token")
            if user is None and not request_token:
                return problem(401, "Send an access token or a request token.")
            if request_token == self.EXPIRED_REQUEST:
                return problem(410, "This link has expired.")
            if request_token and request_token != self.REQUEST_TOKEN:
                return _invalid({"request_token": ["This link is not valid."]})
            errors = self._submission_errors(body)
            if errors:
                return _invalid(errors)
            record = self.add(
                body["display_name"].strip(),
                body["program"],
                story=body["story"],
                rating=body["rating"],
                consent=body["consent"],
                verified=bool(request_token) or _author_role(user) == "student",
                author_role="student" if request_token else _author_role(user),
                email=user["email"] if user else "rosa@example.org",
            )
            answer = {k: record[k] for k in ("id", "status", "consent", "verified", "author_role")}
            return jsonify(answer), 201

        @app.get("/api/testimonials/mine")
        def mine():
            user = _bearer()
            if user is None:
                return problem(401, "Send an access token.")
            return jsonify(
                [self._full(r) for r in self.records.values() if r["email"] == user["email"]]
            )

        @app.get("/api/admin/testimonials")
        def admin_list():
            _, refused = _staff()
            if refused:
                return refused
            status = request.args.get("status") or "pending"
            rows = [self._full(r) for r in self.records.values() if r["status"] == status]
            return jsonify(rows[: int(request.args.get("limit") or 100)])

        @app.put("/api/admin/testimonials/wall-order")
        def wall_order():
            _, refused = _staff()
            if refused:
                return refused
            ids = (request.get_json(silent=True) or {}).get("ids") or []
            shown = {r["id"] for r in self.wall()}
            if set(ids) != shown:
                return _invalid({"ids": ["Give every testimonial on the wall, once."]})
            for position, testimonial_id in enumerate(ids, start=1):
                self.records[testimonial_id]["position"] = position
            return jsonify([{k: r[k] for k in PUBLIC_FIELDS} for r in self.wall()])

        @app.get("/api/admin/testimonials/<testimonial_id>")
        def admin_get(testimonial_id: str):
            record, refused = self._found(testimonial_id)
            return refused or jsonify(self._full(record, detail=True))

        @app.post("/api/admin/testimonials/<testimonial_id>/approve")
        def approve(testimonial_id: str):
            record, refused = self._found(testimonial_id)
            if refused:
                return refused
            if not record["consent"]:
                return problem(409, "Without consent this story stays private feedback.")
            now = datetime.now(UTC).isoformat()
            record.update(status="approved", approved_at=now, moderated_at=now)
            return jsonify(self._full(record))

        @app.post("/api/admin/testimonials/<testimonial_id>/reject")
        def reject(testimonial_id: str):
            record, refused = self._found(testimonial_id)
            if refused:
                return refused
            body = request.get_json(silent=True) or {}
            if body.get("reason") not in REJECTION_REASONS:
                return _invalid({"reason": ["Choose a reason."]})
            record.update(
                status="rejected",
                featured=False,
                rejection_reason=body["reason"],
                rejection_note=body.get("note"),
                moderated_at=datetime.now(UTC).isoformat(),
            )
            return jsonify(self._full(record))

        @app.put("/api/admin/testimonials/<testimonial_id>")
        def edit(testimonial_id: str):
            record, refused = self._found(testimonial_id)
            if refused:
                return refused
            user = _bearer()
            body = request.get_json(silent=True) or {}
            if not str(body.get("note") or "").strip():
                return _invalid({"note": ["Say why you changed it."]})
            before = {"display_name": record["display_name"], "story": record["story"]}
            after = {k: body.get(k) or before[k] for k in ("display_name", "story")}
            record.update(after, edited=True)
            record["revisions"].append(
                {
                    "editor_id": user["id"],
                    "editor_name": user["name"],
                    "before": before,
                    "after": after,
                    "note": body["note"],
                    "at": datetime.now(UTC).isoformat(),
                }
            )
            return jsonify(self._full(record))

        def set_featured(testimonial_id: str, featured: bool) -> Response:
            record, refused = self._found(testimonial_id)
            if refused:
                return refused
            if record["status"] != "approved":
                return problem(409, "Only an approved testimonial can be featured.")
            record["featured"] = featured
            return jsonify(self._full(record))

        @app.post("/api/admin/testimonials/<testimonial_id>/feature")
        def feature(testimonial_id: str):
            return set_featured(testimonial_id, True)

        @app.post("/api/admin/testimonials/<testimonial_id>/unfeature")
        def unfeature(testimonial_id: str):
            return set_featured(testimonial_id, False)
