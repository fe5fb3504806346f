"""tutoring's stand-in: tutors, slots, consultations, plans, packages, credits, sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask, Response, jsonify, request

from services.tutoring import domain, labels
from services.web.tests.contracts.base import ContractServer, _user, problem
from services.web.tests.contracts.tutoring_progress import progress_routes, reset_progress

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
        "package_options": domain.package_options(12000),
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
        "package_options": domain.package_options(9000),
    },
}

SLOT_STARTS = ("2026-03-02T14:00:00+00:00", "2026-03-02T23:30:00+00:00")
"""14:00 UTC is 19:30 in Kolkata and 09:00 in New York; 23:30 UTC falls on the next day in Kolkata."""

UPCOMING_CONSULTATION = "2030-03-04T14:00:00+00:00"
"""A booked consultation years ahead, so it stays upcoming whatever the date the tests run."""

CREATED_AT = "2026-02-01T09:00:00+00:00"

TUTOR_SETTINGS = {
    "consultation_minutes": 30,
    "session_minutes": 60,
    "buffer_minutes": 15,
    "min_notice_hours": 24,
}
"""A tutor's booking settings as tutoring's own profile view has them."""

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


class TutoringContract(ContractServer):
    """tutoring's contract: tutors and slots, availability, consultations (owner or their tutor),
    assessments, study plans, packages of hours, credits and paid sessions; results, progress,
    day checks, proposals, reflections and assessment forms in contracts/tutoring_progress.py."""

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
            "time_zone": "Europe/London",
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
        reset_progress(self)  # results, checks, proposals, forms (contracts/tutoring_progress.py)

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
            "amount_minor": domain.package_price(tutor["session_rate_minor"], hours),
            "currency": tutor["currency"],
            "refunded_hours": 0,
            "refunded_minor": 0,
            "created_at": CREATED_AT,
        }
        return self.packages[package_id]

    def _package_view(self, record: dict) -> dict:
        view = dict(record)
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
            "reschedules_left": domain.DEFAULT_RESCHEDULE_LIMIT,
            "student_email": email,
            "time_zone": "UTC",
            "tutor_time_zone": TUTORS[tutor_id]["time_zone"],
            "created_at": CREATED_AT,
            "can_cancel_until": domain.free_cancellation_until(begin).isoformat(),
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
            "time_zone": "UTC",
            "tutor_time_zone": TUTORS[tutor_id]["time_zone"],
            "created_at": CREATED_AT,
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
                        "package_options": domain.package_options(12000),
                        "created_at": CREATED_AT,
                    }
                ]
            )

        @app.get("/api/calendar/<token>.ics")
        def calendar_feed(token: str):
            if token != "feed-token":
                return problem(404, "No calendar at that address")
            return Response(
                b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", content_type="text/calendar; charset=utf-8"
            )

        @app.get("/api/exams")
        def exams():
            return jsonify(labels.exam_catalogue())

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
            if refusal:
                return refusal
            profile = {**TUTORS["user-tutor"], "id": user["id"], "name": user["name"]}
            profile |= {"email": user["email"], **TUTOR_SETTINGS, "created_at": CREATED_AT}
            profile |= request.get_json()
            profile["package_options"] = domain.package_options(profile["session_rate_minor"])
            return jsonify(profile)

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
            record["reschedules_left"] = max(0, record["reschedules_left"] - 1)
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

        progress_routes(self, app, problem, _plan)
