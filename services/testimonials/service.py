"""Testimonials' use cases: one function per thing an author, marketing or an event does.

Each opens the unit of work, loads rows, asks ``domain`` for the rules, changes the rows and
records the events it causes, then commits once. What must hold under concurrency is the
database's job (see ``models``): one request per user and program, one testimonial per
request link, nothing approved without consent.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.testimonials import domain, tokens
from services.testimonials.domain import Status
from services.testimonials.models import (
    CompletedSession,
    Program,
    Revision,
    Testimonial,
    TestimonialRequest,
    VerifiedFact,
)
from shared import config
from shared.auth import Principal
from shared.db import UnitOfWork, utcnow


def _new_id() -> str:
    return str(uuid.uuid4())


def request_threshold() -> int:
    """``TESTIMONIAL_REQUEST_AFTER_SESSIONS``: completed sessions before the tutoring request."""
    return config.env_int(
        "TESTIMONIAL_REQUEST_AFTER_SESSIONS", domain.DEFAULT_REQUEST_AFTER_SESSIONS
    )


# --- views ---------------------------------------------------------------------------------------


def _labels(session: Session) -> dict[str, str]:
    return {p.program: p.label for p in session.scalars(select(Program))}


def _text(display_name: str, story: str) -> dict[str, str]:
    return {"display_name": display_name, "story": story}


def wall_item(row: Testimonial, labels: Mapping[str, str]) -> dict[str, Any]:
    """What the public sees: no email, no user id, no moderation notes."""
    return {
        "id": row.id,
        "display_name": row.display_name,
        "program": row.program,
        "program_label": domain.program_label(row.program, dict(labels)),
        "story": row.story,
        "rating": row.rating,
        "verified": row.verified,
        "author_role": row.author_role,
        "featured": row.featured,
        "approved_at": row.approved_at,
    }


def mine_view(row: Testimonial, labels: Mapping[str, str]) -> dict[str, Any]:
    return {
        "id": row.id,
        "display_name": row.display_name,
        "program": row.program,
        "program_label": domain.program_label(row.program, dict(labels)),
        "story": row.story,
        "rating": row.rating,
        "consent": row.consent,
        "verified": row.verified,
        "author_role": row.author_role,
        "status": row.status,
        "featured": row.featured,
        "submitted_at": row.submitted_at,
        "moderated_at": row.moderated_at,
    }


def full_view(row: Testimonial, labels: Mapping[str, str], edited: bool) -> dict[str, Any]:
    """The whole record, for marketing."""
    return {
        **mine_view(row, labels),
        "user_id": row.user_id,
        "email": row.email,
        "consent_text": row.consent_text,
        "consented_at": row.consented_at,
        "position": row.position,
        "rejection_reason": row.rejection_reason,
        "rejection_note": row.rejection_note,
        "approved_at": row.approved_at,
        "edited": edited,
    }


def _revisions(session: Session, testimonial_id: str) -> list[Revision]:
    return list(
        session.scalars(
            select(Revision)
            .where(Revision.testimonial_id == testimonial_id)
            .order_by(Revision.created_at, Revision.id)
        )
    )


def _edited_ids(session: Session, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    return set(
        session.scalars(select(Revision.testimonial_id).where(Revision.testimonial_id.in_(ids)))
    )


def _full(session: Session, row: Testimonial) -> dict[str, Any]:
    return full_view(row, _labels(session), bool(_edited_ids(session, [row.id])))


def _detail(session: Session, row: Testimonial) -> dict[str, Any]:
    revisions = _revisions(session, row.id)
    return {
        **full_view(row, _labels(session), bool(revisions)),
        "original": _text(row.original_display_name, row.original_story),
        "revisions": [
            {
                "editor_id": r.editor_id,
                "editor_name": r.editor_name,
                "before": _text(r.before_display_name, r.before_story),
                "after": _text(r.after_display_name, r.after_story),
                "note": r.note,
                "at": r.created_at,
            }
            for r in revisions
        ],
    }


# --- public --------------------------------------------------------------------------------------


def programs(uow: UnitOfWork) -> list[dict[str, str]]:
    """Tutoring first, then the courses learned from enrollment's events, by title."""
    with uow:
        rows = [(p.program, p.label) for p in uow.session.scalars(select(Program))]
    rows.sort(key=lambda p: (p[0] != domain.TUTORING, p[1].lower()))
    return [{"program": program, "label": label} for program, label in rows]


