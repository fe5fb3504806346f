"""testimonials' stand-in: programs, consent, the wall, requests and moderation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, jsonify, request

from services.web.tests.contracts.base import ContractServer, _bearer, _invalid, _staff, problem

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
            return jsonify([self._full(r) for r in self.wall()])

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
            return jsonify(self._full(record, detail=True))

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
