"""The people of the site benchmark (benchmarks/site.py): students signed in on the site, each
with the data the five pages show them.

Everything is made the way a person makes it, over HTTP: the student registers with identity,
signs in on the site's own form (so the cookie is a real session cookie), enrolls on the
course page's form (a pending enrollment, whose status the checkout's "done" page polls), and
books a consultation with a tutor whom the admin invited and tutoring's consumer opened, so
that My tutoring has something to show.
"""

from __future__ import annotations

import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import requests

from benchmarks import stack, suite

SERVICES = ("identity", "email", "enrollment", "payments", "tutoring", "web")
"""The site and every service its five pages call."""

PAGES = {
    "home": "/",
    "courses": "/courses",
    "a course": f"/courses/{suite.COURSE}",
    "checkout status poll": "/checkout/{enrollment}/status",
    "My tutoring": "/my/tutoring",
}


@dataclass
class Student:
    email: str
    cookie: str = ""
    enrollment: str = ""


class Site(suite.Suite):
    """The suite with the site in front, and the ways its students come to be."""

    def gunicorn(self, service: str) -> subprocess.Popen:
        """The site with the deployment's default of 2 workers; the services with 1 each."""
        if service != "web":
            return super().gunicorn(service)
        return self.procs.gunicorn(service, "services.web.app:app", self.ports[service],
                                   WEB_CONCURRENCY="2")  # fmt: skip

    def sign_in(self, email: str, attempts: int = 5) -> str:
        """The Cookie header of a browser that signed in on the site's form as ``email``."""
        browser = requests.Session()
        site = self.url("web")
        form = browser.get(f"{site}/login", timeout=60)
        form.raise_for_status()
        signed_in = browser.post(
            f"{site}/login",
            data={"csrf_token": _csrf(form.text), "email": email, "password": suite.PASSWORD},
            allow_redirects=False,
            timeout=60,
        )
        if signed_in.status_code == 503 and attempts > 1:
            # The site gives identity a few seconds; a machine busy hashing the other
            # students' passwords can take longer. The sign-in is setup, not measured.
            time.sleep(1)
            return self.sign_in(email, attempts - 1)
        if signed_in.status_code != 302:
            raise RuntimeError(f"signing in {email}: {signed_in.status_code}")
        return "; ".join(f"{c.name}={c.value}" for c in browser.cookies)

    def enroll(self, cookie: str) -> str:
        """A pending enrollment made on the course page's form; its id."""
        site, headers = self.url("web"), {"Cookie": cookie}
        page = requests.get(f"{site}{PAGES['a course']}", headers=headers, timeout=60)
        page.raise_for_status()
        enrolled = requests.post(
            f"{site}{PAGES['a course']}/enroll",
            data={"csrf_token": _csrf(page.text), "cycle_start": "", "promo_code": ""},
            headers=headers,
            allow_redirects=False,
            timeout=60,
        )
        found = re.search(r"/checkout/([^/?]+)$", enrolled.headers.get("Location", ""))
        if enrolled.status_code != 302 or not found:
            raise RuntimeError(f"enrolling: {enrolled.status_code} {enrolled.text[:300]}")
        return found.group(1)

    def tutor(self) -> str:
        """A tutor available every day, invited and accepted as the school does it; its id."""
        admin = self.bearer(self.env["ADMIN_EMAIL"], self.admin_password)
        email = "tutor@bench.example"
        invited = requests.post(
            f"{self.url('identity')}/api/admin/users",
            headers=admin,
            json={"email": email, "name": "Tess Tutor", "role": "tutor"},
            timeout=60,
        )
        if invited.status_code != 201:
            raise RuntimeError(f"inviting the tutor: {invited.status_code} {invited.text}")
        with stack.sa.create_engine(self.database_url).connect() as conn:
            token = conn.scalar(
                stack.sa.text(
                    "SELECT payload::json->'data'->>'token' FROM identity.outbox "
                    "WHERE type = 'user.invited' AND payload::json->'data'->>'email' = :email"
                ),
                {"email": email},
            )
        accepted = requests.post(
            f"{self.url('identity')}/api/invitations/accept",
            json={"token": token, "password": suite.PASSWORD},
            timeout=60,
        )
        accepted.raise_for_status()
        tutor = self.bearer(email)
        me = self._when_tutoring_knows(tutor)
        every_day = [{"weekday": d, "start": "00:00", "end": "23:59"} for d in range(7)]
        requests.put(
            f"{self.url('tutoring')}/api/tutors/me/availability",
            json={"weekly": every_day},
            headers=tutor,
            timeout=60,
        ).raise_for_status()
        return me["id"]

    def _when_tutoring_knows(self, tutor: dict[str, str], timeout: float = 60) -> dict:
        """The tutor's profile, once tutoring's consumer applied ``user.registered``."""
        deadline = datetime.now(UTC) + timedelta(seconds=timeout)
        while datetime.now(UTC) < deadline:
            r = requests.get(f"{self.url('tutoring')}/api/tutors/me", headers=tutor, timeout=60)
            if r.status_code == 200:
                return r.json()
            time.sleep(0.2)
        raise RuntimeError("tutoring never opened the tutor's profile")

    def book_consultation(self, email: str, tutor_id: str, slots: list[dict]) -> None:
        """The first of ``slots`` still free (each booking takes its neighbours too)."""
        headers = self.bearer(email)
        intake = {
            "exam": "step1",
            "exam_date": (date.today() + timedelta(days=120)).isoformat(),
            "attempts": 0,
            "weekly_hours": 30,
            "weak_areas": ["renal"],
        }
        while slots:
            booked = requests.post(
                f"{self.url('tutoring')}/api/consultations",
                json={
                    "tutor_id": tutor_id,
                    "starts_at": slots.pop(0)["starts_at"],
                    "time_zone": "UTC",
                    "intake": intake,
                },
                headers=headers,
                timeout=60,
            )
            if booked.status_code == 201:
                return
            if booked.status_code != 409:
                raise RuntimeError(f"booking for {email}: {booked.status_code} {booked.text}")
        raise RuntimeError(f"no consultation slot left for {email}")

    def students(self, count: int) -> list[Student]:
        """``count`` students signed in on the site, each with a pending enrollment and a
        booked consultation."""
        people = [Student(f"student{n:03d}@bench.example") for n in range(count)]
        tutor_id = self.tutor()
        slots = requests.get(
            f"{self.url('tutoring')}/api/tutors/{tutor_id}/slots?kind=consultation", timeout=60
        ).json()

        def ready(n: int) -> None:
            student = people[n]
            self.register(student.email, f"Student {n}")
            student.cookie = self.sign_in(student.email)
            student.enrollment = self.enroll(student.cookie)

        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(ready, range(count)))
        for student in people:  # one at a time: bookings next to each other collide
            self.book_consultation(student.email, tutor_id, slots)
        return people


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    if not found:
        raise RuntimeError("no CSRF token on the page")
    return found.group(1)
