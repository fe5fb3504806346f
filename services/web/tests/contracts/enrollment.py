"""enrollment's stand-in: courses, cycles, enrollments, promo codes, rosters."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Flask, Response, jsonify, request

from services.web.tests.contracts.base import ContractServer, _user, problem


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

ADMIN_FIELDS = ("cadence_days", "anchor_date", "seats_per_cycle", "published")
"""How a course is scheduled and whether it shows: the admin's view, not the catalogue's."""


def _enrollment(enrollment_id: str, email: str, status: str, cycle: dict | None = None) -> dict:
    """One enrollment as enrollment stores it (``_view`` adds what it answers with)."""
    cycle = cycle or STEP1_CYCLES[0]
    return {
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
        "student_id": _user(email)["id"],
        "email": email,
        "name": _user(email)["name"],
        "list_price_minor": 149900,
        "discount_minor": 0,
        "refunded_minor": 0,
        "deferrals_used": 0,
        "from_waitlist": False,
        "created_at": "2026-02-20T14:00:00+00:00",
    }


def _admin_view(course: dict) -> dict:
    cycles = CYCLES[course["slug"]]
    return {**course, "cycles": cycles, "next_cycles": cycles}


def _public(course: dict) -> dict:
    return {k: v for k, v in course.items() if k not in ADMIN_FIELDS}


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
        self.enrollments[enrollment_id] = _enrollment(enrollment_id, email, status, cycle)
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
                [
                    {**_public(course), "next_cycles": CYCLES[slug]}
                    for slug, course in COURSES.items()
                ]
            )

        @app.get("/api/courses/<slug>")
        def course(slug: str):
            if slug not in COURSES:
                return problem(404, "No such course.")
            course = _public(COURSES[slug])
            return jsonify({**course, "next_cycles": CYCLES[slug], "cycles": CYCLES[slug]})

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
            return jsonify({"course_slug": slug, "cycle_start": start, "position": 3}), 201

        @app.get("/api/admin/courses")
        def admin_courses():
            return self._admin() or jsonify([_admin_view(c) for c in COURSES.values()])

        @app.post("/api/admin/courses")
        def create_course():
            body = {**request.get_json(), "cycles": [], "next_cycles": []}
            return self._admin() or (jsonify(body), 201)

        @app.patch("/api/admin/courses/<slug>")
        def update_course(slug: str):
            return self._admin() or jsonify({**_admin_view(COURSES[slug]), **request.get_json()})

        @app.get("/api/admin/courses/<slug>/cycles/<start>/roster")
        def roster(slug: str, start: str):
            return self._admin() or jsonify(
                {
                    "course_slug": slug,
                    "course_title": COURSES[slug]["title"] if slug in COURSES else slug,
                    "cycle_start": start,
                    "cycle_end": (date.fromisoformat(start) + timedelta(days=55)).isoformat(),
                    "waitlist": [],
                    "seats_total": 25,
                    "seats_taken": 2,  # as enrollment's RosterSchema answers (no seats_left)
                    "enrollments": [
                        self._view(
                            _enrollment("enr-r1", "rita@example.org", "active")
                            | {"name": "Rita Roster"}
                        )
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
                        "created_at": "2026-02-01T09:00:00+00:00",
                    }
                ]
            )

        @app.post("/api/admin/promo-codes")
        def create_promo_code():
            body = {
                "redemptions": 0,
                **request.get_json(),
                "created_at": "2026-02-20T09:00:00+00:00",
            }
            return self._admin() or (jsonify(body), 201)
