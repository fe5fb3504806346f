"""Loading what a use case works on: courses, locked enrollments, ownership checks.

Every enrollment that changes state is loaded here with ``SELECT ... FOR UPDATE``, so a seat is
released exactly once even when a payment, a sweep and a student act on it at the same time.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields as dataclass_fields

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.enrollment import domain
from services.enrollment.models import Course, Enrollment
from shared.auth import Principal, ensure_owner
from shared.errors import DomainError

LIVE = (domain.PENDING_PAYMENT, domain.ACTIVE)
COURSE_RULE_FIELDS = [f.name for f in dataclass_fields(domain.Course)]


def rules_of(course: Course) -> domain.Course:
    """The course's row as the domain's rules see it."""
    return domain.Course(**{n: getattr(course, n) for n in COURSE_RULE_FIELDS})


@contextmanager
def fields_named(**renames: str) -> Iterator[None]:
    """Report a domain error under the field name the HTTP contract uses."""
    try:
        yield
    except DomainError as err:
        if err.field in renames:
            err.field = renames[err.field]
        raise


def course(db: Session, slug: str, *, published_only: bool = True) -> Course:
    """The course, or :class:`CourseNotFound` (an unpublished one only when asked for)."""
    row = db.get(Course, slug)
    if row is None or (published_only and not row.published):
        raise domain.CourseNotFound(f"There is no course {slug!r}", field="course_slug")
    return row


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def locked_enrollment(db: Session, enrollment_id: str) -> Enrollment | None:
    """The enrollment, locked until commit (None for no such id, or one that is not an id)."""
    if not _is_uuid(enrollment_id):
        return None
    return db.scalar(select(Enrollment).where(Enrollment.id == enrollment_id).with_for_update())


def owned(db: Session, principal: Principal, enrollment_id: str, *, lock: bool) -> Enrollment:
    """The principal's own enrollment (or any, for an admin); locked when it is to change."""
    if lock:
        row = locked_enrollment(db, enrollment_id)
    else:
        row = db.get(Enrollment, enrollment_id) if _is_uuid(enrollment_id) else None
    if row is None:
        raise domain.EnrollmentNotFound("There is no such enrollment")
    ensure_owner(principal, row.student_id)
    return row


def has_live_enrollment(db: Session, student_id: str, slug: str) -> bool:
    """Whether the student has a pending or active enrollment in the course."""
    live = select(Enrollment.id).where(
        Enrollment.student_id == student_id,
        Enrollment.course_slug == slug,
        Enrollment.status.in_(LIVE),
    )
    return db.scalar(live) is not None


def already_enrolled() -> domain.AlreadyEnrolled:
    """The refusal of a second live enrollment of a student in one course."""
    return domain.AlreadyEnrolled(
        "You already have a pending or active enrollment in this course", field="course_slug"
    )
