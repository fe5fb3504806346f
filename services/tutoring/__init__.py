"""Tutoring: tutors, availability, consultations, assessments, study plans and sessions."""
