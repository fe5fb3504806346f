"""The tutoring worker's once-only notices: a checkpoint without a result, a recovery proposal
after missed days, and the weekly progress digests for students and tutors.

Every job runs hourly, on every worker, and may run twice at once or again after a restart.
Each notice therefore claims its key in ``progress_notices`` (``result_missing:<plan>:<day>``,
``recovery:<plan>:<ISO week>``, ``digest:<student>:<ISO week>``,
``tutor_digest:<tutor>:<ISO week>``) in the same transaction that records its event: the key
is the table's primary key, so of two workers claiming it one inserts it and the other finds
it taken and skips, and a rolled-back transaction leaves the key free for the next run. Each
plan or person gets a transaction of its own, so one cannot hold back the others.

Each job takes ``now`` so the tests drive the clock instead of sleeping. Days are the
reader's: a student's days in the student's zone, a tutor's digest day in the tutor's.

Over 400 lines on purpose: the three jobs are one mechanism (claim a key, record the
event, in one transaction per plan or person) and share its helpers (``claim``, ``iso_week``,
``local_now``, the plan loader and the result facts); read together, the once-only rule is in
one place. If the digests grow, they are the part to move out (``# --- digests``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.tutoring import domain, plan_revision, progress, study_plan
from services.tutoring.events import (
    DayToCheck,
    LatestResult,
    PlanResultMissing,
    SendProgressDigest,
    SendTutorDigest,
    StudentWeek,
)
from services.tutoring.loading import PlanInHand, in_hand
from services.tutoring.models import (
    AssessmentForm,
    AssessmentResult,
    PlanProposal,
    ProgressNotice,
    StudyPlanRow,
    Tutor,
)
from services.tutoring.use_cases import day_checks, proposals
from shared import config
from shared.db import UnitOfWork, insert_with_conflicts, utcnow

log = logging.getLogger(__name__)

RESULT_MISSING_LOOKBACK_DAYS = 14
"""An older checkpoint (a worker off for weeks, a plan made long ago) is not worth a notice."""
DIGEST_HOUR = 7
"""Digests go out from 07:00 in the reader's zone on ``PROGRESS_DIGEST_DAY``."""
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
RESULT_BEFORE_DAYS = 3
RESULT_AFTER_DAYS = 1
"""A result taken from three days before a checkpoint to the day after it counts for it."""


