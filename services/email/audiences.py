"""Who a campaign can reach, from facts this service learned from events.

The service never reads another service's tables (docs/architecture.md): enrollment and tutoring events
tell it who is an active, past or consulted student, and it keeps its own copy
(``audience_enrollments``, ``consulted_students``). Subscribers of a topic are its own data.

An audience is a SELECT of ``(email, name, course)``; sending starts by inserting that SELECT
into ``campaign_recipients`` in one statement, so 10,000 people cost one round trip.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from sqlalchemy import Insert, Select, and_, bindparam, exists, func, literal, null, or_, select
from sqlalchemy.orm import Session

from services.email.campaigns import domain as campaign_domain
from services.email.campaigns.domain import Audience, AudienceKind, EnrollmentFact
from services.email.domain import SubscriberStatus, normalize_email
from services.email.models import (
    AudienceEnrollment,
    ConsultedStudent,
    Subscriber,
    SubscriberTopic,
    Suppression,
    Topic,
)
from services.enrollment.events import EnrollmentFacts
from services.tutoring.events import ConsultationCompleted
from shared.db import UnitOfWork, insert_with_conflicts, utcnow

# --- learning facts from events (called by handlers, inside the handler's unit of work) ------


_CURRENT_FACT = (
    select(AudienceEnrollment.status)
    .where(AudienceEnrollment.enrollment_id == bindparam("enrollment_id"))
    .with_for_update()
)


@cache
def _record_fact(dialect: str) -> Insert:
    """The upsert of one enrollment's fact, built once per dialect: constructing it for every
    activation cost more than running it (docs/benchmarks.md)."""
    insert = insert_with_conflicts(dialect, AudienceEnrollment.__table__)
    updated = ("student_id", "email", "name", "course_slug", "course_title", "status", "updated_at")
    return insert.on_conflict_do_update(
        index_elements=["enrollment_id"], set_={c: insert.excluded[c] for c in updated}
    )


def learn_enrollment(session: Session, event_type: str, enrollment: EnrollmentFacts) -> None:
    """Record what an enrollment event says about the student's place in the audiences.

    An existing row is locked while its new status is decided, so two events about one
    enrollment (they are not ordered) cannot both decide from the same old status. The first
    two, when there is no row yet, are settled by the upsert: the later commit's status stays.
    """
    params = {"enrollment_id": enrollment.enrollment_id}
    current = session.execute(_CURRENT_FACT, params).scalar()
    status = campaign_domain.enrollment_fact_after(
        EnrollmentFact(current) if current is not None else None, event_type
    )
    session.execute(
        _record_fact(session.get_bind().dialect.name),
        {
            **params,
            "student_id": enrollment.student_id,
            "email": normalize_email(enrollment.email),
            "name": enrollment.name,
            "course_slug": enrollment.course_slug,
            "course_title": enrollment.course_title,
            "status": status.value,
            "updated_at": utcnow(),
        },
    )


def learn(uow: UnitOfWork, facts: Callable[[Session], None]) -> None:
    """Write an event's facts in a commit of their own (for events that send no email)."""
    with uow:
        facts(uow.session)
        uow.commit()


def learn_consultation(session: Session, consultation: ConsultationCompleted) -> None:
    """A student with a completed consultation joins ``students:consulted``."""
    values = {
        "email": normalize_email(consultation.student_email),
        "name": consultation.student_name,
        "consulted_at": utcnow(),
    }
    session.execute(
        insert_with_conflicts(session, ConsultedStudent.__table__)
        .values(student_id=consultation.student_id, **values)
        .on_conflict_do_update(index_elements=["student_id"], set_=values)
    )


# --- audiences -------------------------------------------------------------------------------


def courses(session: Session) -> dict[str, str]:
    """Course slug → title, as the enrollment events named them."""
    rows = session.execute(
        select(AudienceEnrollment.course_slug, func.max(AudienceEnrollment.course_title))
        .group_by(AudienceEnrollment.course_slug)
        .order_by(AudienceEnrollment.course_slug)
    )
    return dict(rows.all())


def topic_names(session: Session) -> dict[str, str]:
    return dict(session.execute(select(Topic.slug, Topic.name).order_by(Topic.name)).all())