def consent_terms() -> dict[str, str]:
    return {"version": domain.CONSENT_VERSION, "text": domain.CONSENT_TEXT}


def _wall(session: Session, program: str | None = None) -> list[Testimonial]:
    query = select(Testimonial).where(
        Testimonial.status == Status.APPROVED.value,
        Testimonial.consent.is_(True),
        Testimonial.consented_at.is_not(None),
    )
    if program:
        query = query.where(Testimonial.program == program)
    rows = session.scalars(query).all()
    return sorted(
        rows,
        key=lambda r: domain.wall_key(domain.WallPlace(r.featured, r.position, r.approved_at)),
    )


def public_wall(uow: UnitOfWork, program: str | None, limit: int) -> list[dict[str, Any]]:
    with uow:
        labels = _labels(uow.session)
        return [wall_item(r, labels) for r in _wall(uow.session, program)[:limit]]


def _request_of(
    session: Session, token: str, *, lock: bool = False, field: str | None = None
) -> TestimonialRequest:
    """The request a link's token names, unexpired and unused.

    Without ``field`` (the GET of the link) a bad token is a 404; at submission it is a 422
    naming ``request_token``. Expired or already used is 410 either way.
    """
    try:
        request_id = tokens.read_request_token(token)
    except tokens.Expired as exc:
        raise domain.RequestLinkGone(
            "The link has expired; sign in to write your testimonial.", field=field
        ) from exc
    except tokens.Invalid as exc:
        if field:
            raise domain.InvalidRequestLink(field=field) from exc
        raise domain.RequestLinkNotFound() from exc
    query = select(TestimonialRequest).where(TestimonialRequest.id == request_id)
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None:
        if field:
            raise domain.InvalidRequestLink(field=field)
        raise domain.RequestLinkNotFound()
    if row.used_at is not None:
        raise domain.RequestLinkGone(
            "This link was already used to send a testimonial.",
            field=field,
        )
    if row.expires_at <= utcnow():
        raise domain.RequestLinkGone(field=field)
    return row


def request_link(uow: UnitOfWork, token: str) -> dict[str, Any]:
    """Who a request link is for, so the form can greet them (no sign-in needed)."""
    with uow:
        row = _request_of(uow.session, token)
        return {
            "name": row.name,
            "email": row.email,
            "program": row.program,
            "program_label": domain.program_label(row.program, _labels(uow.session)),
            "expires_at": row.expires_at,
        }


def _has_fact(session: Session, user_id: str | None, program: str) -> bool:
    return user_id is not None and session.get(VerifiedFact, (user_id, program)) is not None


