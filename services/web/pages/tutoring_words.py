"""What tutoring calls things, and what people read: exams, areas, kinds of day, statuses.

Shared by the student's and the tutor's pages (kept apart from pages/tutoring.py, which is
about its routes).
"""

from __future__ import annotations

EXAMS = (("step1", "USMLE Step 1"), ("step2ck", "USMLE Step 2 CK"))

AREAS = {
    "anatomy": "Anatomy",
    "biochemistry": "Biochemistry",
    "microbiology": "Microbiology",
    "immunology": "Immunology",
    "pathology": "Pathology",
    "pharmacology": "Pharmacology",
    "physiology": "Physiology",
    "behavioral-science": "Behavioral science",
    "biostatistics": "Biostatistics",
    "cardiovascular": "Cardiovascular",
    "renal": "Renal",
    "respiratory": "Respiratory",
    "gastrointestinal": "Gastrointestinal",
    "endocrine": "Endocrine",
    "reproductive": "Reproductive",
    "musculoskeletal": "Musculoskeletal",
    "neurology": "Neurology",
    "psychiatry": "Psychiatry",
    "hematology-oncology": "Hematology & oncology",
    "dermatology": "Dermatology",
    "ethics": "Ethics",
    "genetics": "Genetics",
}
"""Every weak area the intake offers, as the tutoring service names it (slug) and as people read it."""

DAY_KINDS = {
    "study": "Study",
    "free": "Free day",
    "checkpoint": "Checkpoint",
    "review": "Review",
    "exam": "Exam day",
    "rest": "Rest day",
}
FIXED_KINDS = ("exam", "rest")
"""Not edited by hand: the exam day follows the exam date, and a reset plan's rest is protected."""
CHECKABLE_KINDS = ("study", "checkpoint", "review")
"""Working days: the student says whether they did them (free, rest and exam days are not work)."""
EDITABLE_KINDS = ("study", "free", "checkpoint", "review")
"""The exam day is fixed by the exam date; no other day can become one."""

CONSULTATION_STATUSES = {
    "booked": "Booked",
    "completed": "Completed",
    "cancelled": "Cancelled",
    "no_show": "No-show",
    "no-show": "No-show",
}

COMMON_ZONES = (
    "UTC",
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Toronto",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Athens",
    "Africa/Cairo",
    "Africa/Lagos",
    "Asia/Dubai",
    "Asia/Karachi",
    "Asia/Kolkata",
    "Asia/Dhaka",
    "Asia/Manila",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
)
"""Offered when the browser does not say its zone; the reader's own zone is always added."""

SESSION_STATUSES = {"booked": "Booked", "completed": "Completed", "cancelled": "Cancelled"}
