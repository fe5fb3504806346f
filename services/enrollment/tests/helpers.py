"""Steps enrollment's tests share: real tokens from identity, real events on the test bus."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from services.enrollment.models import CycleSeats, Enrollment
from services.identity.tests.helpers import admin_token, bearer, student_tokens
from shared.bus.envelope import Event, new_event
from shared.db import utcnow
from shared.testing.fixtures import ServiceUnderTest, publish_events, pump, wait_for

STEP_1 = "usmle-step-1-prep"


@dataclass
class Payments:
    """The real payments service (over HTTP, against localstripe), as enrollment meets it."""

    service: ServiceUnderTest

    @property
    def url(self) -> str:
        return self.service.url

    def payment_for(self, purchase_ref: str) -> dict[str, Any] | None:
        from services.payments.tests.helpers import service_token

        r = self.service.client.get(
            f"/api/payments/by-purchase/{purchase_ref}", headers=bearer(service_token())
        )
        return r.get_json() if r.status_code == 200 else None

    def pay(self, purchase_ref: str, client_secret: str) -> None:
        """Pay at Stripe as a buyer would; payments learns it from Stripe's webhook."""
        from services.payments.tests.helpers import pay

        assert pay(client_secret) == "succeeded"
        wait_for(
            lambda: (self.payment_for(purchase_ref) or {}).get("status") == "succeeded",
            message="payments to hear of the payment from Stripe's webhook",
        )


@dataclass
class World:
    identity: ServiceUnderTest
    enrollment: ServiceUnderTest
    payments: Payments
    _admin: str | None = field(default=None)

    @property
    def client(self):
        return self.enrollment.client

    def student(self, email: str = "ada@example.com") -> dict[str, str]:
        """Authorization headers of a newly registered student."""
        return bearer(student_tokens(self.identity, email=email)["access_token"])

    def admin(self) -> dict[str, str]:
        if self._admin is None:
            self._admin = admin_token(self.identity)
        return bearer(self._admin)

    def course(self, slug: str = "small-course", **changes: Any) -> dict[str, Any]:
        """A published course whose first cycle starts in a week (an admin creates it)."""
        body = {
            "slug": slug,
            "title": "Small Course",
            "price_minor": 50000,
            "currency": "USD",
            "cycle_length_days": 28,
            "cadence_days": 28,
            "anchor_date": (utcnow().date() + timedelta(days=7)).isoformat(),
            "seats_per_cycle": 10,
            "access_days": 60,
            "refund_window_days": 14,
            "published": True,
            **changes,
        }
        response = self.client.post("/api/admin/courses", json=body, headers=self.admin())
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def enroll(self, headers: dict[str, str], slug: str = STEP_1, **body: Any):
        return self.client.post(
            "/api/enrollments", json={"course_slug": slug, **body}, headers=headers
        )

    def enrollment_of(self, enrollment_id: str, headers: dict[str, str]) -> dict[str, Any]:
        response = self.client.get(f"/api/enrollments/{enrollment_id}", headers=headers)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def seats_left(self, slug: str, start: str) -> int:
        course = self.client.get(f"/api/courses/{slug}").get_json()
        return next(c["seats_left"] for c in course["cycles"] if c["start"] == start)

    def taken(self, slug: str, start: str) -> int:
        with self.enrollment.runtime.db.session() as s:
            return s.scalar(
                sa.select(CycleSeats.taken).where(
                    CycleSeats.course_slug == slug,
                    CycleSeats.starts_on == date.fromisoformat(start),
                )
            )

    def events(self, event_type: str) -> list[dict[str, Any]]:
        return self.enrollment.recorded(event_type)

    def set_enrollment(self, enrollment_id: str, **values: Any) -> None:
        """Move an enrollment in time (a hold in the past, access ending soon)."""
        with self.enrollment.runtime.db.session() as s, s.begin():
            s.execute(sa.update(Enrollment).where(Enrollment.id == enrollment_id).values(**values))

    def publish(self, event: Event) -> Event:
        """Put an event on the test bus as its producer would, then let enrollment handle it."""
        publish_events(self.enrollment.runtime.broker, event)
        pump(self.enrollment)
        return event


def payment_event(type_: str, enrollment: dict[str, Any], **data: Any) -> Event:
    """A payments event about an enrollment, validated against the catalogue."""
    base = {
        "payment_id": data.pop("payment_id", "pay_contract_1"),
        "purchase_ref": f"enrollment:{enrollment['id']}",
        "purchase_kind": "enrollment",
        "user_id": enrollment["student_id"],
        "amount_minor": enrollment["amount_minor"],
        "currency": enrollment["currency"],
    }
    return new_event(type_, {**base, **data}, "payments")


def succeeded(enrollment: dict[str, Any], **data: Any) -> Event:
    payment_id = (enrollment.get("checkout") or {}).get("payment_id", "pay_contract_x")
    return payment_event(
        "payment.succeeded",
        enrollment,
        payment_id=payment_id,
        stripe_payment_intent_id="pi_contract",
        **data,
    )