def submit(uow: UnitOfWork, principal: Principal | None, body: Mapping[str, Any]) -> dict[str, Any]:
    """A story from a signed-in person, or from the link in a request email (no sign-in).

    Without consent the story is kept as private feedback: it can never be approved.
    """
    display_name = domain.clean_display_name(body["display_name"])
    story = domain.clean_story(body["story"])
    program = body["program"]
    consent = bool(body["consent"])
    now = utcnow()
    with uow:
        session = uow.session
        request: TestimonialRequest | None = None
        if body.get("request_token"):
            request = _request_of(session, body["request_token"], lock=True, field="request_token")
            if program != request.program:
                raise domain.UnknownProgram(
                    f"This link asks about {request.program}.", field="program"
                )
            user_id, email, role = request.user_id, request.email, "student"
            request.used_at = now
        elif principal is not None:
            if not principal.email:
                raise domain.MissingAuthor("Your access token carries no email address.")
            user_id, email = principal.user_id, principal.email
            role = domain.author_role(principal.roles)
        else:
            raise domain.MissingAuthor(
                "Send an access token, or the request_token of your email link."
            )
        if session.get(Program, program) is None:
            raise domain.UnknownProgram(f"There is no program {program!r}.", field="program")
        row = Testimonial(
            id=_new_id(),
            user_id=user_id,
            email=email,
            request_id=request.id if request else None,
            display_name=display_name,
            story=story,
            original_display_name=display_name,
            original_story=story,
            program=program,
            rating=body["rating"],
            consent=consent,
            consent_version=domain.CONSENT_VERSION if consent else None,
            consent_text=domain.CONSENT_TEXT if consent else None,
            consented_at=now if consent else None,
            verified=_has_fact(session, user_id, program),
            author_role=role,
            status=Status.PENDING.value,
            featured=False,
            submitted_at=now,
            updated_at=now,
        )
        session.add(row)
        uow.record(
            "testimonial.submitted",
            {
                "testimonial_id": row.id,
                "user_id": row.user_id,
                "display_name": row.display_name,
                "program": row.program,
                "rating": row.rating,
                "consent": row.consent,
                "verified": row.verified,
                "author_role": row.author_role,
            },
        )
        answer = {
            "id": row.id,
            "status": row.status,
            "consent": row.consent,
            "verified": row.verified,
            "author_role": row.author_role,
        }
        uow.commit()
    return answer


def my_testimonials(uow: UnitOfWork, principal: Principal) -> list[dict[str, Any]]:
    with uow:
        rows = uow.session.scalars(
            select(Testimonial)
            .where(Testimonial.user_id == principal.user_id)
            .order_by(Testimonial.submitted_at.desc())
        ).all()
        labels = _labels(uow.session)
        return [mine_view(r, labels) for r in rows]


# --- moderation ----------------------------------------------------------------------------------


def _testimonial(session: Session, testimonial_id: str, *, lock: bool = False) -> Testimonial:
    query = select(Testimonial).where(Testimonial.id == testimonial_id)
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise domain.TestimonialNotFound(f"There is no testimonial {testimonial_id!r}.")
    return row


def moderation_queue(uow: UnitOfWork, status: str | None, limit: int) -> list[dict[str, Any]]:
    """Full records, newest first, optionally of one status."""
    query = select(Testimonial).order_by(Testimonial.submitted_at.desc(), Testimonial.id)
    if status:
        query = query.where(Testimonial.status == status)
    with uow:
        rows = uow.session.scalars(query.limit(limit)).all()
        labels = _labels(uow.session)
        edited = _edited_ids(uow.session, [r.id for r in rows])
        return [full_view(r, labels, r.id in edited) for r in rows]


def get_testimonial(uow: UnitOfWork, testimonial_id: str) -> dict[str, Any]:
    with uow:
        return _detail(uow.session, _testimonial(uow.session, testimonial_id))


def approve(uow: UnitOfWork, testimonial_id: str) -> dict[str, Any]:
    """On the wall (after the positioned ones). Refused for good without consent (409)."""
    now = utcnow()
    with uow:
        session = uow.session
        row = _testimonial(session, testimonial_id, lock=True)
        consented = row.consent and row.consented_at is not None
        row.status = domain.moderate(row.status, Status.APPROVED, consented=consented).value
        row.approved_at = row.moderated_at = row.updated_at = now
        row.rejection_reason = row.rejection_note = None
        row.featured, row.position = False, None
        labels = _labels(session)
        uow.record(
            "testimonial.approved",
            {
                "testimonial_id": row.id,
                "user_id": row.user_id,
                "email": row.email,
                "display_name": row.display_name,
                "program": row.program,
                "program_label": domain.program_label(row.program, labels),
                "verified": row.verified,
            },
        )
        view = _full(session, row)
        uow.commit()
    return view


