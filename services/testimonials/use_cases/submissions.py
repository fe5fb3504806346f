"""Submitting a story: from a signed-in person, or from the link in a request email."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from services.testimonials import domain
from services.testimonials.domain import Status
from services.testimonials.events import TestimonialSubmitted
from services.testimonials.loading import request_of
from services.testimonials.models import Program, Testimonial, TestimonialRequest, VerifiedFact
from shared.auth import Principal
from shared.db import UnitOfWork, utcnow


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
        db = uow.session
        request: TestimonialRequest | None = None
        if body.get("request_token"):
            request = request_of(db, body["request_token"], lock=True, field="request_token")
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
        if db.get(Program, program) is None:
            raise domain.UnknownProgram(f"There is no program {program!r}.", field="program")
        row = Testimonial(
            id=str(uuid.uuid4()),
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
            verified=_has_fact(db, user_id, program),
            author_role=role,
            status=Status.PENDING.value,
            featured=False,
            submitted_at=now,
            updated_at=now,
        )
        db.add(row)
        uow.record(
            TestimonialSubmitted(
                testimonial_id=row.id,
                user_id=row.user_id,
                display_name=row.display_name,
                program=row.program,
                rating=row.rating,
                consent=row.consent,
                verified=row.verified,
                author_role=row.author_role,
            )
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


def _has_fact(db: Session, user_id: str | None, program: str) -> bool:
    return user_id is not None and db.get(VerifiedFact, (user_id, program)) is not None
