"""Proposals: a new version of a study plan, offered and changing nothing until accepted.

A student or their tutor asks for a ``rebalance`` after a result (the hours from tomorrow
shared out again by the latest per-area scores); the worker offers a ``recovery`` after missed
days (:mod:`services.tutoring.use_cases.notices`). Either way the plan is the tutor's to
change, so the tutor accepts (the student only when the plan has no tutor any more), and the
proposal is judged against the version it was made from: once the plan has moved on, it is
stale and must be proposed again rather than silently overwrite the newer version.

Concurrency: every change locks the plan row first (``load_plan(lock=True)``), so two
proposals, or two accepts, are decided one after the other. Behind that, the partial unique
index ``uq_plan_proposals_one_open_per_kind`` keeps at most one open proposal per plan and
kind whatever happens.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.tutoring import plan_revision, study_plan
from services.tutoring.events import StudyPlanRebalanced, StudyPlanRevisionProposed
from services.tutoring.loading import (
    PlanInHand,
    load_plan,
    require_student_or_tutor,
)
from services.tutoring.models import AssessmentResult, PlanProposal
from services.tutoring.queries import plan_view
from services.tutoring.use_cases import day_checks
from services.tutoring.use_cases.study_plans import publish_version
from shared.auth import Principal
from shared.db import UnitOfWork, utcnow
from shared.errors import Conflict, DomainError, Forbidden, NotFound

PROPOSED = "proposed"


class NothingToRebalance(DomainError):
    title = "There is nothing to rebalance on"


class ProposalNotFound(NotFound):
    title = "No such proposal"


class ProposalClosed(Conflict):
    title = "The proposal is no longer open"


class ProposalDoesNotFit(Conflict):
    title = "The proposal does not fit before the exam"


class PlanChangedSince(Conflict):
    title = "The plan changed since the proposal was made"


def accepter_role(plan: PlanInHand) -> str:
    """Who decides: the plan's tutor; the student only when the plan has no tutor any more
    (``tutor_id`` names no tutor: all plans made so far have one)."""
    return "tutor" if plan.tutor is not None else "student"


def _accepter_id(plan: PlanInHand, role: str) -> str:
    return plan.row.tutor_id if role == "tutor" else plan.row.student_id


def latest_area_scores(db: Session, plan_id: str, areas: set[str]) -> dict[str, float]:
    """Each plan area's newest per-area score (by the day taken, then by when recorded):
    a rebalance answers the student's standing now, not their average."""
    results = db.scalars(
        select(AssessmentResult)
        .where(AssessmentResult.plan_id == plan_id)
        .order_by(AssessmentResult.taken_on.desc(), AssessmentResult.created_at.desc())
    )
    scores: dict[str, float] = {}
    for result in results:
        for area, score in (result.area_scores or {}).items():
            if area in areas and area not in scores and score is not None:
                scores[area] = float(score)
    return scores


def record_proposal(
    uow: UnitOfWork,
    plan: PlanInHand,
    kind: str,
    revision: plan_revision.Revision,
    start: date,
    proposed_by: str,
    proposed_role: str,
    **summary: Any,
) -> PlanProposal:
    """Store a proposal (the plan row is locked) and say so on the bus.

    The older open proposal of the same kind is superseded by one ``UPDATE`` in the same
    transaction as the insert: two open proposals of one kind never disagree, and the partial
    unique index refuses a second open one should anything get past the plan's lock.
    """
    now = utcnow()
    uow.session.execute(
        update(PlanProposal)
        .where(
            PlanProposal.plan_id == plan.row.id,
            PlanProposal.kind == kind,
            PlanProposal.status == PROPOSED,
        )
        .values(status="superseded", decided_at=now)
    )
    role = accepter_role(plan)
    row = PlanProposal(
        id=str(uuid.uuid4()),
        plan_id=plan.row.id,
        kind=kind,
        base_version=plan.row.latest_version,
        status=PROPOSED,
        fits=revision.fits,
        body=study_plan.to_dict(revision.plan) if revision.fits and revision.plan else None,
        summary={
            "message": revision.message,
            "hours_before": dict(revision.hours_before),
            "hours_after": dict(revision.hours_after),
            "suggested_exam_date": _iso(revision.suggested_exam_date),
            "start": start.isoformat(),
            "accepter_role": role,
            **summary,
        },
        proposed_by=proposed_by,
        proposed_role=proposed_role,
        created_at=now,
    )
    uow.session.add(row)
    try:
        uow.session.flush()
    except IntegrityError as err:
        raise ProposalClosed(
            "Another proposal was made at the same moment: reload and look at it.", field="kind"
        ) from err
    uow.record(
        plan.event(
            StudyPlanRevisionProposed,
            proposal_id=row.id,
            kind=kind,
            base_version=row.base_version,
            fits=row.fits,
            proposed_role=proposed_role,
            accepter_role=role,
            message=revision.message,
            hours_before=dict(revision.hours_before),
            hours_after=dict(revision.hours_after),
            suggested_exam_date=revision.suggested_exam_date,
        )
    )
    return row


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def proposal_view(row: PlanProposal, plan: PlanInHand, principal: Principal) -> dict[str, Any]:
    summary = row.summary or {}
    role = summary.get("accepter_role", "tutor")
    start = summary.get("start", "")
    can_accept = (
        row.status == PROPOSED
        and row.fits
        and row.base_version == plan.row.latest_version
        and principal.user_id == _accepter_id(plan, role)
    )
    suggested = summary.get("suggested_exam_date")
    return {
        "id": row.id,
        "plan_id": row.plan_id,
        "kind": row.kind,
        "status": row.status,
        "base_version": row.base_version,
        "fits": row.fits,
        "message": summary.get("message", ""),
        "hours_before": summary.get("hours_before", {}),
        "hours_after": summary.get("hours_after", {}),
        "suggested_exam_date": date.fromisoformat(suggested) if suggested else None,
        "proposed_role": row.proposed_role,
        "accepter_role": role,
        "can_accept": can_accept,
        "created_at": row.created_at,
        "decided_at": row.decided_at,
        "days": [d for d in (row.body or {}).get("days", []) if d["day"] >= start],
    }


