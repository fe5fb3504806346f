"""What enrollment's and tutoring's events teach: which courses exist (programs), who is a
real student of what (the verified badge), and when to ask, once, for a story."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.enrollment.events import EnrollmentActivated, EnrollmentCompleted
from services.testimonials import domain, tokens
from services.testimonials.events import TestimonialRequested
from services.testimonials.models import (
    CompletedSession,
    Program,
    Testimonial,
    TestimonialRequest,
    VerifiedFact,
)
from services.testimonials.queries import program_labels
from services.tutoring.events import ConsultationCompleted, SessionCompleted
from shared import config
from shared.bus.handlers import handles
from shared.db import UnitOfWork, utcnow


def request_threshold() -> int:
    """``TESTIMONIAL_REQUEST_AFTER_SESSIONS``: completed sessions before the tutoring request."""
    return config.env_int(
        "TESTIMONIAL_REQUEST_AFTER_SESSIONS", domain.DEFAULT_REQUEST_AFTER_SESSIONS
    )


@handles(EnrollmentActivated)
def enrollment_activated(uow: UnitOfWork, event: EnrollmentActivated) -> None:
    """A paid (or free) seat: the course is a program, and the student a verified author of it."""
    program = domain.course_program(event.course_slug)
    with uow:
        _learn_program(uow.session, program, event.course_title)
        _learn_fact(uow.session, event.student_id, program, "enrollment.activated")
        uow.commit()


@handles(EnrollmentCompleted)
def enrollment_completed(uow: UnitOfWork, event: EnrollmentCompleted) -> None:
    """The course is over: verified, and asked once for their story about it."""
    program = domain.course_program(event.course_slug)
    with uow:
        _learn_program(uow.session, program, event.course_title)
        _learn_fact(uow.session, event.student_id, program, "enrollment.completed")
        _ask_once(
            uow,
            user_id=event.student_id,
            email=event.email,
            name=event.name,
            program=program,
            trigger="enrollment.completed",
        )
        uow.commit()


@handles(ConsultationCompleted)
def consultation_completed(uow: UnitOfWork, event: ConsultationCompleted) -> None:
    """A verified tutoring student."""
    with uow:
        _learn_fact(uow.session, event.student_id, domain.TUTORING, "consultation.completed")
        uow.commit()


@handles(SessionCompleted)
def session_completed(
    uow: UnitOfWork, event: SessionCompleted, threshold: int | None = None
) -> None:
    """A tutoring db counted once; at the Nth the student is asked (once) about tutoring."""
    threshold = request_threshold() if threshold is None else threshold
    with uow:
        db = uow.session
        _learn_fact(db, event.student_id, domain.TUTORING, "session.completed")
        if db.get(CompletedSession, event.session_id) is None:
            _insert_once(
                db,
                CompletedSession(
                    session_id=event.session_id,
                    user_id=event.student_id,
                    completed_at=utcnow(),
                ),
            )
        count = db.scalar(
            select(func.count())
            .select_from(CompletedSession)
            .where(CompletedSession.user_id == event.student_id)
        )
        if domain.request_due_after_sessions(count, threshold):
            _ask_once(
                uow,
                user_id=event.student_id,
                email=event.student_email,
                name=event.student_name,
                program=domain.TUTORING,
                trigger="session.completed",
            )
        uow.commit()


# --- helpers ---------------------------------------------------------------------------------------


def _insert_once(db: Session, row: object) -> bool:
    """Insert a row keyed by what it says; False if it is there already (maybe written a moment
    ago by a concurrent handler: the savepoint keeps the rest of the transaction)."""
    try:
        with db.begin_nested():
            db.add(row)
    except IntegrityError:
        return False
    return True


def _learn_program(db: Session, program: str, label: str) -> None:
    row = db.get(Program, program)
    if row is None:
        _insert_once(db, Program(program=program, label=label, updated_at=utcnow()))
    elif row.label != label:
        row.label, row.updated_at = label, utcnow()


def _learn_fact(db: Session, user_id: str, program: str, source: str) -> None:
    """User X is a student of P; their testimonials about P (past and future) are verified."""
    if db.get(VerifiedFact, (user_id, program)) is None:
        _insert_once(
            db,
            VerifiedFact(user_id=user_id, program=program, source=source, created_at=utcnow()),
        )
    db.execute(
        update(Testimonial)
        .where(
            Testimonial.user_id == user_id,
            Testimonial.program == program,
            Testimonial.verified.is_(False),
        )
        .values(verified=True, updated_at=utcnow())
    )


def _ask_once(
    uow: UnitOfWork, *, user_id: str, email: str, name: str, program: str, trigger: str
) -> None:
    """Record ``testimonial.requested`` unless this person was already asked about it."""
    db = uow.session
    exists = db.scalar(
        select(TestimonialRequest.id).where(
            TestimonialRequest.user_id == user_id, TestimonialRequest.program == program
        )
    )
    if exists:
        return
    now = utcnow()
    row = TestimonialRequest(
        id=str(uuid.uuid4()),
        user_id=user_id,
        email=email,
        name=name,
        program=program,
        trigger=trigger,
        created_at=now,
        expires_at=now + timedelta(days=domain.REQUEST_VALID_DAYS),
    )
    if not _insert_once(db, row):
        return  # asked a moment ago by a concurrent handler: once is once
    uow.record(
        TestimonialRequested(
            request_id=row.id,
            user_id=user_id,
            email=email,
            name=name,
            program=program,
            program_label=domain.program_label(program, program_labels(db)),
            token=tokens.request_token(row.id),
            expires_at=row.expires_at,
        )
    )