def claim(db: Session, key: str, now: datetime) -> bool:
    """Take a notice's key in the current transaction; False when it is someone else's.

    One ``INSERT ... ON CONFLICT DO NOTHING`` on the primary key: a second worker claiming
    the same key waits for the first's transaction and then inserts nothing (the race is the
    database's to settle, not a look-up before the insert).
    """
    table = ProgressNotice.__table__
    inserted = db.execute(
        insert_with_conflicts(db, table)
        .values(key=key, created_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(table.c.key)
    ).first()
    return inserted is not None


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def local_now(zone_name: str, now: datetime) -> datetime:
    return now.astimezone(domain.zone(zone_name))


def digest_weekday() -> int:
    """``PROGRESS_DIGEST_DAY`` as Monday = 0 ... Sunday = 6."""
    name = (config.env("PROGRESS_DIGEST_DAY", "monday") or "monday").strip().lower()
    if name not in WEEKDAYS:
        raise ValueError(f"PROGRESS_DIGEST_DAY must be a weekday name, got {name!r}")
    return WEEKDAYS.index(name)


def _plans(uow: UnitOfWork, now: datetime) -> list[str]:
    """Ids of the plans whose exam is not long past (newest first); each job then looks at
    each plan in its student's zone."""
    with uow:
        return list(
            uow.session.scalars(
                select(StudyPlanRow.id)
                .where(StudyPlanRow.exam_date >= (now - timedelta(days=2)).date())
                .order_by(StudyPlanRow.created_at.desc(), StudyPlanRow.id)
            )
        )


def _load(uow: UnitOfWork, plan_id: str, *, lock: bool = False) -> PlanInHand | None:
    """A plan in the job's open transaction (None if it went meanwhile)."""
    query = select(StudyPlanRow).where(StudyPlanRow.id == plan_id)
    row = uow.session.scalar(query.with_for_update() if lock else query)
    return in_hand(uow.session, row) if row is not None else None


# --- results -------------------------------------------------------------------------------------


def results_of(db: Session, plan_id: str) -> list[tuple[AssessmentResult, AssessmentForm]]:
    """The plan's results with their forms, newest first."""
    return list(
        db.execute(
            select(AssessmentResult, AssessmentForm)
            .join(AssessmentForm, AssessmentForm.id == AssessmentResult.form_id)
            .where(AssessmentResult.plan_id == plan_id)
            .order_by(AssessmentResult.taken_on.desc(), AssessmentResult.created_at.desc())
        ).all()
    )


def missing_checkpoints(
    plan: study_plan.StudyPlan, taken: Sequence[date], today: date, since: date | None = None
) -> list[date]:
    """Checkpoint days that ended more than a day ago with no result taken near them."""
    return [
        d.day
        for d in plan.days
        if d.kind == "checkpoint"
        and d.day <= today - timedelta(days=2)
        and (since is None or d.day >= since)
        and not any(
            d.day - timedelta(days=RESULT_BEFORE_DAYS)
            <= t
            <= d.day + timedelta(days=RESULT_AFTER_DAYS)
            for t in taken
        )
    ]


def latest_result(
    results: Sequence[tuple[AssessmentResult, AssessmentForm]],
) -> LatestResult | None:
    """The newest of ``results`` (newest first), as the digests name it."""
    if not results:
        return None
    result, form = results[0]
    return LatestResult(
        form_name=form.name, scale=form.scale, score=result.score, taken_on=result.taken_on
    )


def readiness_warning(
    plan: PlanInHand, results: Sequence[tuple[AssessmentResult, AssessmentForm]], today: date
) -> bool:
    latest = [(r.score, f.passing_score) for r, f in results]
    weeks = config.env_int("READINESS_WEEKS", 6)
    return progress.readiness(latest, plan.row.exam_date, today, weeks)


# --- result missing ------------------------------------------------------------------------------


def send_result_missing(uow: UnitOfWork, now: datetime | None = None) -> int:
    """``plan.result_missing`` once per checkpoint that passed without a result."""
    now = now or utcnow()
    sent = 0
    for plan_id in _plans(uow, now):
        with uow:
            plan = _load(uow, plan_id)
            if plan is None:
                continue
            today = local_now(plan.student_zone, now).date()
            since = today - timedelta(days=RESULT_MISSING_LOOKBACK_DAYS)
            taken = [r.taken_on for r, _ in results_of(uow.session, plan.row.id)]
            for day in missing_checkpoints(plan.plan, taken, today, since):
                if claim(uow.session, f"result_missing:{plan.row.id}:{day.isoformat()}", now):
                    uow.record(plan.event(PlanResultMissing, checkpoint_day=day))
                    sent += 1
            uow.commit()
    return sent


# --- recovery ------------------------------------------------------------------------------------


def _last_recovery(db: Session, plan_id: str) -> PlanProposal | None:
    return db.scalar(
        select(PlanProposal)
        .where(PlanProposal.plan_id == plan_id, PlanProposal.kind == "recovery")
        .order_by(PlanProposal.created_at.desc())
        .limit(1)
    )


def send_recoveries(uow: UnitOfWork, now: datetime | None = None) -> int:
    """A ``recovery`` proposal for a plan with ``RECOVERY_MISSED_HOURS`` or more missed in the
    seven days before today, unless one is open already; at most one per plan and ISO week.

    Days a previous recovery counted are not counted again (its ``through`` day), so a
    student is never asked to make up the same day twice. The plan row is locked like any
    proposal's, so this and a student's rebalance are decided one after the other.
    """
    now = now or utcnow()
    threshold = config.env_int("RECOVERY_MISSED_HOURS", 6)
    sent = 0
    for plan_id in _plans(uow, now):
        with uow:
            plan = _load(uow, plan_id, lock=True)
            if plan is not None and _propose_recovery(uow, plan, now, threshold):
                uow.commit()
                sent += 1
    return sent


def _propose_recovery(uow: UnitOfWork, plan: PlanInHand, now: datetime, threshold: int) -> bool:
    today = local_now(plan.student_zone, now).date()
    if plan.row.exam_date <= today + timedelta(days=1):
        return False  # no day left to catch up on
    last = _last_recovery(uow.session, plan.row.id)
    if last is not None and last.status == proposals.PROPOSED:
        return False
    first, through = today - timedelta(days=7), today - timedelta(days=1)
    if last is not None and (last.summary or {}).get("through"):
        first = max(first, date.fromisoformat(last.summary["through"]) + timedelta(days=1))
    current = plan.plan
    checks = day_checks.checks_of(uow.session, plan.row.id, first, through)
    missed = day_checks.adherence(current, checks, first, through)
    if missed.missed_hours < threshold:
        return False
    if not claim(uow.session, f"recovery:{plan.row.id}:{iso_week(today)}", now):
        return False
    revision = plan_revision.recover(
        current, today, missed.missed_by_day, proposals.weekly_hours(plan)
    )
    proposals.record_proposal(
        uow,
        plan,
        "recovery",
        revision,
        today + timedelta(days=1),
        "system",
        "system",
        through=through.isoformat(),
        missed_hours=missed.missed_hours,
        missed_by_day={d.isoformat(): h for d, h in missed.missed_by_day.items()},
    )
    return True


# --- digests -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Week:
    """The seven days before the reader's ``today``."""

    start: date
    end: date

    @classmethod
    def before(cls, today: date) -> Week:
        return cls(today - timedelta(days=7), today - timedelta(days=1))


def _digest_time(zone_name: str, now: datetime) -> date | None:
    """The reader's today if it is their digest day and past 07:00 there, else None."""
    local = local_now(zone_name, now)
    if local.weekday() != digest_weekday() or local.hour < DIGEST_HOUR:
        return None
    return local.date()


def _to_check(
    plan: PlanInHand, days: Sequence[study_plan.PlanDay], now: datetime
) -> list[DayToCheck]:
    """Each unchecked day with one signed link token per answer (dated ``now``)."""

    def token(day: date, status: str) -> str:
        return day_checks.check_token(plan.row.id, day, status, plan.row.student_id, issued_at=now)

    return [
        DayToCheck(
            day=d.day,
            kind=d.kind,
            hours=d.hours,
            done=token(d.day, "done"),
            partial=token(d.day, "partial"),
            missed=token(d.day, "missed"),
        )
        for d in days
    ]


def _next_checkpoint(plan: study_plan.StudyPlan, today: date) -> date | None:
    return next((d.day for d in plan.days if d.kind == "checkpoint" and d.day >= today), None)


def _student_digest(
    uow: UnitOfWork, plan: PlanInHand, today: date, now: datetime
) -> SendProgressDigest:
    current = plan.plan
    week = Week.before(today)
    checks = day_checks.checks_of(uow.session, plan.row.id, week.start, week.end)
    kept = day_checks.adherence(current, checks, week.start, week.end)
    return SendProgressDigest(
        plan_id=plan.row.id,
        student_id=plan.row.student_id,
        student_email=plan.consultation.student_email,
        student_name=plan.consultation.student_name,
        student_timezone=plan.student_zone,
        week_start=week.start,
        week_end=week.end,
        planned_hours=kept.planned_hours,
        done_hours=kept.done_hours,
        missed_hours=kept.missed_hours,
        to_check=_to_check(plan, kept.unchecked, now),
        latest_result=latest_result(results_of(uow.session, plan.row.id)),
        next_checkpoint=_next_checkpoint(current, today),
        exam_date=plan.row.exam_date,
        links_expire_at=now + day_checks.check_link_max_age(),
    )


def _student_week(uow: UnitOfWork, plan: PlanInHand, today: date) -> StudentWeek:
    """One row of a tutor's digest (the student's days, read on the tutor's digest day)."""
    current = plan.plan
    week = Week.before(today)
    checks = day_checks.checks_of(uow.session, plan.row.id, week.start, week.end)
    kept = day_checks.adherence(current, checks, week.start, week.end)
    results = results_of(uow.session, plan.row.id)
    return StudentWeek(
        plan_id=plan.row.id,
        student_name=plan.consultation.student_name,
        planned_hours=kept.planned_hours,
        done_hours=kept.done_hours,
        missed_hours=kept.missed_hours,
        results_missing=len(missing_checkpoints(current, [r.taken_on for r, _ in results], today)),
        readiness_warning=readiness_warning(plan, results, today),
        latest_result=latest_result(results),
    )


def send_digests(uow: UnitOfWork, now: datetime | None = None) -> int:
    """``progress.digest_due`` per student with a plan whose exam is still ahead (their newest
    such plan), and ``progress.tutor_digest_due`` per tutor of such students, each once per
    ISO week, on ``PROGRESS_DIGEST_DAY`` from 07:00 in the reader's zone."""
    now = now or utcnow()
    sent = 0
    seen: set[str] = set()
    tutors: dict[str, list[str]] = {}
    for plan_id in _plans(uow, now):
        with uow:
            plan = _load(uow, plan_id)
            if plan is None or plan.row.exam_date < local_now(plan.student_zone, now).date():
                continue
            tutors.setdefault(plan.row.tutor_id, []).append(plan.row.id)
            if plan.row.student_id in seen:
                continue  # one digest per student: their newest plan with the exam ahead
            seen.add(plan.row.student_id)
            today = _digest_time(plan.student_zone, now)
            if today is None:
                continue
            if claim(uow.session, f"digest:{plan.row.student_id}:{iso_week(today)}", now):
                uow.record(_student_digest(uow, plan, today, now))
                uow.commit()
                sent += 1
    for tutor_id, plan_ids in tutors.items():
        sent += _send_tutor_digest(uow, tutor_id, plan_ids, now)
    return sent


def _send_tutor_digest(uow: UnitOfWork, tutor_id: str, plan_ids: list[str], now: datetime) -> int:
    with uow:
        tutor = uow.session.get(Tutor, tutor_id)
        if tutor is None:
            return 0
        today = _digest_time(tutor.time_zone, now)
        if today is None:
            return 0
        if not claim(uow.session, f"tutor_digest:{tutor.id}:{iso_week(today)}", now):
            return 0
        week = Week.before(today)
        students = [
            _student_week(uow, in_hand(uow.session, row), today)
            for row in uow.session.scalars(
                select(StudyPlanRow)
                .where(StudyPlanRow.id.in_(plan_ids))
                .order_by(StudyPlanRow.created_at)
            )
        ]
        uow.record(
            SendTutorDigest(
                tutor_id=tutor.id,
                tutor_email=tutor.email,
                tutor_name=tutor.name,
                tutor_timezone=tutor.time_zone,
                week_start=week.start,
                week_end=week.end,
                students=sorted(students, key=lambda s: s.student_name.casefold()),
            )
        )
        uow.commit()
        return 1
