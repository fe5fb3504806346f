"""Tutors' own pages: the dashboard, profile, weekly availability, consultations and sessions.

Everything is shown in the tutor's own time zone (from their profile), since that is the clock
they keep their hours by; the tutoring service stores UTC and applies every rule. One blueprint
(``tutor_pages``, in ``dashboard``) whose routes live in one module per thing a tutor looks
after: ``profile``, ``availability``, ``consultations`` (with the study plan) and ``sessions``.
Importing this package registers them all.
"""

from __future__ import annotations

from services.web.pages.tutor import availability, consultations, profile, sessions
from services.web.pages.tutor.consultations import plan_changes
from services.web.pages.tutor.dashboard import bp, my_profile, tutor_zone

__all__ = [
    "availability",
    "bp",
    "consultations",
    "my_profile",
    "plan_changes",
    "profile",
    "sessions",
    "tutor_zone",
]