def reject(
    uow: UnitOfWork, testimonial_id: str, reason: str, note: str | None = None
) -> dict[str, Any]:
    """Refuse a pending story, or take an approved one down, for a listed reason."""
    reason = domain.ensure_rejection_reason(reason)
    now = utcnow()
    with uow:
        session = uow.session
        row = _testimonial(session, testimonial_id, lock=True)
        consented = row.consent and row.consented_at is not None
        row.status = domain.moderate(row.status, Status.REJECTED, consented=consented).value
        row.rejection_reason = reason
        row.rejection_note = (note or "").strip() or None
        row.moderated_at = row.updated_at = now
        row.featured, row.position = False, None
        uow.record(
            "testimonial.rejected",
            {"testimonial_id": row.id, "user_id": row.user_id, "reason": reason},
        )
        view = _full(session, row)
        uow.commit()
    return view


def edit(
    uow: UnitOfWork, editor: Principal, testimonial_id: str, changes: Mapping[str, Any]
) -> dict[str, Any]:
    """Marketing corrects the name or the story; the text before and after, who and why are
    kept as a revision, and the author's original is never touched."""
    note = domain.clean_note(changes["note"])
    now = utcnow()
    with uow:
        session = uow.session
        row = _testimonial(session, testimonial_id, lock=True)
        name = row.display_name
        story = row.story
        if changes.get("display_name") is not None:
            name = domain.clean_display_name(changes["display_name"])
        if changes.get("story") is not None:
            story = domain.clean_story(changes["story"])
        if (name, story) == (row.display_name, row.story):
            raise domain.NothingToEdit(
                "The name and the story are unchanged.",
                field="story" if "story" in changes else "display_name",
            )
        session.add(
            Revision(
                testimonial_id=row.id,
                editor_id=editor.user_id,
                editor_name=editor.name or editor.email or editor.user_id,
                before_display_name=row.display_name,
                before_story=row.story,
                after_display_name=name,
                after_story=story,
                note=note,
                created_at=now,
            )
        )
        row.display_name, row.story, row.updated_at = name, story, now
        session.flush()
        view = _detail(session, row)
        uow.commit()
    return view


def set_featured(uow: UnitOfWork, testimonial_id: str, featured: bool) -> dict[str, Any]:
    """Feature (first on the wall) or stop featuring an approved testimonial."""
    with uow:
        session = uow.session
        row = _testimonial(session, testimonial_id, lock=True)
        domain.ensure_on_wall(row.status)
        if row.featured != featured:
            row.featured = featured
            row.updated_at = utcnow()
            uow.record("testimonial.featured", {"testimonial_id": row.id, "featured": featured})
        view = _full(session, row)
        uow.commit()
    return view


def set_wall_order(uow: UnitOfWork, ids: list[str]) -> list[dict[str, Any]]:
    """Put the listed approved testimonials first, in that order; the rest follow as they were.

    Returns the whole wall (full records) in its new order; featured ones still lead it.
    """
    with uow:
        session = uow.session
        rows = {
            r.id: r
            for r in session.scalars(
                select(Testimonial)
                .where(Testimonial.status == Status.APPROVED.value)
                .with_for_update()
            )
        }
        current = [r.id for r in _wall(session)]
        order = domain.wall_order(current, list(ids))
        now = utcnow()
        for position, testimonial_id in enumerate(order, start=1):
            row = rows[testimonial_id]
            if row.position != position:
                row.position, row.updated_at = position, now
        session.flush()
        labels = _labels(session)
        wall = _wall(session)
        edited = _edited_ids(session, [r.id for r in wall])
        views = [full_view(r, labels, r.id in edited) for r in wall]
        uow.commit()
    return views


# --- what events teach us ------------------------------------------------------------------------