def _proposal(db: Session, plan: PlanInHand, proposal_id: str) -> PlanProposal:
    row = db.scalar(
        select(PlanProposal).where(
            PlanProposal.id == proposal_id, PlanProposal.plan_id == plan.row.id
        )
    )
    if row is None:
        raise ProposalNotFound(f"This plan has no proposal {proposal_id!r}")
    return row


def _ensure_open(row: PlanProposal) -> None:
    if row.status != PROPOSED:
        raise ProposalClosed(f"This proposal was {row.status} already.", field="proposal_id")


# --- use cases -----------------------------------------------------------------------------------


def propose_rebalance(
    uow: UnitOfWork, principal: Principal, plan_id: str, kind: str
) -> dict[str, Any]:
    """Share the hours from tomorrow out again after the latest per-area scores."""
    with uow:
        plan = load_plan(uow.session, principal, plan_id, lock=True)
        require_student_or_tutor(principal, plan, "propose a new version")
        current = plan.plan
        start = plan.student_today() + timedelta(days=1)
        if start >= current.exam_date:
            raise NothingToRebalance(
                "The exam is tomorrow or past: there are no days left to rebalance.",
                field="kind",
            )
        scores = latest_area_scores(uow.session, plan.row.id, set(current.hours_by_area))
        if not scores:
            raise NothingToRebalance(
                "Record a result with per-area scores first: a rebalance weighs the areas by them.",
                field="kind",
            )
        revision = plan_revision.rebalance(current, start, scores)
        row = record_proposal(
            uow, plan, kind, revision, start, principal.user_id, plan.role_of(principal)
        )
        view = proposal_view(row, plan, principal)
        uow.commit()
        return view


def list_proposals(uow: UnitOfWork, principal: Principal, plan_id: str) -> list[dict[str, Any]]:
    """The plan's proposals, newest first, each saying whether the caller may accept it."""
    with uow:
        plan = load_plan(uow.session, principal, plan_id)
        rows = uow.session.scalars(
            select(PlanProposal)
            .where(PlanProposal.plan_id == plan.row.id)
            .order_by(PlanProposal.created_at.desc(), PlanProposal.id)
        )
        return [proposal_view(r, plan, principal) for r in rows]


