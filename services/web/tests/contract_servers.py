"""Stand-ins for the identity, email, enrollment, payments and tutoring services' HTTP contracts, for the site's tests only.

The site is tested against real HTTP servers that answer the endpoints it calls with canned
JSON shaped like the contract (problem+json errors included) and record every request, so a
test can check exactly what the site sent. They hold no business rules: the real services are
tested in their own folders, and the end-to-end tests run the site against them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, Response, jsonify, request
from werkzeug.serving import BaseWSGIServer, make_server

from shared.testing.fixtures import free_port


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

    def routes(self, app: Flask) -> None:
        raise NotImplementedError

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
        self._server = make_server("127.0.0.1", free_port(), self.app, threaded=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
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
        "created_at": "2026-11-02T09:00:00+00:00",
    }


def _roles_of(email: str) -> list[str]:
    for role in ("admin", "tutor"):
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
            body = request.get_json()
            user = _user(body["email"], body["name"])
            return jsonify(user), 201

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
            return jsonify({**user, "name": request.get_json()["name"]})

        @app.post("/api/password-resets")
        def request_reset():
            return Response(status=202)

        @app.post("/api/password-resets/complete")
        def complete_reset():
            if request.get_json()["token"] == self.EXPIRED_TOKEN:
                return problem(
                    422, "Invalid fields: token", {"token": ["This reset link has expired."]}
                )
            return Response(status=204)

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


class EmailContract(ContractServer):
    """email's contract: topics, subscriptions, confirmation, preferences, unsubscribe."""

    name = "email"
    SUBSCRIBER = "reader@example.org"
    MISSING_TOKEN = "missing"
    EXPIRED_TOKEN = "expired"

    def routes(self, app: Flask) -> None:
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
            return jsonify({"email": self.SUBSCRIBER, "topics": ["step1"], "status": "confirmed"})

        @app.put("/api/preferences/<token>")
        def save_preferences(token: str):
            topics = request.get_json()["topics"]
            return jsonify({"email": self.SUBSCRIBER, "topics": topics, "status": "confirmed"})

        @app.post("/api/unsubscribe/<token>")
        def unsubscribe(token: str):
            if token == self.MISSING_TOKEN:
                return problem(404, "No subscription for that link.")
            return jsonify({"email": self.SUBSCRIBER, "status": "unsubscribed"})


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
                    "seats_left": 23,
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
    },
}

SLOT_STARTS = ("2026-03-02T14:00:00+00:00", "2026-03-02T23:30:00+00:00")
"""14:00 UTC is 19:30 in Kolkata and 09:00 in New York; 23:30 UTC falls on the next day in Kolkata."""

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
        "plan_id": "plan-1",
        "version": version,
        "student_id": "user-student",
        "tutor_id": "user-tutor",
        "exam": "step1",
        "exam_date": "2026-03-10",
        "total_hours": 12.0,
        "hours_by_area": {"renal": 3.0, "anatomy": 2.5, "hematology-oncology": 1.5},
        "warnings": ["Only 5 study days before the exam: consider a later date."],
        "days": days,
    }


SESSION_SLOT_STARTS = ("2026-03-04T15:00:00+00:00", "2026-03-05T16:00:00+00:00")
"""Hour-long session slots: 15:00 UTC is 20:30 in Kolkata."""


def _package_price(rate_minor: int, hours: int) -> int:
    return rate_minor * hours * 9 // 10 if hours == 10 else rate_minor * hours


class TutoringContract(ContractServer):
    """tutoring's contract: tutors and slots, availability, consultations (owner or their tutor),
    assessments, study plans, packages of hours, credits and paid sessions."""

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
        self.add_consultation("con-booked", "student@example.org", "booked")
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
                record["plan_id"] = "plan-1"
                return jsonify(_plan()), 201
            record["status"] = {"complete": "completed", "no-show": "no_show"}[action]
            return jsonify(record)

        @app.put("/api/consultations/<consultation_id>/assessment")
        def assessment(consultation_id: str):
            record, refusal = self._tutors_own(consultation_id)
            if refusal:
                return refusal
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
            record["status"] = "completed"
            record["lesson_note"] = note
            return jsonify(record)
