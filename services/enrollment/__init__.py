"""Enrollment: courses, their continuous cycles, seats, enrollments and the waitlist."""
