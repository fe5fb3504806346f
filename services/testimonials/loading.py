"""Loading rows for a use case, locked when it will change them, with the errors a missing or
spent row means."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.testimonials import domain, tokens
from services.testimonials.models import Testimonial, TestimonialRequest
from shared.db import utcnow


def request_of(
    db: Session, token: str, *, lock: bool = False, field: str | None = None
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
    row = db.scalar(query.with_for_update() if lock else query)
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


def load_testimonial(db: Session, testimonial_id: str, *, lock: bool = False) -> Testimonial:
    query = select(Testimonial).where(Testimonial.id == testimonial_id)
    row = db.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise domain.TestimonialNotFound(f"There is no testimonial {testimonial_id!r}.")
    return row
