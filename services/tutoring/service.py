"""Tutoring's use cases: one function per thing a tutor, a student, an event or a job does.

Each opens the unit of work, loads rows, asks ``domain`` / ``study_plan`` for the rules,
changes the rows and records the events it causes, then commits once. Double booking is the
database's job (see ``models``): a booking locks the tutor's row, and ``tutor_bookings`` has a
unique ``(tutor_id, starts_at)`` behind it.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Mapping, Sequence
from contextlib import suppress
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from services.tutoring import domain, plan_edits, study_plan
from services.tutoring.models import (
    CalendarToken,
    Consultation,
    Credits,
    Package,
    StudyPlanRow,
    StudyPlanVersion,
    TimeOff,
    Tutor,
    TutorBooking,
    TutoringSession,
)
from services.tutoring.use_cases import plan_access, reset
from shared import calendar
from shared.auth import Principal
from shared.db import UnitOfWork, utcnow
from shared.errors import Forbidden, NotFound, PaymentsUnavailable
from shared.payments_client import PaymentsClient

log = logging.getLogger(__name__)

DEFAULT_TIME_ZONE = "America/New_York"
PROFILE_FIELDS = (
    "bio",
    "exams",
    "time_zone",
    "session_rate_minor",
    "currency",
    "photo_url",
    "consultation_minutes",
    "session_minutes",
    "buffer_minutes",
    "min_notice_hours",
    "horizon_days",
)
SLOT_KINDS = ("consultation", "session")
PURCHASE_KIND = "tutoring_package"
PURCHASE_PREFIX = "package:"
REMINDER_LEAD_HOURS = 24


def _new_id() -> str:
    return str(uuid.uuid4())


# --- views ---------------------------------------------------------------------------------------


def public_tutor_view(row: Tutor) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "bio": row.bio,
        "exams": list(row.exams or []),
        "time_zone": row.time_zone,
        "session_rate_minor": row.session_rate_minor,
        "currency": row.currency,
        "photo_url": row.photo_url,
        "horizon_days": row.horizon_days,
        "package_options": domain.package_options(row.session_rate_minor),
    }


def tutor_view(row: Tutor) -> dict[str, Any]:
    """The whole profile, for the tutor themself and admins."""
    return {
        **public_tutor_view(row),
        "email": row.email,
        "consultation_minutes": row.consultation_minutes,
        "session_minutes": row.session_minutes,
        "buffer_minutes": row.buffer_minutes,
        "min_notice_hours": row.min_notice_hours,
        "created_at": row.created_at,
    }


def consultation_view(row: Consultation, tutor: Tutor) -> dict[str, Any]:
    assessment = None
    if row.assessed_at is not None:
        assessment = {
            "strengths": row.strengths,
            "weaknesses": row.weaknesses,
            "goals": row.goals,
            "recorded_at": row.assessed_at,
        }
    return {
        "id": row.id,
        "status": row.status,
        "student_id": row.student_id,
        "student_name": row.student_name,
        "student_email": row.student_email,
        "time_zone": row.student_time_zone,
        "tutor_id": tutor.id,
        "tutor_name": tutor.name,
        "tutor_time_zone": tutor.time_zone,
        "starts_at": row.starts_at,
        "ends_at": row.ends_at,
        "intake": row.intake,
        "cancelled_by": row.cancelled_by,
        "cancel_reason": row.cancel_reason,
        "assessment": assessment,
        **reset.consultation_extras(row),
        "plan_id": _plan_id_of(row),
        "created_at": row.created_at,
    }


def _plan_id_of(row: Consultation) -> str | None:
    session = object_session(row)
    if session is None:
        return None
    return session.scalar(select(StudyPlanRow.id).where(StudyPlanRow.consultation_id == row.id))


def _plan_view(row: StudyPlanRow, version: StudyPlanVersion) -> dict[str, Any]:
    return {
        "id": row.id,
        "plan_id": row.id,
        "consultation_id": row.consultation_id,
        "student_id": row.student_id,
        "tutor_id": row.tutor_id,
        "exam": row.exam,
        "version": version.version,
        "published_at": version.created_at,
        **{k: v for k, v in version.body.items() if k != "format"},
        **reset.plan_extras(row, version),
    }


# --- tutors --------------------------------------------------------------------------------------


def _insert_tutor(session: Session, user_id: str, name: str, email: str) -> Tutor:
    now = utcnow()
    row = Tutor(
        id=user_id,
        name=name,
        email=email,
        bio="",
        exams=[],
        time_zone=DEFAULT_TIME_ZONE,
        currency="USD",
        availability={"weekly": [], "overrides": []},
        consultation_minutes=30,
        session_minutes=60,
        buffer_minutes=15,
        min_notice_hours=24,
        horizon_days=28,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    return row


def tutor_registered(uow: UnitOfWork, data: Mapping[str, Any]) -> None:
    """Identity made a tutor account (an invitation was accepted): open their profile."""
    if "tutor" not in data["roles"]:
        return
    with uow:
        row = uow.session.get(Tutor, data["user_id"])
        if row is None:
            _insert_tutor(uow.session, data["user_id"], data["name"], data["email"])
        else:
            row.name, row.email = data["name"], data["email"]
        uow.commit()


def _my_tutor(session: Session, principal: Principal, *, lock: bool = False) -> Tutor:
    """The caller's profile; made from the token's claims if ``user.registered`` is not in yet."""
    query = select(Tutor).where(Tutor.id == principal.user_id)
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None:
        row = _insert_tutor(session, principal.user_id, principal.name or "", principal.email or "")
        session.flush()
    return row


def _tutor(session: Session, tutor_id: str, *, lock: bool = False) -> Tutor:
    query = select(Tutor).where(Tutor.id == tutor_id)
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise domain.TutorNotFound(f"There is no tutor {tutor_id!r}", field="tutor_id")
    return row


def _rules(row: Tutor, kind: str) -> domain.SlotRules:
    length = row.consultation_minutes if kind == "consultation" else row.session_minutes
    return domain.SlotRules(
        length_minutes=length,
        buffer_minutes=row.buffer_minutes,
        min_notice_hours=row.min_notice_hours,
        horizon_days=row.horizon_days,
    )


def my_profile(uow: UnitOfWork, principal: Principal) -> dict[str, Any]:
    with uow:
        view = tutor_view(_my_tutor(uow.session, principal))
        uow.commit()
        return view


def update_profile(uow: UnitOfWork, principal: Principal, changes: Mapping[str, Any]) -> dict:
    """A tutor edits their public profile and booking settings (validated by the domain)."""
    with uow:
        row = _my_tutor(uow.session, principal, lock=True)
        values = {name: getattr(row, name) for name in PROFILE_FIELDS}
        values.update({k: v for k, v in changes.items() if k in PROFILE_FIELDS})
        domain.zone(values["time_zone"], field="time_zone")
        for kind in SLOT_KINDS:
            domain.SlotRules(
                length_minutes=values[f"{kind}_minutes"],
                buffer_minutes=values["buffer_minutes"],
                min_notice_hours=values["min_notice_hours"],
                horizon_days=values["horizon_days"],
            )
        if "exams" in changes:
            values["exams"] = [e for e in domain.EXAMS if e in set(changes["exams"])]
        values["currency"] = values["currency"].upper()
        for name, value in values.items():
            setattr(row, name, value)
        row.updated_at = utcnow()
        view = tutor_view(row)
        uow.commit()
        return view


def public_tutors(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Tutors who have written a bio (a profile without one is not ready to be shown)."""
    with uow:
        rows = uow.session.scalars(select(Tutor).where(Tutor.bio != "").order_by(Tutor.name))
        return [public_tutor_view(r) for r in rows]


