"""Moderation: marketing approves, rejects, edits, features and orders the wall."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from services.testimonials import domain
from services.testimonials.domain import Status
from services.testimonials.events import (
    TestimonialApproved,
    TestimonialFeatured,
    TestimonialRejected,
)
from services.testimonials.loading import load_testimonial
from services.testimonials.models import Revision, Testimonial
from services.testimonials.queries import (
    detailed_record,
    edited_ids,
    full_record,
    full_view,
    program_labels,
    wall_rows,
)
from shared.auth import Principal
from shared.db import UnitOfWork, utcnow


def approve(uow: UnitOfWork, testimonial_id: str) -> dict[str, Any]:
    """On the wall (after the positioned ones). Refused for good without consent (409)."""
    now = utcnow()
    with uow:
        db = uow.session
        row = load_testimonial(db, testimonial_id, lock=True)
        consented = row.consent and row.consented_at is not None
        row.status = domain.moderate(row.status, Status.APPROVED, consented=consented).value
        row.approved_at = row.moderated_at = row.updated_at = now
        row.rejection_reason = row.rejection_note = None
        row.featured, row.position = False, None
        labels = program_labels(db)
        uow.record(
            TestimonialApproved(
                testimonial_id=row.id,
                user_id=row.user_id,
                email=row.email,
                display_name=row.display_name,
                program=row.program,
                program_label=domain.program_label(row.program, labels),
                verified=row.verified,
            )
        )
        view = full_record(db, row)
        uow.commit()
    return view


def reject(
    uow: UnitOfWork, testimonial_id: str, reason: str, note: str | None = None
) -> dict[str, Any]:
    """Refuse a pending story, or take an approved one down, for a listed reason."""
    reason = domain.ensure_rejection_reason(reason)
    now = utcnow()
    with uow:
        db = uow.session
        row = load_testimonial(db, testimonial_id, lock=True)
        consented = row.consent and row.consented_at is not None
        row.status = domain.moderate(row.status, Status.REJECTED, consented=consented).value
        row.rejection_reason = reason
        row.rejection_note = (note or "").strip() or None
        row.moderated_at = row.updated_at = now
        row.featured, row.position = False, None
        uow.record(TestimonialRejected(testimonial_id=row.id, user_id=row.user_id, reason=reason))
        view = full_record(db, row)
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
        db = uow.session
        row = load_testimonial(db, testimonial_id, lock=True)
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
        db.add(
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
        db.flush()
        view = detailed_record(db, row)
        uow.commit()
    return view


def set_featured(uow: UnitOfWork, testimonial_id: str, featured: bool) -> dict[str, Any]:
    """Feature (first on the wall) or stop featuring an approved testimonial."""
    with uow:
        db = uow.session
        row = load_testimonial(db, testimonial_id, lock=True)
        domain.ensure_on_wall(row.status)
        if row.featured != featured:
            row.featured = featured
            row.updated_at = utcnow()
            uow.record(TestimonialFeatured(testimonial_id=row.id, featured=featured))
        view = full_record(db, row)
        uow.commit()
    return view


def set_wall_order(uow: UnitOfWork, ids: list[str]) -> list[dict[str, Any]]:
    """Put the listed approved testimonials first, in that order; the rest follow as they were.

    Returns the whole wall (full records) in its new order; featured ones still lead it.
    """
    with uow:
        db = uow.session
        rows = {
            r.id: r
            for r in db.scalars(
                select(Testimonial)
                .where(Testimonial.status == Status.APPROVED.value)
                .with_for_update()
            )
        }
        current = [r.id for r in wall_rows(db)]
        order = domain.wall_order(current, list(ids))
        now = utcnow()
        for position, testimonial_id in enumerate(order, start=1):
            row = rows[testimonial_id]
            if row.position != position:
                row.position, row.updated_at = position, now
        db.flush()
        labels = program_labels(db)
        wall = wall_rows(db)
        edited = edited_ids(db, [r.id for r in wall])
        views = [full_view(r, labels, r.id in edited) for r in wall]
        uow.commit()
    return views
