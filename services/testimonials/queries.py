"""The read side: the public wall, an author's own stories, the moderation queue, and the
views each shows (the public never sees an email, a user id or a moderation note)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.testimonials import domain
from services.testimonials.domain import Status
from services.testimonials.loading import load_testimonial, request_of
from services.testimonials.models import Program, Revision, Testimonial
from shared.auth import Principal
from shared.db import UnitOfWork

# --- views ---------------------------------------------------------------------------------------


def program_labels(db: Session) -> dict[str, str]:
    return {p.program: p.label for p in db.scalars(select(Program))}


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


def revisions_of(db: Session, testimonial_id: str) -> list[Revision]:
    return list(
        db.scalars(
            select(Revision)
            .where(Revision.testimonial_id == testimonial_id)
            .order_by(Revision.created_at, Revision.id)
        )
    )


def edited_ids(db: Session, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    return set(db.scalars(select(Revision.testimonial_id).where(Revision.testimonial_id.in_(ids))))


def full_record(db: Session, row: Testimonial) -> dict[str, Any]:
    return full_view(row, program_labels(db), bool(edited_ids(db, [row.id])))


def detailed_record(db: Session, row: Testimonial) -> dict[str, Any]:
    revisions = revisions_of(db, row.id)
    return {
        **full_view(row, program_labels(db), bool(revisions)),
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


def programs(uow: UnitOfWork) -> list[dict[str, str]]:
    """Tutoring first, then the courses learned from enrollment's events, by title."""
    with uow:
        rows = [(p.program, p.label) for p in uow.session.scalars(select(Program))]
    rows.sort(key=lambda p: (p[0] != domain.TUTORING, p[1].lower()))
    return [{"program": program, "label": label} for program, label in rows]


def consent_terms() -> dict[str, str]:
    return {"version": domain.CONSENT_VERSION, "text": domain.CONSENT_TEXT}


def wall_rows(db: Session, program: str | None = None) -> list[Testimonial]:
    query = select(Testimonial).where(
        Testimonial.status == Status.APPROVED.value,
        Testimonial.consent.is_(True),
        Testimonial.consented_at.is_not(None),
    )
    if program:
        query = query.where(Testimonial.program == program)
    rows = db.scalars(query).all()
    return sorted(
        rows,
        key=lambda r: domain.wall_key(domain.WallPlace(r.featured, r.position, r.approved_at)),
    )


def public_wall(uow: UnitOfWork, program: str | None, limit: int) -> list[dict[str, Any]]:
    with uow:
        labels = program_labels(uow.session)
        return [wall_item(r, labels) for r in wall_rows(uow.session, program)[:limit]]


def request_link(uow: UnitOfWork, token: str) -> dict[str, Any]:
    """Who a request link is for, so the form can greet them (no sign-in needed)."""
    with uow:
        row = request_of(uow.session, token)
        return {
            "name": row.name,
            "email": row.email,
            "program": row.program,
            "program_label": domain.program_label(row.program, program_labels(uow.session)),
            "expires_at": row.expires_at,
        }


def my_testimonials(uow: UnitOfWork, principal: Principal) -> list[dict[str, Any]]:
    with uow:
        rows = uow.session.scalars(
            select(Testimonial)
            .where(Testimonial.user_id == principal.user_id)
            .order_by(Testimonial.submitted_at.desc())
        ).all()
        labels = program_labels(uow.session)
        return [mine_view(r, labels) for r in rows]


def moderation_queue(uow: UnitOfWork, status: str | None, limit: int) -> list[dict[str, Any]]:
    """Full records, newest first, optionally of one status."""
    query = select(Testimonial).order_by(Testimonial.submitted_at.desc(), Testimonial.id)
    if status:
        query = query.where(Testimonial.status == status)
    with uow:
        rows = uow.session.scalars(query.limit(limit)).all()
        labels = program_labels(uow.session)
        edited = edited_ids(uow.session, [r.id for r in rows])
        return [full_view(r, labels, r.id in edited) for r in rows]


def get_testimonial(uow: UnitOfWork, testimonial_id: str) -> dict[str, Any]:
    with uow:
        return detailed_record(uow.session, load_testimonial(uow.session, testimonial_id))
