"""What admins change: courses (and their seats) and promotion codes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, select, update
from sqlalchemy.exc import IntegrityError

from services.enrollment import domain, loading
from services.enrollment.loading import COURSE_RULE_FIELDS
from services.enrollment.models import Course, CycleSeats, PromoCode
from services.enrollment.queries import course_view, promo_view
from shared.db import UnitOfWork, utcnow


def create_course(uow: UnitOfWork, body: dict[str, Any]) -> dict[str, Any]:
    """A new course, checked by the domain's rules; its slug is taken once."""
    now = utcnow()
    rules = domain.new_course(**{k: body[k] for k in COURSE_RULE_FIELDS if k in body})
    with uow:
        if uow.session.get(Course, rules.slug) is not None:
            raise domain.CourseExists(f"A course {rules.slug!r} exists already", field="slug")
        course = Course(
            **{k: getattr(rules, k) for k in COURSE_RULE_FIELDS},
            description=(body.get("description") or "").strip(),
            created_at=now,
            updated_at=now,
        )
        uow.session.add(course)
        try:
            # The answer (its cycles are the domain's date arithmetic) is built before the
            # commit: a course the response cannot describe is never kept.
            view = course_view(uow.session, course, now)
            uow.commit()
        except IntegrityError as err:
            raise domain.CourseExists(
                f"A course {rules.slug!r} exists already", field="slug"
            ) from err
        return view


def update_course(uow: UnitOfWork, slug: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Change a course; new seat counts apply to cycles not yet started (never below taken)."""
    now = utcnow()
    with uow:
        db = uow.session
        course = db.scalar(select(Course).where(Course.slug == slug).with_for_update())
        if course is None:
            raise domain.CourseNotFound(f"There is no course {slug!r}", field="slug")
        current = {k: getattr(course, k) for k in COURSE_RULE_FIELDS}
        rules = domain.new_course(
            **{**current, **{k: v for k, v in changes.items() if k in current}}
        )
        for k in COURSE_RULE_FIELDS:
            setattr(course, k, getattr(rules, k))
        if "description" in changes:
            course.description = (changes["description"] or "").strip()
        course.updated_at = now
        if "seats_per_cycle" in changes:
            seats = rules.seats_per_cycle
            db.execute(
                update(CycleSeats)
                .where(CycleSeats.course_slug == slug, CycleSeats.starts_on >= now.date())
                .values(capacity=case((CycleSeats.taken > seats, CycleSeats.taken), else_=seats))
            )
        view = course_view(db, course, now)  # before the commit, as in create_course
        uow.commit()
        return view


def create_promo_code(uow: UnitOfWork, body: dict[str, Any]) -> dict[str, Any]:
    """A new promotion code (percent or amount off), its code taken once."""
    now = utcnow()
    code = domain.normalize_promo_code(body["code"])
    currency = body.get("currency")
    rules = domain.PromoCode(
        code=code,
        kind=body["kind"],
        value=body["value"],
        course_slug=body.get("course_slug"),
        max_redemptions=body.get("max_redemptions"),
        per_student_limit=body.get("per_student_limit", 1),
        expires_at=body.get("expires_at"),
        currency=currency.strip().upper() if currency else None,
    )
    with uow:
        if rules.course_slug is not None:
            loading.course(uow.session, rules.course_slug, published_only=False)
        if uow.session.get(PromoCode, code) is not None:
            raise domain.PromoCodeExists(f"The code {code} exists already", field="code")
        row = PromoCode(
            code=rules.code,
            kind=rules.kind,
            value=rules.value,
            currency=rules.currency,
            course_slug=rules.course_slug,
            max_redemptions=rules.max_redemptions,
            per_student_limit=rules.per_student_limit,
            expires_at=rules.expires_at,
            redemptions=0,
            created_at=now,
        )
        uow.session.add(row)
        try:
            uow.commit()
        except IntegrityError as err:
            raise domain.PromoCodeExists(f"The code {code} exists already", field="code") from err
        return promo_view(row, 0)
