"""The clock each person reads their mail on, learned from identity's events.

Identity owns the setting (an account's ``time_zone``); this service keeps its own copy by
address, as every event it mails from names the person by address. A person it has not heard of,
or who has chosen no zone, reads UTC, labelled plainly. An event that carries the reader's zone
itself (tutoring's ``student_timezone``) is more current and wins.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.email.domain import normalize_email
from services.email.models import ReaderZone
from services.identity.events import UserRegistered, UserTimeZoneChanged
from shared import clock
from shared.bus.handlers import handles
from shared.db import UnitOfWork, insert_with_conflicts, utcnow


def remember(session: Session, person: UserRegistered | UserTimeZoneChanged) -> None:
    """Keep the zone an identity event names for the person (None: not chosen)."""
    zone = person.time_zone
    values = {
        "email": normalize_email(person.email),
        "user_id": person.user_id or "",
        "time_zone": zone if clock.is_zone(zone) else None,
        "updated_at": utcnow(),
    }
    insert = insert_with_conflicts(session, ReaderZone.__table__).values(**values)
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["email"],
            set_={
                "user_id": values["user_id"],
                "time_zone": values["time_zone"],
                "updated_at": values["updated_at"],
            },
        )
    )


@handles(UserTimeZoneChanged)
def time_zone_changed(uow: UnitOfWork, event: UserTimeZoneChanged) -> None:
    with uow:
        remember(uow.session, event)
        uow.commit()


def zone_of(session: Session, email: str) -> str:
    """The zone to print times in for a mail to ``email``: theirs if known, else UTC."""
    zone = session.scalar(
        select(ReaderZone.time_zone).where(ReaderZone.email == normalize_email(email))
    )
    return zone if clock.is_zone(zone) else "UTC"


def reader_zone(uow: UnitOfWork, email: str) -> str:
    with uow:
        return zone_of(uow.session, email)