def public_tutor(uow: UnitOfWork, tutor_id: str) -> dict[str, Any]:
    with uow:
        return public_tutor_view(_tutor(uow.session, tutor_id))


def all_tutors(uow: UnitOfWork) -> list[dict[str, Any]]:
    with uow:
        return [tutor_view(r) for r in uow.session.scalars(select(Tutor).order_by(Tutor.name))]


# --- availability --------------------------------------------------------------------------------


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


def _availability_view(session: Session, row: Tutor) -> dict[str, Any]:
    time_off = session.scalars(
        select(TimeOff).where(TimeOff.tutor_id == row.id).order_by(TimeOff.starts_at)
    )
    return {
        "time_zone": row.time_zone,
        "weekly": (row.availability or {}).get("weekly", []),
        "overrides": (row.availability or {}).get("overrides", []),
        "time_off": [
            {"id": t.id, "starts_at": t.starts_at, "ends_at": t.ends_at} for t in time_off
        ],
    }


def my_availability(uow: UnitOfWork, principal: Principal) -> dict[str, Any]:
    with uow:
        view = _availability_view(uow.session, _my_tutor(uow.session, principal))
        uow.commit()
        return view


def set_availability(
    uow: UnitOfWork,
    principal: Principal,
    weekly: Sequence[Mapping[str, Any]],
    overrides: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """Replace the weekly windows and date overrides as a whole (wall clock, tutor's zone)."""
    stored_weekly = [
        {
            "weekday": w["weekday"],
            "start": w["start"].strftime("%H:%M"),
            "end": w["end"].strftime("%H:%M"),
        }
        for w in weekly
    ]
    for w in weekly:
        domain.WeeklyWindow(w["weekday"], w["start"], w["end"])
    seen: set[date] = set()
    stored_overrides = []
    for o in sorted(overrides, key=lambda o: o["day"]):
        domain.DateOverride(o["day"], tuple((w["start"], w["end"]) for w in o["windows"]))
        if o["day"] in seen:
            raise domain.InvalidAvailability(
                f"More than one override for {o['day'].isoformat()}", field="overrides"
            )
        seen.add(o["day"])
        stored_overrides.append(
            {
                "day": o["day"].isoformat(),
                "windows": [
                    {"start": w["start"].strftime("%H:%M"), "end": w["end"].strftime("%H:%M")}
                    for w in o["windows"]
                ],
            }
        )
    with uow:
        row = _my_tutor(uow.session, principal, lock=True)
        row.availability = {"weekly": stored_weekly, "overrides": stored_overrides}
        row.updated_at = utcnow()
        view = _availability_view(uow.session, row)
        uow.commit()
        return view


def add_time_off(
    uow: UnitOfWork, principal: Principal, starts_at: datetime, ends_at: datetime
) -> dict[str, Any]:
    domain.TimeOff(starts_at, ends_at)
    with uow:
        tutor = _my_tutor(uow.session, principal)
        row = TimeOff(
            id=_new_id(),
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


def _slots(
    session: Session, tutor: Tutor, kind: str, now: datetime, *, ignore_ref: str | None = None
) -> list[domain.Slot]:
    return domain.bookable_slots(
        tutor.time_zone,
        _weekly(tutor),
        _overrides(tutor),
        _time_off(session, tutor, now),
        _busy(session, tutor, now, ignore_ref=ignore_ref),
        _rules(tutor, kind),
        now,
    )


def _offered_slot(
    session: Session,
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
    if wanted in _slots(session, tutor, kind, now, ignore_ref=ignore_ref):
        return wanted
    free = domain.bookable_slots(
        tutor.time_zone,
        _weekly(tutor),
        _overrides(tutor),
        _time_off(session, tutor, now),
        [],
        rules,
        now,
    )
    if wanted in free:
        raise domain.SlotTaken("Someone has just booked that time", field="starts_at")
    raise domain.SlotNotOffered("Pick one of the tutor's bookable slots", field="starts_at")


def _time_off(session: Session, tutor: Tutor, now: datetime) -> list[domain.TimeOff]:
    rows = session.scalars(
        select(TimeOff).where(TimeOff.tutor_id == tutor.id, TimeOff.ends_at > now)
    )
    return [domain.TimeOff(r.starts_at, r.ends_at) for r in rows]


def _busy(
    session: Session, tutor: Tutor, now: datetime, *, ignore_ref: str | None = None
) -> list[domain.Busy]:
    query = select(TutorBooking).where(
        TutorBooking.tutor_id == tutor.id,
        TutorBooking.ends_at > now - timedelta(days=1),
    )
    if ignore_ref is not None:
        query = query.where(TutorBooking.ref_id != ignore_ref)
    rows = session.scalars(query)
    return [domain.Busy(r.starts_at, r.ends_at) for r in rows]


def slots(uow: UnitOfWork, tutor_id: str, kind: str, viewer_tz: str | None) -> list[dict]:
    """What a student may book, with each start also shown on the student's own clock."""
    with uow:
        tutor = _tutor(uow.session, tutor_id)
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


# --- consultations -------------------------------------------------------------------------------


def _meeting_facts(row: Consultation, tutor: Tutor) -> dict[str, Any]:
    return {
        "consultation_id": row.id,
        "student_id": row.student_id,
        "student_email": row.student_email,
        "student_name": row.student_name,
        "student_timezone": row.student_time_zone,
        "tutor_id": tutor.id,
        "tutor_email": tutor.email,
        "tutor_name": tutor.name,
        "tutor_timezone": tutor.time_zone,
        "starts_at": row.starts_at,
        "ends_at": row.ends_at,
        "ics_uid": calendar.stable_uid("consultation", row.id),
        "ics_sequence": row.ics_sequence,
    }


def _is_violation(err: IntegrityError, name: str) -> bool:
    return name in str(err.orig)


def book_consultation(
    uow: UnitOfWork,
    principal: Principal,
    tutor_id: str,
    starts_at: datetime,
    time_zone: str,
    intake: Mapping[str, Any],
) -> dict[str, Any]:
    """Book the free first consultation in one of the tutor's slots, with the intake form.

    The tutor's row is locked first, so one tutor's bookings are decided one at a time; a
    start someone else holds is :class:`SlotTaken` (409), a start the tutor does not offer at
    all is :class:`SlotNotOffered` (422). The unique booking row is the last line of defence.
    """
    student_zone = domain.zone(time_zone, field="time_zone")
    now = utcnow()
    form = domain.validate_intake(
        intake["exam"],
        intake["exam_date"],
        intake["attempts"],
        intake["weekly_hours"],
        intake["weak_areas"],
        today=now.astimezone(student_zone).date(),
    )
    with uow:
        session = uow.session
        tutor = _tutor(session, tutor_id, lock=True)
        states = session.scalars(
            select(Consultation.status).where(Consultation.student_id == principal.user_id)
        )
        domain.ensure_no_open_consultation(states)
        wanted = _offered_slot(session, tutor, "consultation", starts_at, now)
        row = Consultation(
            id=_new_id(),
            student_id=principal.user_id,
            student_email=principal.email or "",
            student_name=principal.name or "",
            student_time_zone=time_zone,
            tutor_id=tutor.id,
            starts_at=wanted.starts_at,
            ends_at=wanted.ends_at,
            status=domain.ConsultationState.BOOKED.value,
            intake={
                "exam": form.exam,
                "exam_date": form.exam_date.isoformat(),
                "attempts": form.attempts,
                "weekly_hours": form.weekly_hours,
                "weak_areas": list(form.weak_areas),
            },
            ics_sequence=0,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.add(
            TutorBooking(
                tutor_id=tutor.id,
                starts_at=row.starts_at,
                ends_at=row.ends_at,
                kind="consultation",
                ref_id=row.id,
            )
        )
        try:
            session.flush()
        except IntegrityError as err:
            if _is_violation(err, "uq_consultations_one_open_per_student"):
                domain.ensure_no_open_consultation(["booked"])
            if _is_violation(err, "uq_tutor_bookings_tutor_id_starts_at"):
                raise domain.SlotTaken(
                    "Someone has just booked that time", field="starts_at"
                ) from err
            raise
        uow.record("consultation.booked", _meeting_facts(row, tutor))
        view = consultation_view(row, tutor)
        uow.commit()
        return view


def _consultation(
    session: Session, principal: Principal, consultation_id: str, *, lock: bool = False
) -> tuple[Consultation, Tutor]:
    """A consultation its student, its tutor or an admin may see; anyone else is refused."""
    query = select(Consultation).where(Consultation.id == consultation_id)
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise domain.ConsultationNotFound(f"There is no consultation {consultation_id!r}")
    if principal.user_id not in (row.student_id, row.tutor_id) and not principal.has("admin"):
        raise Forbidden("That consultation belongs to someone else.")
    return row, session.get(Tutor, row.tutor_id)


def _as_its_tutor(principal: Principal, row: Consultation) -> None:
    if principal.user_id != row.tutor_id:
        raise Forbidden("Only the consultation's tutor may do that.")


def my_consultations(uow: UnitOfWork, principal: Principal) -> list[dict[str, Any]]:
    with uow:
        rows = uow.session.scalars(
            select(Consultation)
            .where(
                (Consultation.student_id == principal.user_id)
                | (Consultation.tutor_id == principal.user_id)
            )
            .order_by(Consultation.starts_at.desc())
        ).all()
        tutors = {
            t.id: t
            for t in uow.session.scalars(
                select(Tutor).where(Tutor.id.in_({r.tutor_id for r in rows}))
            )
        }
        return [consultation_view(r, tutors[r.tutor_id]) for r in rows]


def get_consultation(uow: UnitOfWork, principal: Principal, consultation_id: str) -> dict:
    with uow:
        return consultation_view(*_consultation(uow.session, principal, consultation_id))


def cancel_consultation(
    uow: UnitOfWork, principal: Principal, consultation_id: str, reason: str
) -> dict[str, Any]:
    """The student or the tutor calls it off; the slot is free again at once."""
    with uow:
        row, tutor = _consultation(uow.session, principal, consultation_id, lock=True)
        if principal.user_id == row.student_id:
            by = "student"
        elif principal.user_id == row.tutor_id:
            by = "tutor"
        else:
            raise Forbidden("Only the student or the tutor may cancel a consultation.")
        row.status = domain.consultation_transition(row.status, "cancel").value
        row.cancelled_by, row.cancel_reason = by, reason
        row.ics_sequence += 1
        row.updated_at = utcnow()
        uow.session.execute(delete(TutorBooking).where(TutorBooking.ref_id == row.id))
        uow.record(
            "consultation.cancelled",
            {**_meeting_facts(row, tutor), "cancelled_by": by, "reason": reason},
        )
        view = consultation_view(row, tutor)
        uow.commit()
        return view


def finish_consultation(
    uow: UnitOfWork, principal: Principal, consultation_id: str, action: str
) -> dict[str, Any]:
    """The tutor marks it held (``complete``) or missed (``mark_no_show``), once it has begun."""
    now = utcnow()
    with uow:
        row, tutor = _consultation(uow.session, principal, consultation_id, lock=True)
        _as_its_tutor(principal, row)
        after = domain.consultation_transition(row.status, action)
        domain.ensure_meeting_started("consultation", action, row.starts_at, now, tutor.time_zone)
        row.status = after.value
        row.updated_at = now
        if action == "complete":
            uow.record(
                "consultation.completed",
                {
                    "consultation_id": row.id,
                    "student_id": row.student_id,
                    "student_email": row.student_email,
                    "student_name": row.student_name,
                    "tutor_id": tutor.id,
                    "tutor_name": tutor.name,
                },
            )
        view = consultation_view(row, tutor)
        uow.commit()
        return view


def _require_completed(row: Consultation, what: str) -> None:
    if row.status != domain.ConsultationState.COMPLETED:
        raise domain.InvalidTransition(
            f"A {row.status} consultation has no {what}; complete it first", field="state"
        )


def record_assessment(
    uow: UnitOfWork, principal: Principal, consultation_id: str, body: Mapping[str, str]
) -> dict[str, Any]:
    """The tutor writes (or revises) what the consultation found."""
    with uow:
        row, tutor = _consultation(uow.session, principal, consultation_id, lock=True)
        _as_its_tutor(principal, row)
        _require_completed(row, "assessment")
        row.strengths, row.weaknesses, row.goals = (
            body["strengths"],
            body["weaknesses"],
            body["goals"],
        )
        row.assessed_at = row.updated_at = utcnow()
        uow.record(
            "assessment.recorded",
            {"consultation_id": row.id, "student_id": row.student_id, "tutor_id": tutor.id},
        )
        view = consultation_view(row, tutor)
        uow.commit()
        return view


# --- study plans ---------------------------------------------------------------------------------


def _publish_version(
    uow: UnitOfWork, plan_row: StudyPlanRow, version: int, plan: study_plan.StudyPlan
) -> StudyPlanVersion:
    consultation = uow.session.get(Consultation, plan_row.consultation_id)
    tutor = uow.session.get(Tutor, plan_row.tutor_id)
    row = StudyPlanVersion(
        plan_id=plan_row.id, version=version, body=study_plan.to_dict(plan), created_at=utcnow()
    )
    uow.session.add(row)
    plan_row.latest_version = version
    plan_row.updated_at = row.created_at
    uow.session.flush()
    uow.record(
        "study_plan.published",
        {
            "plan_id": plan_row.id,
            "version": version,
            "student_id": plan_row.student_id,
            "student_email": consultation.student_email,
            "student_name": consultation.student_name,
            "tutor_name": tutor.name,
            "exam": plan_row.exam,
            "exam_date": plan_row.exam_date,
        },
    )
    return row


def create_plan(
    uow: UnitOfWork,
    principal: Principal,
    consultation_id: str,
    areas: Sequence[str] | None,
    settings: Mapping[str, Any],
) -> dict[str, Any]:
    """Version 1 of the student's plan, generated from the consultation's intake; after a
    failed attempt a reset plan (``use_cases.reset``)."""
    with uow:
        row, tutor = _consultation(uow.session, principal, consultation_id, lock=True)
        _as_its_tutor(principal, row)
        _require_completed(row, "study plan")
        exists = uow.session.scalar(
            select(StudyPlanRow.id).where(StudyPlanRow.consultation_id == row.id)
        )
        if exists:
            raise domain.PlanAlreadyExists(
                "Edit the existing plan instead of making another", field="consultation_id"
            )
        intake = row.intake
        exam_date = date.fromisoformat(intake["exam_date"])
        today = utcnow().astimezone(domain.zone(row.student_time_zone)).date()
        is_reset = reset.is_reset(uow.session, row)
        plan = study_plan.generate_plan(
            today,
            exam_date,
            intake["weekly_hours"],
            list(areas) if areas else list(domain.KNOWN_AREAS),
            intake["weak_areas"],
            reset.plan_settings(settings, is_reset),
            rest_days=reset.rest_days() if is_reset else 0,
        )
        now = utcnow()
        plan_row = StudyPlanRow(
            id=_new_id(),
            consultation_id=row.id,
            student_id=row.student_id,
            tutor_id=tutor.id,
            exam=intake["exam"],
            exam_date=exam_date,
            latest_version=1,
            weekly_hours=intake["weekly_hours"],
            starts_on=plan.days[0].day,
            reset=is_reset,
            targets={},
            created_at=now,
            updated_at=now,
        )
        uow.session.add(plan_row)
        uow.session.flush()
        version = _publish_version(uow, plan_row, 1, plan)
        view = _plan_view(plan_row, version)
        uow.commit()
        return view


def _plan(
    session: Session, principal: Principal, plan_id: str, *, lock: bool = False
) -> tuple[StudyPlanRow, StudyPlanVersion]:
    """The plan and its latest version, refused as every plan use case refuses (one loader:
    ``use_cases.plan_access``)."""
    hand = plan_access.load_plan(session, principal, plan_id, lock=lock)
    return hand.row, hand.version


_latest = plan_access.latest_version


def get_plan(uow: UnitOfWork, principal: Principal, plan_id: str) -> dict[str, Any]:
    with uow:
        return _plan_view(*_plan(uow.session, principal, plan_id))


def my_plans(uow: UnitOfWork, principal: Principal) -> list[dict[str, Any]]:
    with uow:
        rows = uow.session.scalars(
            select(StudyPlanRow)
            .where(StudyPlanRow.student_id == principal.user_id)
            .order_by(StudyPlanRow.created_at.desc())
        ).all()
        return [_plan_view(r, _latest(uow.session, r)) for r in rows]


def edit_plan(
    uow: UnitOfWork, principal: Principal, plan_id: str, changes: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """The tutor changes some days; the result is checked again and published as a new version."""
    by_day: dict[date, plan_edits.DayChange] = {}
    for change in changes:
        if change["day"] in by_day:
            raise study_plan.InvalidStudyPlan(
                f"{change['day'].isoformat()} is changed twice", field="changes"
            )
        blocks = change.get("blocks")
        by_day[change["day"]] = plan_edits.DayChange(
            kind=change.get("kind"),
            blocks=None
            if blocks is None
            else tuple(study_plan.StudyBlock(b["area"], float(b["hours"])) for b in blocks),
        )
    with uow:
        row, latest = _plan(uow.session, principal, plan_id, lock=True)
        if principal.user_id != row.tutor_id:
            raise Forbidden("Only the student's tutor may change the plan.")
        plan = plan_edits.edit_plan(study_plan.from_dict(latest.body), by_day)
        version = _publish_version(uow, row, row.latest_version + 1, plan)
        view = _plan_view(row, version)
        uow.commit()
        return view


# --- calendar feed -------------------------------------------------------------------------------


def calendar_token(uow: UnitOfWork, principal: Principal) -> str:
    """The student's feed secret, made on first ask and then kept (subscriptions last)."""
    with uow:
        row = uow.session.get(CalendarToken, principal.user_id)
        if row is None:
            row = CalendarToken(
                student_id=principal.user_id,
                token=secrets.token_urlsafe(32),
                created_at=utcnow(),
            )
            uow.session.add(row)
        token = row.token
        uow.commit()
        return token


def _day_summary(day: Mapping[str, Any], exam: str) -> str:
    kind = day["kind"]
    if kind == "exam":
        return f"Exam: {exam}"
    if kind == "free":
        return "Free day"
    if kind == "rest":
        return "Rest day"
    blocks = ", ".join(f"{b['area']} {b['hours']:g} h" for b in day["blocks"])
    label = {"checkpoint": "Self-assessment", "review": "Review"}.get(kind, "Study")
    return f"{label}: {blocks}" if kind != "checkpoint" else label


def feed(uow: UnitOfWork, token: str) -> bytes:
    """The student's subscribable calendar: consultations, sessions, the latest plan's days.

    Booked and completed meetings stay in the feed (a calendar keeps what happened);
    cancelled and missed ones drop out, which is how a subscribed calendar learns of it.
    """
    with uow:
        owner = uow.session.scalar(select(CalendarToken).where(CalendarToken.token == token))
        if owner is None:
            raise NotFound("No calendar at that address")
        student_id = owner.student_id
        rows = uow.session.scalars(
            select(Consultation)
            .where(Consultation.student_id == student_id)
            .order_by(Consultation.starts_at)
        ).all()
        tz = rows[-1].student_time_zone if rows else "UTC"
        meetings = []
        for row in rows:
            if row.status not in (
                domain.ConsultationState.BOOKED,
                domain.ConsultationState.COMPLETED,
            ):
                continue
            tutor = uow.session.get(Tutor, row.tutor_id)
            meetings.append(
                calendar.Meeting(
                    uid=calendar.stable_uid("consultation", row.id),
                    sequence=row.ics_sequence,
                    starts_at=row.starts_at,
                    ends_at=row.ends_at,
                    summary=f"Consultation with {tutor.name}",
                    description="Your free initial consultation",
                    organizer_email=tutor.email,
                    organizer_name=tutor.name,
                    attendee_email=row.student_email,
                    attendee_name=row.student_name,
                )
            )
        sessions = uow.session.scalars(
            select(TutoringSession)
            .where(
                TutoringSession.student_id == student_id,
                TutoringSession.status.in_(
                    (domain.SessionState.BOOKED, domain.SessionState.COMPLETED)
                ),
            )
            .order_by(TutoringSession.starts_at)
        ).all()
        for row in sessions:
            tutor = uow.session.get(Tutor, row.tutor_id)
            meetings.append(
                calendar.Meeting(
                    uid=calendar.stable_uid("session", row.id),
                    sequence=row.ics_sequence,
                    starts_at=row.starts_at,
                    ends_at=row.ends_at,
                    summary=f"Tutoring session with {tutor.name}",
                    description="Your 1:1 tutoring session",
                    organizer_email=tutor.email,
                    organizer_name=tutor.name,
                    attendee_email=row.student_email,
                    attendee_name=row.student_name,
                )
            )
        items = []
        plan_row = uow.session.scalar(
            select(StudyPlanRow)
            .where(StudyPlanRow.student_id == student_id)
            .order_by(StudyPlanRow.created_at.desc())
            .limit(1)
        )
        if plan_row is not None:
            body = _latest(uow.session, plan_row).body
            for day in body["days"]:
                items.append(
                    calendar.AllDayItem(
                        uid=calendar.stable_uid("plan-day", f"{plan_row.id}-{day['day']}"),
                        day=date.fromisoformat(day["day"]),
                        summary=_day_summary(day, plan_row.exam),
                    )
                )
    return calendar.feed("Preceptor study plan", meetings, items, tz)


# --- packages and credits ------------------------------------------------------------------------


def purchase_ref(package_id: str) -> str:
    return f"{PURCHASE_PREFIX}{package_id}"


def _package_view(row: Package, tutor: Tutor) -> dict[str, Any]:
    return {
        "id": row.id,
        "status": row.status,
        "student_id": row.student_id,
        "tutor_id": tutor.id,
        "tutor_name": tutor.name,
        "hours": row.hours,
        "amount_minor": row.amount_minor,
        "currency": row.currency,
        "refunded_minor": row.refunded_minor,
        "refunded_hours": row.refunded_hours,
        "created_at": row.created_at,
        "checkout": None,
    }


def _checkout(payments: PaymentsClient, facts: Mapping[str, Any]) -> dict[str, Any]:
    """The package's PaymentIntent: payments makes it once and hands the same one back later."""
    intent = payments.create_intent(
        purchase_kind=PURCHASE_KIND,
        purchase_ref=purchase_ref(facts["id"]),
        user_id=facts["student_id"],
        email=facts["email"],
        name=facts["name"],
        amount_minor=facts["amount_minor"],
        currency=facts["currency"],
        description=f"{facts['hours']} h of tutoring with {facts['tutor_name']}",
    )
    return {k: intent[k] for k in ("client_secret", "publishable_key", "js_url", "payment_id")}


def buy_package(
    uow: UnitOfWork, payments: PaymentsClient, principal: Principal, tutor_id: str, hours: int
) -> dict[str, Any]:
    """Price the package and commit it, THEN ask payments for the checkout.

    Nothing is held while the student pays, so a payments outage only cancels the package
    (503) and the student tries again; the hours arrive with ``payment.succeeded``.
    """
    if not principal.email or not principal.name:
        raise Forbidden("Only a person's own account can buy a package.")
    now = utcnow()
    with uow:
        tutor = _tutor(uow.session, tutor_id)
        row = Package(
            id=_new_id(),
            student_id=principal.user_id,
            student_email=principal.email,
            student_name=principal.name,
            tutor_id=tutor.id,
            hours=hours,
            amount_minor=domain.package_price(tutor.session_rate_minor, hours),
            currency=tutor.currency,
            status="pending_payment",
            refunded_minor=0,
            refunded_hours=0,
            created_at=now,
            updated_at=now,
        )
        uow.session.add(row)
        uow.commit()
        view = _package_view(row, tutor)
        facts = {"tutor_name": tutor.name, **view, "email": row.student_email}
        facts["name"] = row.student_name
    try:
        view["checkout"] = _checkout(payments, facts)
    except PaymentsUnavailable:
        with uow:
            uow.session.execute(
                update(Package)
                .where(Package.id == view["id"], Package.status == "pending_payment")
                .values(status="cancelled", updated_at=utcnow())
            )
            uow.commit()
        raise
    return view


def _owned_package(session: Session, principal: Principal, package_id: str) -> Package:
    row = session.get(Package, package_id)
    if row is None:
        raise domain.PackageNotFound(f"There is no package {package_id!r}")
    if row.student_id != principal.user_id and not principal.has("admin"):
        raise Forbidden("That package belongs to someone else.")
    return row


def get_package(
    uow: UnitOfWork, payments: PaymentsClient, principal: Principal, package_id: str
) -> dict[str, Any]:
    """One package; a pending one carries its (same) checkout again so the student can pay."""
    with uow:
        row = _owned_package(uow.session, principal, package_id)
        tutor = uow.session.get(Tutor, row.tutor_id)
        view = _package_view(row, tutor)
        facts = {**view, "email": row.student_email, "name": row.student_name}
    if view["status"] == "pending_payment":
        # Without payments the page says "try again"; the package itself stays readable.
        with suppress(PaymentsUnavailable):
            view["checkout"] = _checkout(payments, facts)
    return view


def my_packages(uow: UnitOfWork, principal: Principal) -> list[dict[str, Any]]:
    with uow:
        rows = uow.session.execute(
            select(Package, Tutor)
            .join(Tutor, Tutor.id == Package.tutor_id)
            .where(Package.student_id == principal.user_id)
            .order_by(Package.created_at.desc())
        ).all()
        return [_package_view(p, t) for p, t in rows]


def _ledger(session: Session, student_id: str, tutor_id: str) -> Credits:
    """The student's hours with the tutor, locked (made empty on first purchase)."""
    query = select(Credits).where(Credits.student_id == student_id, Credits.tutor_id == tutor_id)
    row = session.scalar(query.with_for_update())
    if row is None:
        row = Credits(
            student_id=student_id,
            tutor_id=tutor_id,
            purchased=0,
            used=0,
            refunded=0,
            updated_at=utcnow(),
        )
        session.add(row)
        session.flush()
    return row


def _hours_available(row: Credits) -> int:
    return row.purchased - row.used - row.refunded


def my_credits(uow: UnitOfWork, principal: Principal) -> list[dict[str, Any]]:
    with uow:
        rows = uow.session.execute(
            select(Credits, Tutor)
            .join(Tutor, Tutor.id == Credits.tutor_id)
            .where(Credits.student_id == principal.user_id)
            .order_by(Tutor.name)
        ).all()
        return [
            {"tutor_id": t.id, "tutor_name": t.name, "hours_available": _hours_available(c)}
            for c, t in rows
        ]


def _paid_package(uow: UnitOfWork, data: Mapping[str, Any]) -> Package | None:
    """The package a payments event is about (locked), or None if it is not ours."""
    if data["purchase_kind"] != PURCHASE_KIND:
        return None
    ref = data["purchase_ref"]
    package_id = ref.removeprefix(PURCHASE_PREFIX) if ref.startswith(PURCHASE_PREFIX) else None
    row = None
    if package_id:
        row = uow.session.scalar(select(Package).where(Package.id == package_id).with_for_update())
    if row is None:
        log.warning("payment for an unknown package", extra={"ref": ref})
    return row


def payment_succeeded(uow: UnitOfWork, data: Mapping[str, Any]) -> None:
    """The package is paid: its hours go on the student's balance with that tutor."""
    with uow:
        row = _paid_package(uow, data)
        if row is None:
            return
        if row.status in ("paid", "refunded"):
            if row.payment_id != data["payment_id"]:
                log.warning("a second payment for a paid package", extra={"package": row.id})
            uow.commit()
            return
        now = utcnow()
        row.status, row.payment_id, row.updated_at = "paid", data["payment_id"], now
        ledger = _ledger(uow.session, row.student_id, row.tutor_id)
        ledger.purchased += row.hours
        ledger.updated_at = now
        tutor = uow.session.get(Tutor, row.tutor_id)
        uow.record(
            "package.purchased",
            {
                "package_id": row.id,
                "student_id": row.student_id,
                "student_email": row.student_email,
                "student_name": row.student_name,
                "tutor_id": tutor.id,
                "tutor_name": tutor.name,
                "hours": row.hours,
                "amount_minor": row.amount_minor,
                "currency": row.currency,
            },
        )
        uow.commit()


def payment_refunded(uow: UnitOfWork, data: Mapping[str, Any]) -> None:
    """Money for a package went back: the hours it covers leave the balance, unused ones only."""
    with uow:
        row = _paid_package(uow, data)
        if row is None or row.status not in ("paid", "refunded"):
            uow.commit()
            return
        now = utcnow()
        row.refunded_minor += data["amount_minor"]
        covered = domain.hours_refunded(row.hours, row.amount_minor, row.refunded_minor)
        newly = covered - row.refunded_hours
        row.refunded_hours = covered
        if covered >= row.hours:
            row.status = "refunded"
        row.updated_at = now
        if newly > 0:
            ledger = _ledger(uow.session, row.student_id, row.tutor_id)
            before = _hours_available(ledger)
            after = domain.credits_after_refund(
                ledger.purchased, ledger.used, ledger.refunded + newly
            )
            ledger.refunded += before - after
            ledger.updated_at = now
        uow.commit()


# --- sessions ------------------------------------------------------------------------------------


def _session_facts(row: TutoringSession, tutor: Tutor) -> dict[str, Any]:
    return {
        "session_id": row.id,
        "student_id": row.student_id,
        "student_email": row.student_email,
        "student_name": row.student_name,
        "student_timezone": row.student_time_zone,
        "tutor_id": tutor.id,
        "tutor_email": tutor.email,
        "tutor_name": tutor.name,
        "tutor_timezone": tutor.time_zone,
        "starts_at": row.starts_at,
        "ends_at": row.ends_at,
        "ics_uid": calendar.stable_uid("session", row.id),
        "ics_sequence": row.ics_sequence,
    }


def session_view(row: TutoringSession, tutor: Tutor) -> dict[str, Any]:
    return {
        "id": row.id,
        "status": row.status,
        "student_id": row.student_id,
        "student_name": row.student_name,
        "student_email": row.student_email,
        "time_zone": row.student_time_zone,
        "tutor_id": tutor.id,
        "tutor_name": tutor.name,
        "tutor_time_zone": tutor.time_zone,
        "starts_at": row.starts_at,
        "ends_at": row.ends_at,
        "reschedules": row.reschedules,
        "reschedules_left": max(0, domain.DEFAULT_RESCHEDULE_LIMIT - row.reschedules),
        "can_cancel_until": domain.free_cancellation_until(row.starts_at),
        "cancelled_by": row.cancelled_by,
        "cancel_reason": row.cancel_reason,
        "credit_returned": row.credit_returned,
        "lesson_note": row.lesson_note,
        "completed_at": row.completed_at,
        "created_at": row.created_at,
    }


def _return_hour(session: Session, row: TutoringSession) -> None:
    ledger = _ledger(session, row.student_id, row.tutor_id)
    ledger.used -= 1
    ledger.updated_at = utcnow()


def book_session(
    uow: UnitOfWork, principal: Principal, tutor_id: str, starts_at: datetime, time_zone: str
) -> dict[str, Any]:
    """Book a paid session with one hour of credit, after a completed consultation.

    The tutor's row is locked first (one tutor's bookings are decided one at a time) and the
    hour is drawn by a conditional ``UPDATE`` in the same transaction, so neither the slot
    nor the last hour can be taken twice.
    """
    domain.zone(time_zone, field="time_zone")
    now = utcnow()
    with uow:
        session = uow.session
        tutor = _tutor(session, tutor_id, lock=True)
        consulted = session.scalar(
            select(Consultation.id).where(
                Consultation.student_id == principal.user_id,
                Consultation.tutor_id == tutor.id,
                Consultation.status == domain.ConsultationState.COMPLETED,
            )
        )
        if consulted is None:
            raise domain.ConsultationFirst(
                "Sessions follow a completed consultation with the same tutor", field="tutor_id"
            )
        drawn = session.execute(
            update(Credits)
            .where(
                Credits.student_id == principal.user_id,
                Credits.tutor_id == tutor.id,
                Credits.purchased - Credits.used - Credits.refunded > 0,
            )
            .values(used=Credits.used + 1, updated_at=now)
        )
        if drawn.rowcount == 0:
            raise domain.NoCredit("Buy a package of hours with this tutor first", field="tutor_id")
        wanted = _offered_slot(session, tutor, "session", starts_at, now)
        row = TutoringSession(
            id=_new_id(),
            student_id=principal.user_id,
            student_email=principal.email or "",
            student_name=principal.name or "",
            student_time_zone=time_zone,
            tutor_id=tutor.id,
            starts_at=wanted.starts_at,
            ends_at=wanted.ends_at,
            status=domain.SessionState.BOOKED.value,
            ics_sequence=0,
            reschedules=0,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.add(
            TutorBooking(
                tutor_id=tutor.id,
                starts_at=row.starts_at,
                ends_at=row.ends_at,
                kind="session",
                ref_id=row.id,
            )
        )
        _flush_booking(session)
        uow.record("session.booked", {**_session_facts(row, tutor), "rescheduled": False})
        view = session_view(row, tutor)
        uow.commit()
        return view


def _flush_booking(session: Session) -> None:
    try:
        session.flush()
    except IntegrityError as err:
        if _is_violation(err, "uq_tutor_bookings_tutor_id_starts_at"):
            raise domain.SlotTaken("Someone has just booked that time", field="starts_at") from err
        raise


def _session(
    session: Session, principal: Principal, session_id: str, *, lock: bool = False
) -> tuple[TutoringSession, Tutor]:
    """A session its student or its tutor may see; anyone else is refused."""
    query = select(TutoringSession).where(TutoringSession.id == session_id)
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise domain.SessionNotFound(f"There is no session {session_id!r}")
    if principal.user_id not in (row.student_id, row.tutor_id):
        raise Forbidden("That session belongs to someone else.")
    return row, session.get(Tutor, row.tutor_id)


def my_sessions(uow: UnitOfWork, principal: Principal) -> list[dict[str, Any]]:
    with uow:
        rows = uow.session.execute(
            select(TutoringSession, Tutor)
            .join(Tutor, Tutor.id == TutoringSession.tutor_id)
            .where(
                (TutoringSession.student_id == principal.user_id)
                | (TutoringSession.tutor_id == principal.user_id)
            )
            .order_by(TutoringSession.starts_at.desc())
        ).all()
        return [session_view(s, t) for s, t in rows]


def get_session(uow: UnitOfWork, principal: Principal, session_id: str) -> dict[str, Any]:
    with uow:
        return session_view(*_session(uow.session, principal, session_id))


def cancel_session(
    uow: UnitOfWork, principal: Principal, session_id: str, reason: str
) -> dict[str, Any]:
    """The student (before the cut-off, or forfeiting the hour) or the tutor calls it off."""
    now = utcnow()
    with uow:
        row, tutor = _session(uow.session, principal, session_id, lock=True)
        by = "student" if principal.user_id == row.student_id else "tutor"
        domain.ensure_session_booked(row.status)
        outcome = domain.cancellation_outcome(row.starts_at, now, by)
        if outcome.credit_returned:
            _return_hour(uow.session, row)
        row.status = domain.SessionState.CANCELLED.value
        row.cancelled_by, row.cancel_reason = by, reason
        row.credit_returned = outcome.credit_returned
        row.ics_sequence += 1
        row.updated_at = now
        uow.session.execute(delete(TutorBooking).where(TutorBooking.ref_id == row.id))
        uow.record(
            "session.cancelled",
            {
                **_session_facts(row, tutor),
                "cancelled_by": by,
                "credit_returned": outcome.credit_returned,
                "reason": reason,
            },
        )
        view = session_view(row, tutor)
        uow.commit()
        return view


def reschedule_session(
    uow: UnitOfWork, principal: Principal, session_id: str, starts_at: datetime
) -> dict[str, Any]:
    """The student moves the session to another offered slot: same booking row, same UID."""
    now = utcnow()
    with uow:
        row, _ = _session(uow.session, principal, session_id, lock=True)
        if principal.user_id != row.student_id:
            raise Forbidden("Only the session's student may reschedule it.")
        domain.ensure_session_booked(row.status)
        domain.check_reschedule(row.reschedules, row.starts_at, now)
        tutor = _tutor(uow.session, row.tutor_id, lock=True)
        wanted = _offered_slot(uow.session, tutor, "session", starts_at, now, ignore_ref=row.id)
        uow.session.execute(
            update(TutorBooking)
            .where(TutorBooking.ref_id == row.id)
            .values(starts_at=wanted.starts_at, ends_at=wanted.ends_at)
        )
        row.starts_at, row.ends_at = wanted.starts_at, wanted.ends_at
        row.reschedules += 1
        row.ics_sequence += 1
        row.updated_at = now
        _flush_booking(uow.session)
        uow.record("session.booked", {**_session_facts(row, tutor), "rescheduled": True})
        view = session_view(row, tutor)
        uow.commit()
        return view


def complete_session(
    uow: UnitOfWork, principal: Principal, session_id: str, lesson_note: str
) -> dict[str, Any]:
    """The tutor held the session and writes the lesson note the student is emailed."""
    now = utcnow()
    with uow:
        row, tutor = _session(uow.session, principal, session_id, lock=True)
        if principal.user_id != row.tutor_id:
            raise Forbidden("Only the session's tutor may complete it.")
        domain.ensure_session_booked(row.status)
        domain.ensure_session_started(row.starts_at, now, tutor.time_zone)
        row.status = domain.SessionState.COMPLETED.value
        row.lesson_note = lesson_note
        row.completed_at = row.updated_at = now
        uow.record(
            "session.completed",
            {
                "session_id": row.id,
                "student_id": row.student_id,
                "student_email": row.student_email,
                "student_name": row.student_name,
                "tutor_id": tutor.id,
                "tutor_name": tutor.name,
                "starts_at": row.starts_at,
                "lesson_note": lesson_note,
            },
        )
        view = session_view(row, tutor)
        uow.commit()
        return view


# --- reminders -----------------------------------------------------------------------------------


def send_reminders(uow: UnitOfWork, now: datetime | None = None) -> int:
    """Publish ``session.reminder_due`` for booked sessions starting within the next 24 hours.

    Each reminder is marked on its session (``reminder_sent_for = starts_at``) in the same
    transaction as its event, so a restarted or second worker never sends it again, and a
    moved session gets one for its new time. Rows another worker holds are skipped.
    """
    now = now or utcnow()
    with uow:
        rows = uow.session.scalars(
            select(TutoringSession)
            .where(
                TutoringSession.status == domain.SessionState.BOOKED,
                TutoringSession.starts_at > now,
                TutoringSession.starts_at <= now + timedelta(hours=REMINDER_LEAD_HOURS),
                or_(
                    TutoringSession.reminder_sent_for.is_(None),
                    TutoringSession.reminder_sent_for != TutoringSession.starts_at,
                ),
            )
            .order_by(TutoringSession.starts_at)
            .limit(500)
            .with_for_update(skip_locked=True)
        ).all()
        sent = 0
        for row in rows:
            if not domain.reminder_due(row.starts_at, row.reminder_sent_for, now):
                continue
            tutor = uow.session.get(Tutor, row.tutor_id)
            uow.record("session.reminder_due", _session_facts(row, tutor))
            row.reminder_sent_for = row.starts_at
            sent += 1
        uow.commit()
        return sent
