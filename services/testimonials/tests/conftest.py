"""Testimonials' test world: the service on PostgreSQL and RabbitMQ, events published on the test
bus the way enrollment's and tutoring's relays do, and access tokens from a stand-in issuer
(signed like identity's, checked by the service's real verifier)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from shared import auth
from shared.auth import TokenVerifier
from shared.bus.envelope import Event, new_event
from shared.testing.fixtures import ServiceUnderTest, publish_events, pump

STORY = "The weekly self-assessments showed me exactly where my renal physiology was weak."


@dataclass(frozen=True)
class Person:
    user_id: str
    email: str
    name: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class World:
    """The service under test and the steps its tests share."""

    def __init__(self, svc: ServiceUnderTest) -> None:
        self.svc = svc
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = f"test-{uuid.uuid4().hex[:8]}"
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        jwks = {"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]}
        auth.install(svc.app, TokenVerifier(lambda: jwks))

    @property
    def client(self):
        return self.svc.client

    def person(self, *roles: str, name: str = "Ada Lovelace", user_id: str | None = None) -> Person:
        """Someone signed in with these roles (a token minted the way identity mints them)."""
        user_id = user_id or str(uuid.uuid4())
        email = f"{name.split()[0].lower()}-{user_id[:6]}@example.com"
        now = int(time.time())
        claims = {
            "iss": auth.ISSUER,
            "aud": auth.AUDIENCE,
            "typ": "access",
            "sub": user_id,
            "roles": list(roles or ("student",)),
            "email": email,
            "name": name,
            "iat": now,
            "exp": now + 600,
        }
        token = jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})
        return Person(user_id, email, name, token)

    def student(self, name: str = "Ada Lovelace") -> Person:
        return self.person("student", name=name)

    def marketing(self) -> Person:
        return self.person("marketing", name="Mara Marketing")

    # --- events --------------------------------------------------------------------------------

    def publish(self, event: Event, times: int = 1) -> None:
        """Put an event on the bus as its producer's relay does (possibly more than once)."""
        publish_events(self.svc.runtime.broker, event, times=times)
        pump(self.svc)

    def enrollment_event(self, type_: str, who: Person, slug: str = "usmle-step-1-prep") -> Event:
        data: dict[str, Any] = {
            "enrollment_id": str(uuid.uuid4()),
            "student_id": who.user_id,
            "email": who.email,
            "name": who.name,
            "course_slug": slug,
            "course_title": "USMLE Step 1 Prep",
            "cycle_start": date(2026, 1, 5),
        }
        if type_ == "enrollment.activated":
            data.update(
                cycle_end=date(2026, 3, 30),
                access_ends_on=date(2026, 5, 5),
                amount_minor=149900,
                currency="USD",
                payment_id="pay_1",
            )
        else:
            data.update(access_ends_on=date(2026, 5, 5))
        return new_event(type_, data, "enrollment")

    def tutoring_event(self, type_: str, who: Person, **extra: Any) -> Event:
        data: dict[str, Any] = {
            "student_id": who.user_id,
            "student_email": who.email,
            "student_name": who.name,
            "tutor_id": str(uuid.uuid4()),
            "tutor_name": "Dr Rao",
        }
        if type_ == "consultation.completed":
            data["consultation_id"] = str(uuid.uuid4())
        else:
            data.update(
                session_id=str(uuid.uuid4()),
                starts_at=datetime(2026, 3, 10, 14, 0, tzinfo=UTC),
                lesson_note="Renal acid-base, part 2.",
            )
        data.update(extra)
        return new_event(type_, data, "tutoring")

    def requested(self) -> list[dict[str, Any]]:
        return self.svc.recorded("testimonial.requested")

    # --- the API -------------------------------------------------------------------------------

    def submit(self, who: Person | None = None, **body: Any):
        payload = {
            "display_name": "Ada L.",
            "program": "tutoring",
            "story": STORY,
            "rating": 5,
            "consent": True,
            **body,
        }
        return self.client.post(
            "/api/testimonials", json=payload, headers=who.headers if who else {}
        )

    def submitted(self, who: Person | None = None, **body: Any) -> dict[str, Any]:
        r = self.submit(who, **body)
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    def staff(self, method: str, path: str, **kwargs: Any):
        if not hasattr(self, "_marketing"):
            self._marketing = self.marketing()
        call = getattr(self.client, method)
        return call(f"/api/admin/testimonials{path}", headers=self._marketing.headers, **kwargs)

    def approved(self, testimonial_id: str) -> dict[str, Any]:
        r = self.staff("post", f"/{testimonial_id}/approve")
        assert r.status_code == 200, r.get_json()
        return r.get_json()

    def wall(self, query: str = "") -> list[dict[str, Any]]:
        r = self.client.get(f"/api/testimonials{query}")
        assert r.status_code == 200, r.get_json()
        return r.get_json()


@pytest.fixture
def world(services) -> World:
    return World(services("testimonials"))