def _insert_once(session: Session, row: object) -> bool:
    """Insert a row keyed by what it says; False if it is there already (maybe written a moment
    ago by a concurrent handler: the savepoint keeps the rest of the transaction)."""
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


def _learn_program(session: Session, program: str, label: str) -> None:
    row = session.get(Program, program)
    if row is None:
        _insert_once(session, Program(program=program, label=label, updated_at=utcnow()))
    elif row.label != label:
        row.label, row.updated_at = label, utcnow()


def _learn_fact(session: Session, user_id: str, program: str, source: str) -> None:
    """User X is a student of P; their testimonials about P (past and future) are verified."""
    if session.get(VerifiedFact, (user_id, program)) is None:
        _insert_once(
            session,
            VerifiedFact(user_id=user_id, program=program, source=source, created_at=utcnow()),
        )
    session.execute(
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
    session = uow.session
    exists = session.scalar(
        select(TestimonialRequest.id).where(
            TestimonialRequest.user_id == user_id, TestimonialRequest.program == program
        )
    )
    if exists:
        return
    now = utcnow()
    row = TestimonialRequest(
        id=_new_id(),
        user_id=user_id,
        email=email,
        name=name,
        program=program,
        trigger=trigger,
        created_at=now,
        expires_at=now + timedelta(days=domain.REQUEST_VALID_DAYS),
    )
    if not _insert_once(session, row):
        return  # asked a moment ago by a concurrent handler: once is once
    uow.record(
        "testimonial.requested",
        {
            "request_id": row.id,
            "user_id": user_id,
            "email": email,
            "name": name,
            "program": program,
            "program_label": domain.program_label(program, _labels(session)),
            "token": tokens.request_token(row.id),
            "expires_at": row.expires_at,
        },
    )


def enrollment_activated(uow: UnitOfWork, data: Mapping[str, Any]) -> None:
    """A paid (or free) seat: the course is a program, and the student a verified author of it."""
    program = domain.course_program(data["course_slug"])
    with uow:
        _learn_program(uow.session, program, data["course_title"])
        _learn_fact(uow.session, data["student_id"], program, "enrollment.activated")
        uow.commit()


def enrollment_completed(uow: UnitOfWork, data: Mapping[str, Any]) -> None:
    """The course is over: verified, and asked once for their story about it."""
    program = domain.course_program(data["course_slug"])
    with uow:
        _learn_program(uow.session, program, data["course_title"])
        _learn_fact(uow.session, data["student_id"], program, "enrollment.completed")
        _ask_once(
            uow,
            user_id=data["student_id"],
            email=data["email"],
            name=data["name"],
            program=program,
            trigger="enrollment.completed",
        )
        uow.commit()


def consultation_completed(uow: UnitOfWork, data: Mapping[str, Any]) -> None:
    with uow:
        _learn_fact(uow.session, data["student_id"], domain.TUTORING, "consultation.completed")
        uow.commit()


def session_completed(
    uow: UnitOfWork, data: Mapping[str, Any], threshold: int | None = None
) -> None:
    """A tutoring session counted once; at the Nth the student is asked (once) about tutoring."""
    threshold = request_threshold() if threshold is None else threshold
    with uow:
        session = uow.session
        _learn_fact(session, data["student_id"], domain.TUTORING, "session.completed")
        if session.get(CompletedSession, data["session_id"]) is None:
            _insert_once(
                session,
                CompletedSession(
                    session_id=data["session_id"],
                    user_id=data["student_id"],
                    completed_at=utcnow(),
                ),
            )
        count = session.scalar(
            select(func.count())
            .select_from(CompletedSession)
            .where(CompletedSession.user_id == data["student_id"])
        )
        if domain.request_due_after_sessions(count, threshold):
            _ask_once(
                uow,
                user_id=data["student_id"],
                email=data["student_email"],
                name=data["student_name"],
                program=domain.TUTORING,
                trigger="session.completed",
            )
        uow.commit()
