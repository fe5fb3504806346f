"""Steps tutoring's tests share: real tokens from identity, tutors made by real invitations."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from services.identity.tests.helpers import PASSWORD, admin_token, bearer, login, student_tokens
from services.tutoring.models import Consultation, TutorBooking, TutoringSession
from shared.db import utcnow
from shared.testing.fixtures import ServiceUnderTest, pump, wait_for

WEEKDAYS_9_TO_12 = [{"weekday": d, "start": "09:00", "end": "12:00"} for d in range(7)]
ALL_DAY = [{"weekday": d, "start": "00:00", "end": "23:59"} for d in range(7)]
RATE = 8000


def intake(**changes: Any) -> dict[str, Any]:
    """A valid intake: Step 1 in about four months, 30 hours a week, two weak areas."""
    return {
        "exam": "step1",
        "exam_date": (utcnow().date() + timedelta(days=120)).isoformat(),
        "attempts": 1,
        "weekly_hours": 30,
        "weak_areas": ["renal", "cardiovascular"],
        **changes,
    }


@dataclass
class World:
    identity: ServiceUnderTest
    tutoring: ServiceUnderTest
    _admin: str | None = field(default=None)
    payments: ServiceUnderTest | None = None

    @property
    def client(self):
        return self.tutoring.client

    def admin(self) -> dict[str, str]:
        if self._admin is None:
            self._admin = admin_token(self.identity)
        return bearer(self._admin)

    def student(self, email: str = "ada@example.com") -> dict[str, str]:
        return bearer(student_tokens(self.identity, email=email)["access_token"])

    def student_id(self, headers: dict[str, str]) -> str:
        return self.identity.client.get("/api/users/me", headers=headers).get_json()["id"]

    def tutor(self, email: str = "tess@example.com", name: str = "Tess Tutor") -> dict[str, str]:
        """A tutor as it really happens: an admin invites, the tutor accepts, and identity's
        ``user.registered`` reaches tutoring over the bus; returns the tutor's headers."""
        r = self.identity.client.post(
            "/api/admin/users",
            json={"email": email, "name": name, "role": "tutor"},
            headers=self.admin(),
        )
        assert r.status_code == 201, r.get_json()
        token = next(e for e in self.identity.recorded("user.invited") if e["email"] == email)
        accepted = self.identity.client.post(
            "/api/invitations/accept", json={"token": token["token"], "password": PASSWORD}
        )
        assert accepted.status_code == 200, accepted.get_json()
        pump(self.identity, self.tutoring)
        response = login(self.identity, email=email)
        assert response.status_code == 200, response.get_json()
        return bearer(response.get_json()["access_token"])

    def available_tutor(self, email: str = "tess@example.com", **profile: Any) -> tuple[dict, str]:
        """A tutor (New York) with a bio, open 09:00-12:00 every day; (headers, tutor id)."""
        headers = self.tutor(email=email)
        r = self.client.put(
            "/api/tutors/me",
            json={"bio": "Step 1 coach", "exams": ["step1"], **profile},
            headers=headers,
        )
        assert r.status_code == 200, r.get_json()
        r = self.client.put(
            "/api/tutors/me/availability", json={"weekly": WEEKDAYS_9_TO_12}, headers=headers
        )
        assert r.status_code == 200, r.get_json()
        return headers, self.client.get("/api/tutors/me", headers=headers).get_json()["id"]

    def slots(self, tutor_id: str, tz: str = "America/New_York") -> list[dict[str, Any]]:
        r = self.client.get(f"/api/tutors/{tutor_id}/slots?kind=consultation&tz={tz}")
        assert r.status_code == 200, r.get_json()
        return r.get_json()

    def slot(self, tutor_id: str) -> dict[str, Any]:
        """A slot that stays bookable while a test runs: the second one offered, since the first
        leaves the list when the clock passes its notice (at :00 or :30) mid-test."""
        return self.slots(tutor_id)[1]

    def book(self, headers: dict[str, str], tutor_id: str, starts_at: str, **body: Any):
        return self.client.post(
            "/api/consultations",
            json={
                "tutor_id": tutor_id,
                "starts_at": starts_at,
                "time_zone": "Asia/Kolkata",
                "intake": intake(),
                **body,
            },
            headers=headers,
        )

    def booked(self, headers: dict[str, str], tutor_id: str) -> dict[str, Any]:
        """A consultation booked in one of the tutor's slots (``slot``)."""
        r = self.book(headers, tutor_id, self.slot(tutor_id)["starts_at"])
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    def completed(self, student: dict, tutor: dict, tutor_id: str) -> dict[str, Any]:
        """A consultation booked, begun (moved a minute into the past) and held."""
        consultation = self.booked(student, tutor_id)
        self.start(consultation["id"])
        r = self.client.post(
            f"/api/consultations/{consultation['id']}/complete", json={}, headers=tutor
        )
        assert r.status_code == 200, r.get_json()
        return r.get_json()

    def events(self, event_type: str) -> list[dict[str, Any]]:
        return self.tutoring.recorded(event_type)

    # --- packages and sessions (the world with payments) ----------------------------------------

    def session_tutor(self, email: str = "tess@example.com") -> tuple[dict, str]:
        """A tutor selling hours at RATE, open all day, bookable at no notice; (headers, id)."""
        headers, tutor_id = self.available_tutor(
            email=email, session_rate_minor=RATE, min_notice_hours=0
        )
        r = self.client.put(
            "/api/tutors/me/availability", json={"weekly": ALL_DAY}, headers=headers
        )
        assert r.status_code == 200, r.get_json()
        return headers, tutor_id

    def payment_status(self, purchase_ref: str) -> str | None:
        from services.payments.tests.helpers import service_token

        r = self.payments.client.get(
            f"/api/payments/by-purchase/{purchase_ref}", headers=bearer(service_token())
        )
        return r.get_json()["status"] if r.status_code == 200 else None

    def buy(self, student: dict[str, str], tutor_id: str, hours: int = 5) -> dict[str, Any]:
        """Buy a package and pay at Stripe as the checkout page does; returns the paid package."""
        from services.payments.tests.helpers import pay

        r = self.client.post(
            "/api/packages", json={"tutor_id": tutor_id, "hours": hours}, headers=student
        )
        assert r.status_code == 201, r.get_json()
        package = r.get_json()
        assert pay(package["checkout"]["client_secret"]) == "succeeded"
        ref = f"package:{package['id']}"
        wait_for(
            lambda: self.payment_status(ref) == "succeeded",
            message="payments to hear of the payment from Stripe's webhook",
        )
        pump(self.payments, self.tutoring)
        r = self.client.get(f"/api/packages/{package['id']}", headers=student)
        assert r.get_json()["status"] == "paid", r.get_json()
        return r.get_json()

    def credits(self, student: dict[str, str], tutor_id: str) -> int:
        r = self.client.get("/api/credits", headers=student)
        assert r.status_code == 200, r.get_json()
        return next((c["hours_available"] for c in r.get_json() if c["tutor_id"] == tutor_id), 0)

    def session_slots(self, tutor_id: str) -> list[str]:
        r = self.client.get(f"/api/tutors/{tutor_id}/slots?kind=session")
        assert r.status_code == 200, r.get_json()
        return [s["starts_at"] for s in r.get_json()]

    def slot_after(self, tutor_id: str, hours: float) -> str:
        """The first session slot at least ``hours`` from now."""
        earliest = utcnow() + timedelta(hours=hours)
        return next(
            s for s in self.session_slots(tutor_id) if datetime.fromisoformat(s) >= earliest
        )

    def book_session(self, student: dict[str, str], tutor_id: str, starts_at: str):
        return self.client.post(
            "/api/sessions",
            json={"tutor_id": tutor_id, "starts_at": starts_at, "time_zone": "Europe/Berlin"},
            headers=student,
        )

    def ready_student(self, tutor: dict, tutor_id: str, email: str = "ada@example.com") -> dict:
        """A student who paid for five hours and had their consultation with the tutor."""
        student = self.student(email)
        self.completed(student, tutor, tutor_id)
        self.buy(student, tutor_id)
        return student

    def session(self, student: dict, tutor_id: str, hours_ahead: float = 48) -> dict[str, Any]:
        r = self.book_session(student, tutor_id, self.slot_after(tutor_id, hours_ahead))
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    def move_session(self, session_id: str, starts_at: datetime) -> None:
        """Put a session at another time directly (to stand at its start without waiting)."""
        move_meeting(self.tutoring, session_id, starts_at)

    def start(self, meeting_id: str) -> None:
        """Let a consultation or session begin (see :func:`start_meeting`)."""
        start_meeting(self.tutoring, meeting_id)


def move_meeting(tutoring: ServiceUnderTest, meeting_id: str, starts_at: datetime) -> None:
    """Put a consultation or session at another time directly, keeping its length; the tutor's
    booking moves with it. Tests have no fake clock, so they move the meeting instead."""
    with tutoring.runtime.db.session() as s, s.begin():
        model = next(m for m in (Consultation, TutoringSession) if s.get(m, meeting_id))
        row = s.get(model, meeting_id)
        values = {"starts_at": starts_at, "ends_at": starts_at + (row.ends_at - row.starts_at)}
        s.execute(sa.update(model).where(model.id == meeting_id).values(**values))
        s.execute(sa.update(TutorBooking).where(TutorBooking.ref_id == meeting_id).values(**values))


def start_meeting(tutoring: ServiceUnderTest, meeting_id: str) -> None:
    """The meeting began a minute ago: its tutor may now complete it, or record a no-show.

    Tutoring refuses both before a meeting starts, and a test cannot wait a day for its slot.
    (Each call reads the clock anew, so two meetings of one tutor never share a start.)
    """
    move_meeting(tutoring, meeting_id, utcnow() - timedelta(minutes=1))
