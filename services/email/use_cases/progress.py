"""The assessment → plan loop's events become emails (issue 12).

Tutoring decides *when* (its worker sends each digest once a week and each notice once, with
once-only keys); this module decides what each person reads. Like every email, each is queued
once per event and recipient kind (``(event_id, kind)`` is unique), so a redelivered event
mails nobody twice, and the delivery loop sends it.

- The weekly digests (student and tutor) are opt-out (opt_outs.py): one-click unsubscribe, and
  an address that left the kind gets nothing, decided in the transaction that would queue it.
- The notices (a checkpoint without a result, a proposed plan revision, a readiness warning)
  are transactional: they tell someone something about their own plan that needs them.

Events carry dates (a plan's days are dates in the student's zone), shown as they are; the one
moment, when the digest's check links expire, is shown on the reader's wall clock.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from services.email import compose, opt_outs
from services.email.domain import EXAM_NAMES, Kind
from services.email.messages import render
from services.tutoring.events import (
    DayToCheck,
    LatestResult,
    PlanResultMissing,
    ReadinessWarning,
    ScoreFacts,
    SendProgressDigest,
    SendTutorDigest,
    StudentWeek,
    StudyPlanRevisionProposed,
)
from shared import clock, config
from shared.bus.handlers import handles
from shared.db import UnitOfWork, utcnow

AREA_NAMES = {"hematology-oncology": "Hematology & oncology"}
"""Area slugs that ``Renal``-style capitalising would spell wrong."""
DAY_KIND_NAMES = {
    "study": "Study day",
    "review": "Review day",
    "checkpoint": "Checkpoint (practice test)",
}
PROPOSAL_NAMES = {"rebalance": "rebalanced version", "recovery": "catch-up version"}
MINUS = "\u2212"
"""The typographic minus: screen readers say "minus", where a hyphen may be skipped."""


# --- the weekly digests (opt-out) ------------------------------------------------------------


@handles(SendProgressDigest)
def progress_digest(uow: UnitOfWork, event: SendProgressDigest) -> None:
    """The student's week: hours, the days still to check with one link per answer, the latest
    result, the next checkpoint, and the way to their progress page."""
    zone = ZoneInfo(compose.zone(event.student_timezone))
    planned, done = event.planned_hours, event.done_hours
    context = {
        "name": event.student_name,
        "headline": f"{_number(done)} of {_hours(planned)} done" if planned else "a rest week",
        "week_start": compose.day(event.week_start),
        "week_end": compose.day(event.week_end),
        "planned_hours": _hours(planned),
        "done_hours": _hours(done),
        "missed_hours": _hours(event.missed_hours),
        "to_check": [_day_to_check(day) for day in event.to_check],
        "links_expire": _moment(event.links_expire_at, zone),
        "latest_result": _latest(event.latest_result),
        "next_checkpoint": _weekday(event.next_checkpoint) if event.next_checkpoint else None,
        "exam_date": compose.day(event.exam_date),
        "progress_url": f"{config.public_url()}/tutoring/progress",
        "plan_url": _plan_url(),
        "unsubscribe_url": opt_outs.unsubscribe_url(Kind.PROGRESS_DIGEST, event.student_email),
    }
    _queue_unless_opted_out(uow, Kind.PROGRESS_DIGEST, event.student_email, context)


@handles(SendTutorDigest)
def tutor_digest(uow: UnitOfWork, event: SendTutorDigest) -> None:
    """One email per tutor with a row per student, those who need a look first. A week with
    no student to report (the worker sends none) would be an empty email: none is queued."""
    if not event.students:
        return
    students = sorted(event.students, key=_needs_attention_first)
    context = {
        "name": event.tutor_name,
        "week_start": compose.day(event.week_start),
        "week_end": compose.day(event.week_end),
        "students": [_student_week(s) for s in students],
        "dashboard_url": f"{config.public_url()}/tutor",
        "unsubscribe_url": opt_outs.unsubscribe_url(Kind.TUTOR_PROGRESS_DIGEST, event.tutor_email),
    }
    _queue_unless_opted_out(uow, Kind.TUTOR_PROGRESS_DIGEST, event.tutor_email, context)


# --- notices (transactional) -----------------------------------------------------------------


@handles(PlanResultMissing)
def result_missing(uow: UnitOfWork, event: PlanResultMissing) -> None:
    """A checkpoint passed without a result: ask the student to record it (the tutor sees it
    on their dashboard, so only the student is mailed)."""
    context = {
        "name": event.student_name,
        "tutor_name": event.tutor_name,
        "checkpoint_day": _weekday(event.checkpoint_day),
        "record_url": f"{config.public_url()}/tutoring/plan/results/new",
        "plan_url": _plan_url(),
    }
    compose.queue_once(uow, Kind.RESULT_MISSING, event.student_email, context)


@handles(StudyPlanRevisionProposed)
def revision_proposed(uow: UnitOfWork, event: StudyPlanRevisionProposed) -> None:
    """A proposed plan version. The student hears of a catch-up (recovery) plan, which the
    worker proposes for them, and of any proposal that waits on them; the tutor of one that
    waits on them. No one is mailed about their own proposal: they are on the page."""
    proposer, accepter = event.proposed_role, event.accepter_role
    facts = _proposal(event)
    emails: dict[Kind, tuple[str, Any]] = {}
    if event.kind == "recovery" or (accepter == "student" and proposer != "student"):
        student = {**facts, "name": event.student_name, "plan_url": _plan_url()}
        emails[Kind.REVISION_PROPOSED_STUDENT] = (
            event.student_email,
            render(Kind.REVISION_PROPOSED_STUDENT, student),
        )
    if accepter == "tutor" and proposer != "tutor":
        tutor = {
            **facts,
            "name": event.tutor_name,
            "progress_url": _tutor_progress_url(event.plan_id),
        }
        emails[Kind.REVISION_PROPOSED_TUTOR] = (
            event.tutor_email,
            render(Kind.REVISION_PROPOSED_TUTOR, tutor),
        )
    if emails:
        compose.queue_to_each(uow, emails)


@handles(ReadinessWarning)
def readiness_warning(uow: UnitOfWork, event: ReadinessWarning) -> None:
    """Two results below passing with the exam near: the student and the tutor each get the
    options (a later exam date that fits, a deferral, a session), in one commit."""
    facts = {
        "student_name": event.student_name,
        "tutor_name": event.tutor_name,
        "exam": EXAM_NAMES.get(event.exam, event.exam),
        "exam_date": compose.day(event.exam_date),
        "weeks_left": _weeks(event.weeks_left),
        "latest": [_score_facts(s) for s in event.latest],
        "later_exam_date": (_weekday(event.later_exam_date) if event.later_exam_date else None),
    }
    student = {
        **facts,
        "name": event.student_name,
        "enrollments_url": f"{config.public_url()}/my/enrollments",
        "book_url": compose.tutoring_url(),
        "progress_url": f"{config.public_url()}/tutoring/progress",
    }
    tutor = {
        **facts,
        "name": event.tutor_name,
        "progress_url": _tutor_progress_url(event.plan_id),
    }
    compose.queue_to_each(
        uow,
        {
            Kind.READINESS_WARNING_STUDENT: (
                event.student_email,
                render(Kind.READINESS_WARNING_STUDENT, student),
            ),
            Kind.READINESS_WARNING_TUTOR: (
                event.tutor_email,
                render(Kind.READINESS_WARNING_TUTOR, tutor),
            ),
        },
    )


# --- helpers ---------------------------------------------------------------------------------


def _queue_unless_opted_out(uow: UnitOfWork, kind: Kind, to: str, context: dict[str, Any]) -> None:
    """Queue an opt-out kind unless the address left it: the check and the insert are one
    transaction, and opting out withdraws what is still queued (opt_outs.opt_out), so only a
    click in the instant between the two can let one more digest through."""
    email = render(kind, context)
    with uow:
        db = uow.session
        if not opt_outs.opted_out(db, kind, to):
            compose.queue_rows(
                db, [compose.delivery_row(kind, to, email, uow.handling.id, utcnow())]
            )
        uow.commit()  # also when nothing is queued: the event was handled, by mailing no one


def _day_to_check(day: DayToCheck) -> dict[str, Any]:
    link = f"{config.public_url()}/plan/check"
    return {
        "day": _weekday(day.day),
        "kind": DAY_KIND_NAMES.get(day.kind, day.kind.replace("_", " ").capitalize()),
        "hours": _hours(day.hours),
        "done_url": f"{link}/{day.done}",
        "partial_url": f"{link}/{day.partial}",
        "missed_url": f"{link}/{day.missed}",
    }


def _latest(result: LatestResult | None) -> dict[str, str] | None:
    if result is None:
        return None
    return {
        "form_name": result.form_name,
        "score": _score(result.score, result.scale),
        "taken_on": compose.day(result.taken_on),
    }


def _needs_attention_first(student: StudentWeek) -> tuple:
    return (
        not student.readiness_warning,
        -student.results_missing,
        -student.missed_hours,
        student.student_name.casefold(),
    )


def _student_week(student: StudentWeek) -> dict[str, Any]:
    planned = student.planned_hours
    return {
        "name": student.student_name,
        "hours": f"{_number(student.done_hours)} of {_number(planned)}" if planned else "rest",
        "missed": _number(student.missed_hours),
        "results_missing": student.results_missing,
        "readiness_warning": student.readiness_warning,
        "latest_result": _latest(student.latest_result),
        "progress_url": _tutor_progress_url(student.plan_id),
    }


def _proposal(event: StudyPlanRevisionProposed) -> dict[str, Any]:
    """What both people read of a proposal: who proposed what, and the hours per area."""
    proposed_by = {
        "system": "Preceptor",
        "student": event.student_name,
        "tutor": event.tutor_name,
    }[event.proposed_role]
    name = PROPOSAL_NAMES[event.kind]
    before, after = event.hours_before, event.hours_after
    areas = sorted(set(before) | set(after), key=_area)
    return {
        "student_name": event.student_name,
        "tutor_name": event.tutor_name,
        "recovery": event.kind == "recovery",
        "proposal_name": name,
        "proposal_title": name[0].upper() + name[1:],
        "proposed_by": proposed_by,
        "by_system": event.proposed_role == "system",
        "tutor_accepts": event.accepter_role == "tutor",
        "base_version": event.base_version,
        "fits": event.fits,
        "message": event.message.strip(),
        "suggested_exam_date": (
            _weekday(event.suggested_exam_date) if event.suggested_exam_date else None
        ),
        "areas": [
            {
                "area": _area(area),
                "before": _number(before.get(area, 0.0)),
                "after": _number(after.get(area, 0.0)),
                "change": _change(after.get(area, 0.0) - before.get(area, 0.0)),
            }
            for area in areas
        ]
        if event.fits
        else [],
    }


def _score_facts(facts: ScoreFacts) -> dict[str, str]:
    passing = facts.passing_score
    return {
        "form_name": facts.form_name,
        "score": _score(facts.score, facts.scale),
        "passing": _score(passing, facts.scale) if passing is not None else "none",
        "taken_on": compose.day(facts.taken_on),
    }


def _score(score: float, scale: str) -> str:
    """``72%``, ``231`` or ``Pass``/``Fail``: a score as the form reports it."""
    if scale == "pass_fail":
        return "Pass" if score >= 1 else "Fail"
    if scale == "percent":
        return f"{_number(score)}%"
    return _number(score)


def _area(slug: str) -> str:
    return AREA_NAMES.get(slug, slug.replace("-", " ").replace("_", " ").capitalize())


def _number(value: float) -> str:
    """``12``, ``2.5``: hours come in half-hour units, so no trailing ``.0``."""
    return f"{round(value, 2):g}"


def _hours(value: float) -> str:
    return "1 hour" if value == 1 else f"{_number(value)} hours"


def _change(delta: float) -> str:
    if abs(delta) < 0.005:
        return "no change"
    return f"+{_number(delta)} h" if delta > 0 else f"{MINUS}{_number(-delta)} h"


def _weeks(weeks: int) -> str:
    if weeks == 0:
        return "less than a week"
    return "1 week" if weeks == 1 else f"{weeks} weeks"


def _weekday(day: date) -> str:
    """``Monday 7 December 2026``: a plan's days are read by their weekday."""
    return f"{day:%A} {compose.day(day)}"


def _moment(moment: datetime, zone: ZoneInfo) -> str:
    """``Monday 7 December 2026, 07:00 New York time (EST)``: the reader's wall clock, named as
    every page and email names it (shared/clock.py)."""
    return clock.format_moment_long(moment, zone.key)


def _plan_url() -> str:
    return f"{config.public_url()}/tutoring/plan"


def _tutor_progress_url(plan_id: str) -> str:
    return f"{config.public_url()}/tutor/plans/{plan_id}/progress"
