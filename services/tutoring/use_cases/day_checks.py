"""Day checks: the student says what became of a plan day (done, partly done or missed).

The checks are the loop's only measure of adherence: the recovery job proposes a lighter
catch-up from the hours marked missed, and the weekly digest reports them. A student checks a
day on the plan page (``via`` ``page``) or with one click in the weekly email (``via``
``email``): that link carries a signed, expiring token instead of a session, because a click
in a mail client has no bearer token. Only the token's owner could have received it, so the
token alone is the authority for that one answer on that one day.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from services.tutoring import study_plan
from services.tutoring.events import DAY_STATUSES, PlanDayChecked
from services.tutoring.labels import day_text
from services.tutoring.loading import (
    PlanInHand,
    in_hand,
    load_plan,
    require_student,
)
from services.tutoring.models import PlanDayCheck, StudyPlanRow
from shared import config
from shared.auth import Principal
from shared.db import UnitOfWork, insert_with_conflicts, utcnow
from shared.errors import DomainError, NotFound
from shared.link_signing import link_serializer

CHECK_LINK_SALT = "plan-day-check"
CHECKABLE_KINDS = ("study", "review", "checkpoint")
"""Days with work on them; free, rest and exam days have nothing to check."""


class UncheckableDay(DomainError):
    title = "That day cannot be checked"


class CheckLinkNotFound(NotFound):
    title = "This check-in link is not valid"


class CheckLinkExpired(DomainError):
    status = 410
    title = "This check-in link has expired"


# --- the signed links ----------------------------------------------------------------------------


def check_link_max_age() -> timedelta:
    """How long a link in the weekly email stays valid (``CHECK_LINK_DAYS``)."""
    return timedelta(days=config.env_int("CHECK_LINK_DAYS", 14))


def _signer(issued_at: datetime | None = None) -> URLSafeTimedSerializer:
    # SERVICE_SECRET, not SECRET_KEY: the token is made and read by tutoring only (the site
    # passes it through), and no other service's links can be mistaken for it (own salt).
    return link_serializer(
        CHECK_LINK_SALT,
        keys=[config.service_secret()],
        issued_at=issued_at.timestamp() if issued_at is not None else None,
    )


def check_token(
    plan_id: str, day: date, status: str, student_id: str, *, issued_at: datetime | None = None
) -> str:
    """The token of a one-click link answering ``status`` for ``day``; ``issued_at`` (the
    digest job's clock, or a test's) dates it, so its expiry follows the clock that made it."""
    data = {"p": plan_id, "d": day.isoformat(), "s": status, "u": student_id}
    return _signer(issued_at).dumps(data)


@dataclass(frozen=True)
class CheckLink:
    plan_id: str
    day: date
    status: str
    student_id: str


def read_check_token(token: str) -> CheckLink:
    """What a token says; 410 when it was ours but is too old, 404 for anything else."""
    try:
        data = _signer().loads(token, max_age=int(check_link_max_age().total_seconds()))
        link = CheckLink(str(data["p"]), date.fromisoformat(data["d"]), data["s"], str(data["u"]))
    except SignatureExpired as exc:
        raise CheckLinkExpired(
            "This link has expired: check the day on your study plan page instead.",
            field="token",
        ) from exc
    except (BadSignature, KeyError, TypeError, ValueError) as exc:
        raise CheckLinkNotFound(
            "This link is not one we sent (it may be cut short): check the day on your study "
            "plan page instead.",
            field="token",
        ) from exc
    if link.status not in DAY_STATUSES:
        raise CheckLinkNotFound("This link is not one we sent.", field="token")
    return link


# --- the rules -----------------------------------------------------------------------------------


def parse_day(text: str) -> date:
    """The ``<day>`` of a path; 422 naming ``day`` when it is not a date."""
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise UncheckableDay("Give the day as YYYY-MM-DD.", field="day") from exc


def checkable_day(plan: study_plan.StudyPlan, on: date, today: date) -> study_plan.PlanDay:
    """The plan's day ``on`` if it may be checked ``today`` (in the student's zone): a working
    day of the plan that has begun. A day not yet lived cannot be done or missed."""
    try:
        entry = plan.day(on)
    except KeyError:
        raise UncheckableDay(
            f"{day_text(on, year=True)} is not a day of this plan.", field="day"
        ) from None
    if on > today:
        raise UncheckableDay(
            f"{day_text(on)} has not come yet (today is {day_text(today)} where you are); "
            "check a day on it or after it.",
            field="day",
        )
    if entry.kind not in CHECKABLE_KINDS:
        raise UncheckableDay(
            f"{day_text(on)} is a {entry.kind} day: there is no work to check.", field="day"
        )
    return entry


def check_view(row: PlanDayCheck) -> dict[str, Any]:
    return {
        "day": row.day,
        "status": row.status,
        "planned_hours": row.planned_hours,
        "checked_at": row.checked_at,
    }


def _save_check(
    uow: UnitOfWork, plan: PlanInHand, on: date, status: str, by: str, via: str
) -> dict[str, Any]:
    """Store the answer (replacing any earlier one) and say so on the bus.

    One ``INSERT ... ON CONFLICT DO UPDATE``: two answers for the same day at once (the page
    and an email link) leave exactly one row, the later one, and never a duplicate-key error.
    """
    entry = checkable_day(plan.plan, on, plan.student_today())
    values = {
        "status": status,
        "planned_hours": entry.hours,
        "checked_by": by,
        "checked_at": utcnow(),
    }
    uow.session.execute(
        insert_with_conflicts(uow.session, PlanDayCheck.__table__)
        .values(plan_id=plan.row.id, day=on, **values)
        .on_conflict_do_update(index_elements=["plan_id", "day"], set_=values)
    )
    uow.record(
        PlanDayChecked(
            plan_id=plan.row.id,
            student_id=plan.row.student_id,
            day=on,
            status=status,
            planned_hours=entry.hours,
            via=via,
        )
    )
    return {"day": on, "status": status, "planned_hours": entry.hours}


# --- use cases -----------------------------------------------------------------------------------


def check_day(
    uow: UnitOfWork, principal: Principal, plan_id: str, day: str, status: str
) -> dict[str, Any]:
    """The student marks a day of their plan on the plan page."""
    with uow:
        plan = load_plan(uow.session, principal, plan_id)
        require_student(principal, plan, "check its days")
        view = _save_check(uow, plan, parse_day(day), status, principal.user_id, "page")
        uow.commit()
        return view


def clear_day(uow: UnitOfWork, principal: Principal, plan_id: str, day: str) -> None:
    """The student takes an answer back (a day checked by mistake); nothing to clear is fine."""
    with uow:
        plan = load_plan(uow.session, principal, plan_id)
        require_student(principal, plan, "check its days")
        on = parse_day(day)
        uow.session.execute(
            delete(PlanDayCheck).where(PlanDayCheck.plan_id == plan.row.id, PlanDayCheck.day == on)
        )
        uow.commit()


def list_checks(uow: UnitOfWork, principal: Principal, plan_id: str) -> list[dict[str, Any]]:
    """Every answer the student gave on this plan, by day."""
    with uow:
        plan = load_plan(uow.session, principal, plan_id)
        return [check_view(r) for r in checks_of(uow.session, plan.row.id)]


def _linked_plan(uow: UnitOfWork, link: CheckLink) -> PlanInHand:
    """The plan a link names, if it is still the student's: a link outliving its plan is
    as good as forged (404), never a 500."""
    row = uow.session.get(StudyPlanRow, link.plan_id)
    if row is None or row.student_id != link.student_id:
        raise CheckLinkNotFound("This link's study plan is gone.", field="token")
    return in_hand(uow.session, row)


def _link_view(db: Session, plan: PlanInHand, link: CheckLink) -> dict[str, Any]:
    current = db.get(PlanDayCheck, (plan.row.id, link.day))
    return {
        "plan_id": plan.row.id,
        "day": link.day,
        "status": link.status,
        "student_name": plan.consultation.student_name,
        "current_status": current.status if current else None,
    }


def open_check_link(uow: UnitOfWork, token: str) -> dict[str, Any]:
    """What a link would record, changing nothing: mail scanners follow links (GET), so the
    site shows this and asks the student to confirm."""
    link = read_check_token(token)
    with uow:
        plan = _linked_plan(uow, link)
        checkable_day(plan.plan, link.day, plan.student_today())
        return _link_view(uow.session, plan, link)


def use_check_link(uow: UnitOfWork, token: str) -> dict[str, Any]:
    """The student confirmed a link from the weekly email: record its answer."""
    link = read_check_token(token)
    with uow:
        plan = _linked_plan(uow, link)
        _save_check(uow, plan, link.day, link.status, link.student_id, "email")
        view = _link_view(uow.session, plan, link)
        uow.commit()
        return view


# --- adherence (for the jobs) --------------------------------------------------------------------


def checks_of(
    db: Session, plan_id: str, first: date | None = None, last: date | None = None
) -> list[PlanDayCheck]:
    query = select(PlanDayCheck).where(PlanDayCheck.plan_id == plan_id)
    if first is not None:
        query = query.where(PlanDayCheck.day >= first)
    if last is not None:
        query = query.where(PlanDayCheck.day <= last)
    return list(db.scalars(query.order_by(PlanDayCheck.day)))


@dataclass(frozen=True)
class Adherence:
    """The days from ``first`` to ``last`` as planned and as checked.

    A partly done day counts half done, half missed: the student said some of it happened,
    and the recovery adds back what did not.
    """

    planned_hours: float
    done_hours: float
    missed_hours: float
    missed_by_day: dict[date, float]
    unchecked: tuple[study_plan.PlanDay, ...]


def adherence(
    plan: study_plan.StudyPlan, checks: Iterable[PlanDayCheck], first: date, last: date
) -> Adherence:
    by_day = {c.day: c for c in checks}
    planned = done = missed = 0.0
    missed_by_day: dict[date, float] = {}
    unchecked: list[study_plan.PlanDay] = []
    for entry in _working_days(plan.days, first, last):
        check = by_day.get(entry.day)
        # The hours the student answered about, even if a later version moved them.
        hours = check.planned_hours if check else entry.hours
        planned += hours
        if check is None:
            unchecked.append(entry)
            continue
        share = {"done": 0.0, "partial": 0.5, "missed": 1.0}[check.status]
        done += hours * (1 - share)
        if share:
            missed += hours * share
            missed_by_day[entry.day] = hours * share
    return Adherence(planned, done, missed, missed_by_day, tuple(unchecked))


def _working_days(
    days: Sequence[study_plan.PlanDay], first: date, last: date
) -> list[study_plan.PlanDay]:
    return [d for d in days if first <= d.day <= last and d.kind in CHECKABLE_KINDS and d.hours > 0]