def check_audience(session: Session, key: str) -> Audience:
    """The audience a key names; a topic must exist (a course may have no students yet)."""
    audience = campaign_domain.parse_audience(key)
    if audience.kind is AudienceKind.TOPIC and audience.slug not in topic_names(session):
        raise campaign_domain.UnknownAudience(f"There is no topic {audience.slug!r}.")
    return audience


def label(session: Session, key: str) -> str:
    try:
        audience = campaign_domain.parse_audience(key)
    except campaign_domain.UnknownAudience:
        return key
    return campaign_domain.audience_label(audience, topic_names(session), courses(session))


def members(audience: Audience) -> Select:
    """``(email, name, course)`` of everyone in the audience, one row per address."""
    if audience.kind is AudienceKind.TOPIC:
        return (
            select(Subscriber.email, Subscriber.name, null().label("course"))
            .join(SubscriberTopic, SubscriberTopic.subscriber_id == Subscriber.id)
            .where(
                SubscriberTopic.topic_slug == audience.slug,
                Subscriber.status == SubscriberStatus.CONFIRMED.value,
            )
        )
    if audience.kind is AudienceKind.CONSULTED_STUDENTS:
        return (
            select(
                ConsultedStudent.email,
                func.max(ConsultedStudent.name).label("name"),
                null().label("course"),
            )
            .where(literal(True))
            .group_by(ConsultedStudent.email)
        )
    status = (
        EnrollmentFact.ACTIVE
        if audience.kind is AudienceKind.ACTIVE_STUDENTS
        else EnrollmentFact.COMPLETED
    )
    query = select(
        AudienceEnrollment.email,
        func.max(AudienceEnrollment.name).label("name"),
        func.max(AudienceEnrollment.course_title).label("course"),
    ).where(AudienceEnrollment.status == status.value)
    if audience.kind is AudienceKind.ACTIVE_STUDENTS:
        query = query.where(AudienceEnrollment.course_slug == audience.slug)
    return query.group_by(AudienceEnrollment.email)


def suppressed(address_column: Any) -> Any:
    """True for an address no campaign may mail: on the suppression list, or a subscriber who
    unsubscribed (checked again for each recipient when it is sent)."""
    return or_(
        exists().where(Suppression.email == address_column),
        exists().where(
            and_(
                Subscriber.email == address_column,
                Subscriber.status == SubscriberStatus.UNSUBSCRIBED.value,
            )
        ),
    )


def size(session: Session, audience: Audience) -> int:
    people = members(audience).subquery()
    return session.scalar(
        select(func.count()).select_from(people).where(~suppressed(people.c.email))
    )


def first_member(session: Session, audience: Audience) -> tuple[str, str | None, str | None] | None:
    """The first person of the audience by name (then address; nameless people last), whom
    the preview is rendered for: a marketer recognises a real person of the list they chose."""
    people = members(audience).subquery()
    row = session.execute(
        select(people.c.email, people.c.name, people.c.course)
        .where(~suppressed(people.c.email))
        .order_by(func.coalesce(people.c.name, "") == "", people.c.name, people.c.email)
        .limit(1)
    ).first()
    return (row[0], row[1], row[2]) if row else None


def all_audiences(session: Session) -> list[dict[str, Any]]:
    """Every audience a campaign can choose, with how many people it reaches now."""
    names = topic_names(session)
    titles = courses(session)
    keys = [Audience(AudienceKind.TOPIC, slug) for slug in names]
    keys += [Audience(AudienceKind.ACTIVE_STUDENTS, slug) for slug in titles]
    keys += [Audience(AudienceKind.PAST_STUDENTS), Audience(AudienceKind.CONSULTED_STUDENTS)]
    return [
        {
            "key": a.key,
            "label": campaign_domain.audience_label(a, names, titles),
            "size": size(session, a),
        }
        for a in keys
    ]


def topics_with_counts(session: Session) -> list[dict[str, Any]]:
    counts: dict[tuple[str, str], int] = {
        (slug, status): n
        for slug, status, n in session.execute(
            select(SubscriberTopic.topic_slug, Subscriber.status, func.count())
            .join(Subscriber, Subscriber.id == SubscriberTopic.subscriber_id)
            .group_by(SubscriberTopic.topic_slug, Subscriber.status)
        )
    }
    return [
        {
            "slug": t.slug,
            "name": t.name,
            "description": t.description,
            **{s.value: counts.get((t.slug, s.value), 0) for s in SubscriberStatus},
        }
        for t in session.scalars(select(Topic).order_by(Topic.name))
    ]
