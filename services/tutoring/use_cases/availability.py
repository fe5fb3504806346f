"""When a tutor can be booked: weekly windows, date overrides, time off, and the slots left.

The booking helpers (``offered_slot``, ``hold``, ``release``, ``flush_booking``,
``meeting_event``) are shared by consultations and sessions, which both hold their time with
one ``tutor_bookings`` row (see ``models``) and tell of it with the same facts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.tutoring import domain, loading
from services.tutoring.events import MeetingFacts
from services.tutoring.models import Consultation, TimeOff, Tutor, TutorBooking, TutoringSession
from services.tutoring.queries import availability_view
from shared import calendar
from shared.auth import Principal
from shared.db import UnitOfWork, utcnow
from shared.errors import NotFound

M = TypeVar("M", bound=MeetingFacts)

# --- the tutor's hours ---------------------------------------------------------------------------


def my_availability(uow: UnitOfWork, principal: Principal) -> dict[str, Any]:
    with uow:
        view = availability_view(uow.session, loading.my_tutor(uow.session, principal))
        uow.commit()
        return view


def set_availability(
    uow: UnitOfWork,
    principal: Principal,
    weekly: Sequence[Mapping[str, Any]],
    overrides: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """Replace the weekly windows and date overrides as a whole (wall clock, tutor's zone)."""
    stored = {"weekly": _stored_weekly(weekly), "overrides": _stored_overrides(overrides)}
    with uow:
        row = loading.my_tutor(uow.session, principal, lock=True)
        row.availability = stored
        row.updated_at = utcnow()
        view = availability_view(uow.session, row)
        uow.commit()
        return view


def _stored_weekly(weekly: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The weekly windows, checked by the domain, as the profile stores them."""
    for w in weekly:
        domain.WeeklyWindow(w["weekday"], w["start"], w["end"])
    return [
        {
            "weekday": w["weekday"],
            "start": w["start"].strftime("%H:%M"),
            "end": w["end"].strftime("%H:%M"),
        }
        for w in weekly
    ]


def _stored_overrides(overrides: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The date overrides, checked (one per day), in day order, as the profile stores them."""
    seen: set[date] = set()
    stored = []
    for o in sorted(overrides, key=lambda o: o["day"]):
        domain.DateOverride(o["day"], tuple((w["start"], w["end"]) for w in o["windows"]))
        if o["day"] in seen:
            raise domain.InvalidAvailability(
                f"More than one override for {o['day'].isoformat()}", field="overrides"
            )
        seen.add(o["day"])
        stored.append(
            {
                "day": o["day"].isoformat(),
                "windows": [
                    {"start": w["start"].strftime("%H:%M"), "end": w["end"].strftime("%H:%M")}
                    for w in o["windows"]
                ],
            }
        )
    return stored


def add_time_off(
    uow: UnitOfWork, principal: Principal, starts_at: datetime, ends_at: datetime
) -> dict[str, Any]:
    domain.TimeOff(starts_at, ends_at)
    with uow:
        tutor = loading.my_tutor(uow.session, principal)
        row = TimeOff(
            id=loading.new_id(),
            tutor_id=tutor.id,
            starts_at=starts_at,
            ends_at=ends_at,
            created_at=utcnow(),
        )
        uow.session.add(row)
        uow.commit()
        return {"id": row.id, "starts_at": row.starts_at, "ends_at": row.ends_at}


def remove_time_off(uow: UnitOfWork, principal: Principal, time_off_id: str) -> None:
    with uow:
        deleted = uow.session.execute(
            delete(TimeOff).where(TimeOff.id == time_off_id, TimeOff.tutor_id == principal.user_id)
        )
        if deleted.rowcount == 0:
            raise NotFound("You have no such time off", field="time_off_id")
        uow.commit()


# --- slots ---------------------------------------------------------------------------------------


def slots(uow: UnitOfWork, tutor_id: str, kind: str, viewer_tz: str | None) -> list[dict]:
    """What a student may book, with each start also shown on the student's own clock."""
    with uow:
        tutor = loading.tutor(uow.session, tutor_id)
        tz = viewer_tz or tutor.time_zone
        domain.zone(tz, field="tz")
        found = _slots(uow.session, tutor, kind, utcnow())
    views = []
    for slot in found:
        local_start, local_end = slot.local(tz)
        views.append(
            {
                "starts_at": slot.starts_at,
                "ends_at": slot.ends_at,
                "local_start": local_start.isoformat(),
                "local_end": local_end.isoformat(),
            }
        )
    return views


def offered_slot(
    db: Session,
    tutor: Tutor,
    kind: str,
    starts_at: datetime,
    now: datetime,
    *,
    ignore_ref: str | None = None,
) -> domain.Slot:
    """The slot starting at ``starts_at`` if the tutor offers it now (the tutor's row is locked).

    A start someone else holds is :class:`SlotTaken` (409), a start the tutor does not offer at
    all :class:`SlotNotOffered` (422). ``ignore_ref`` leaves a meeting's own booking out, so a
    session can move next to where it was.
    """
    rules = _rules(tutor, kind)
    wanted = domain.Slot(starts_at, starts_at + timedelta(minutes=rules.length_minutes))
    if wanted in _slots(db, tutor, kind, now, ignore_ref=ignore_ref):
        return wanted
    free = domain.bookable_slots(
        tutor.time_zone,
        _weekly(tutor),
        _overrides(tutor),
        _time_off(db, tutor, now),
        [],
        rules,
        now,
    )
    if wanted in free:
        raise domain.SlotTaken("Someone has just booked that time", field="starts_at")
    raise domain.SlotNotOffered("Pick one of the tutor's bookable slots", field="starts_at")


def hold(db: Session, kind: str, row: Any) -> None:
    """The ``tutor_bookings`` row that holds a meeting's time (unique per tutor and start)."""
    db.add(
        TutorBooking(
            tutor_id=row.tutor_id,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            kind=kind,
            ref_id=row.id,
        )
    )


def release(db: Session, ref_id: str) -> None:
    """Free a cancelled meeting's time at once."""
    db.execute(delete(TutorBooking).where(TutorBooking.ref_id == ref_id))


def meeting_event(
    event: type[M], row: Consultation | TutoringSession, tutor: Tutor, **details: Any
) -> M:
    """The ``event`` of a meeting (``ConsultationBooked``, ``SessionCancelled``, a reminder…):
    both people, the time and the ICS ids a calendar updates the meeting by, which every such
    event carries (``MeetingFacts``), with what only that event says in ``details`` (its
    ``session_id`` or ``consultation_id``, who cancelled…)."""
    kind = "consultation" if isinstance(row, Consultation) else "session"
    return event(
        student_id=row.student_id,
        student_email=row.student_email,
        student_name=row.student_name,
        student_timezone=row.student_time_zone,
        tutor_id=tutor.id,
        tutor_email=tutor.email,
        tutor_name=tutor.name,
        tutor_timezone=tutor.time_zone,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        ics_uid=calendar.stable_uid(kind, row.id),
        ics_sequence=row.ics_sequence,
        **details,
    )


def is_violation(err: IntegrityError, name: str) -> bool:
    return name in str(err.orig)


def flush_booking(db: Session) -> None:
    """Write the booking; a start taken meanwhile (the unique row) is :class:`SlotTaken`."""
    try:
        db.flush()
    except IntegrityError as err:
        if is_violation(err, "uq_tutor_bookings_tutor_id_starts_at"):
            raise domain.SlotTaken("Someone has just booked that time", field="starts_at") from err
        raise


def _rules(row: Tutor, kind: str) -> domain.SlotRules:
    length = row.consultation_minutes if kind == "consultation" else row.session_minutes
    return domain.SlotRules(
        length_minutes=length,
        buffer_minutes=row.buffer_minutes,
        min_notice_hours=row.min_notice_hours,
        horizon_days=row.horizon_days,
    )


def _slots(
    db: Session, tutor: Tutor, kind: str, now: datetime, *, ignore_ref: str | None = None
) -> list[domain.Slot]:
    return domain.bookable_slots(
        tutor.time_zone,
        _weekly(tutor),
        _overrides(tutor),
        _time_off(db, tutor, now),
        _busy(db, tutor, now, ignore_ref=ignore_ref),
        _rules(tutor, kind),
        now,
    )


def _wall(value: str) -> time:
    return time.fromisoformat(value)


def _weekly(row: Tutor) -> list[domain.WeeklyWindow]:
    return [
        domain.WeeklyWindow(w["weekday"], _wall(w["start"]), _wall(w["end"]))
        for w in (row.availability or {}).get("weekly", [])
    ]


def _overrides(row: Tutor) -> list[domain.DateOverride]:
    return [
        domain.DateOverride(
            date.fromisoformat(o["day"]),
            tuple((_wall(w["start"]), _wall(w["end"])) for w in o["windows"]),
        )
        for o in (row.availability or {}).get("overrides", [])
    ]


def _time_off(db: Session, tutor: Tutor, now: datetime) -> list[domain.TimeOff]:
    rows = db.scalars(select(TimeOff).where(TimeOff.tutor_id == tutor.id, TimeOff.ends_at > now))
    return [domain.TimeOff(r.starts_at, r.ends_at) for r in rows]


def _busy(
    db: Session, tutor: Tutor, now: datetime, *, ignore_ref: str | None = None
) -> list[domain.Busy]:
    query = select(TutorBooking).where(
        TutorBooking.tutor_id == tutor.id,
        TutorBooking.ends_at > now - timedelta(days=1),
    )
    if ignore_ref is not None:
        query = query.where(TutorBooking.ref_id != ignore_ref)
    rows = db.scalars(query)
    return [domain.Busy(r.starts_at, r.ends_at) for r in rows]