def accept(uow: UnitOfWork, principal: Principal, plan_id: str, proposal_id: str) -> dict:
    """Publish the proposed plan as the next version (``study_plan.published``, as any
    version) and say it was a rebalance (``study_plan.rebalanced``); returns the new plan."""
    with uow:
        plan = load_plan(uow.session, principal, plan_id, lock=True)
        row = _proposal(uow.session, plan, proposal_id)
        role = (row.summary or {}).get("accepter_role", "tutor")
        if principal.user_id != _accepter_id(plan, role):
            raise Forbidden(f"Only the plan's {role} may accept a proposal.")
        _ensure_open(row)
        if not row.fits or row.body is None:
            raise ProposalDoesNotFit(
                "This proposal does not fit before the exam; it cannot become the plan.",
                field="proposal_id",
            )
        if plan.row.latest_version != row.base_version:
            raise PlanChangedSince(
                f"The plan changed since (version {plan.row.latest_version}, the proposal was "
                f"made from {row.base_version}): propose again.",
                field="proposal_id",
            )
        now = utcnow()
        row.status, row.decided_by, row.decided_at = "accepted", principal.user_id, now
        others = list(
            uow.session.scalars(
                select(PlanProposal).where(
                    PlanProposal.plan_id == plan.row.id,
                    PlanProposal.status == PROPOSED,
                    PlanProposal.id != row.id,
                )
            )
        )
        from_version = plan.row.latest_version
        version = publish_version(uow, plan.row, from_version + 1, study_plan.from_dict(row.body))
        uow.record(
            StudyPlanRebalanced(
                proposal_id=row.id,
                plan_id=plan.row.id,
                kind=row.kind,
                student_id=plan.row.student_id,
                tutor_id=plan.row.tutor_id,
                from_version=from_version,
                to_version=version.version,
                accepted_role=role,
                hours_before=row.summary.get("hours_before", {}),
                hours_after=row.summary.get("hours_after", {}),
            )
        )
        # What else is open was made from the version this one replaces and can never be
        # accepted as it is; but it is another kind of change (missed hours to make up, or
        # scores to weigh by) that still holds, so it is made again from the new version in
        # this transaction rather than dropped.
        remake_open(uow, dataclasses.replace(plan, version=version), others)
        view = plan_view(plan.row, version)
        uow.commit()
        return view


def remake_open(uow: UnitOfWork, plan: PlanInHand, stale: list[PlanProposal]) -> None:
    """Make each stale open proposal again from ``plan`` (just published), same kind, same
    proposer; ``record_proposal`` supersedes the stale one by the new one.

    A recovery keeps the same missed hours (its ``missed_by_day``) and ``through`` day, so
    the worker does not count those days again; a rebalance uses the latest scores again.
    """
    today = plan.student_today()
    start = today + timedelta(days=1)
    for old in stale:
        summary = dict(old.summary or {})
        if start >= plan.plan.exam_date:
            revision = None
        elif old.kind == "recovery":
            missed = _missed_by_day(uow.session, plan, summary)
            revision = plan_revision.recover(plan.plan, today, missed, weekly_hours(plan))
        else:
            scores = latest_area_scores(uow.session, plan.row.id, set(plan.plan.hours_by_area))
            revision = plan_revision.rebalance(plan.plan, start, scores) if scores else None
        if revision is None:
            old.status, old.decided_at = "superseded", utcnow()
            continue
        extra = {
            k: summary[k] for k in ("through", "missed_hours", "missed_by_day") if k in summary
        }
        record_proposal(
            uow,
            plan,
            old.kind,
            revision,
            start,
            old.proposed_by,
            old.proposed_role,
            remade_from=old.id,
            **extra,
        )


def _missed_by_day(db: Session, plan: PlanInHand, summary: dict) -> dict[date, float]:
    """The recovery's missed hours per day: as stored, or (older proposals) counted again
    from the checks of the seven days up to its ``through`` day."""
    if "missed_by_day" in summary:
        return {date.fromisoformat(d): float(h) for d, h in summary["missed_by_day"].items()}
    if not summary.get("through"):
        return {}
    through = date.fromisoformat(summary["through"])
    first = through - timedelta(days=6)
    checks = day_checks.checks_of(db, plan.row.id, first, through)
    return day_checks.adherence(plan.plan, checks, first, through).missed_by_day


def weekly_hours(plan: PlanInHand) -> int:
    """The student's weekly hours: on the plan row, or (older plans) in the intake."""
    if plan.row.weekly_hours is not None:
        return plan.row.weekly_hours
    return int(plan.consultation.intake.get("weekly_hours", 0))


def decline(uow: UnitOfWork, principal: Principal, plan_id: str, proposal_id: str) -> dict:
    """The student or the tutor says no (the proposer may also take theirs back)."""
    with uow:
        plan = load_plan(uow.session, principal, plan_id, lock=True)
        require_student_or_tutor(principal, plan, "decline a proposal")
        row = _proposal(uow.session, plan, proposal_id)
        _ensure_open(row)
        row.status, row.decided_by, row.decided_at = "declined", principal.user_id, utcnow()
        uow.session.flush()
        view = proposal_view(row, plan, principal)
        uow.commit()
        return view
