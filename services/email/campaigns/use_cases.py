"""Use cases of campaigns: write, preview, test, schedule or send now, pause, resume, cancel.

Starting to send (now, or when a scheduled campaign is due) creates one ``campaign_recipients``
row per person of the audience with a single INSERT ... SELECT (unique per campaign and
address); the worker's send loop (campaigns/sending.py) mails them. The figures of a campaign
are counted from those rows and from the suppression list, so they cannot drift.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, literal, select, update
from sqlalchemy.orm import Session

from services.email import audiences, compose
from services.email.campaigns import domain as campaign_domain
from services.email.campaigns import render as campaign_render
from services.email.campaigns.domain import (
    AudienceKind,
    CampaignNotFound,
    CampaignStatus,
    RecipientStatus,
    SuppressionReason,
)
from services.email.domain import Kind
from services.email.events import CampaignSent
from services.email.messages import Rendered
from services.email.models import Campaign, CampaignRecipient, Suppression
from shared import config
from shared.db import UnitOfWork, insert_with_conflicts, utcnow

FIGURES = ("queued", "sent", "failed", "suppressed")


# --- reading -------------------------------------------------------------------------------


def _figures(session: Session, campaign_ids: list[str]) -> dict[str, dict[str, int]]:
    figures = {
        cid: {"recipients": 0, **dict.fromkeys(FIGURES, 0), "unsubscribed": 0}
        for cid in campaign_ids
    }
    if not campaign_ids:
        return figures
    for cid, status, count in session.execute(
        select(CampaignRecipient.campaign_id, CampaignRecipient.status, func.count())
        .where(CampaignRecipient.campaign_id.in_(campaign_ids))
        .group_by(CampaignRecipient.campaign_id, CampaignRecipient.status)
    ):
        figures[cid]["recipients"] += count
        if status in FIGURES:
            figures[cid][status] = count
    for cid, count in session.execute(
        select(Suppression.campaign_id, func.count())
        .where(
            Suppression.campaign_id.in_(campaign_ids),
            Suppression.reason == SuppressionReason.UNSUBSCRIBED.value,
        )
        .group_by(Suppression.campaign_id)
    ):
        figures[cid]["unsubscribed"] = count
    return figures


def _views(session: Session, campaigns: list[Campaign]) -> list[dict[str, Any]]:
    figures = _figures(session, [c.id for c in campaigns])
    names, titles = audiences.topic_names(session), audiences.courses(session)

    def label(key: str) -> str:
        try:
            audience = campaign_domain.parse_audience(key)
        except campaign_domain.UnknownAudience:
            return key
        return campaign_domain.audience_label(audience, names, titles)

    return [
        {
            "id": c.id,
            "subject": c.subject,
            "body_markdown": c.body_markdown,
            "audience": c.audience,
            "audience_label": label(c.audience),
            "status": c.status,
            "send_at": c.send_at,
            "started_at": c.started_at,
            "finished_at": c.finished_at,
            "created_at": c.created_at,
            "created_by": c.created_by,
            "figures": figures[c.id],
        }
        for c in campaigns
    ]


def _campaign(session: Session, campaign_id: str, *, lock: bool = False) -> Campaign:
    campaign = session.get(Campaign, campaign_id, with_for_update=lock)
    if campaign is None:
        raise CampaignNotFound()
    return campaign


def list_campaigns(uow: UnitOfWork) -> list[dict[str, Any]]:
    with uow:
        session = uow.session
        rows = list(
            session.scalars(select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id))
        )
        return _views(session, rows)


def get(uow: UnitOfWork, campaign_id: str) -> dict[str, Any]:
    with uow:
        return _views(uow.session, [_campaign(uow.session, campaign_id)])[0]


def recipients(
    uow: UnitOfWork, campaign_id: str, status: str | None, limit: int
) -> list[dict[str, Any]]:
    query: Select = (
        select(CampaignRecipient)
        .where(CampaignRecipient.campaign_id == campaign_id)
        .order_by(CampaignRecipient.id)
        .limit(limit)
    )
    if status:
        query = query.where(CampaignRecipient.status == status)
    with uow:
        _campaign(uow.session, campaign_id)
        return [
            {"email": r.email, "status": r.status, "sent_at": r.sent_at, "error": r.error}
            for r in uow.session.scalars(query)
        ]


def list_audiences(uow: UnitOfWork) -> list[dict[str, Any]]:
    with uow:
        return audiences.all_audiences(uow.session)


def list_topics(uow: UnitOfWork) -> list[dict[str, Any]]:
    with uow:
        return audiences.topics_with_counts(uow.session)


# --- writing -------------------------------------------------------------------------------


def _check(session: Session, subject: str, body_markdown: str, audience: str) -> str:
    campaign_domain.check_merge_fields(subject=subject, body_markdown=body_markdown)
    return audiences.check_audience(session, audience).key


def create(
    uow: UnitOfWork, created_by: str, subject: str, body_markdown: str, audience: str
) -> dict[str, Any]:
    with uow:
        session = uow.session
        key = _check(session, subject, body_markdown, audience)
        campaign = Campaign(
            id=str(uuid.uuid4()),
            subject=subject.strip(),
            body_markdown=body_markdown,
            audience=key,
            status=CampaignStatus.DRAFT.value,
            created_at=utcnow(),
            created_by=created_by,
        )
        session.add(campaign)
        session.flush()
        view = _views(session, [campaign])[0]
        uow.commit()
    return view


def edit(
    uow: UnitOfWork, campaign_id: str, subject: str, body_markdown: str, audience: str
) -> dict[str, Any]:
    with uow:
        session = uow.session
        campaign = _campaign(session, campaign_id, lock=True)
        campaign_domain.check_editable(CampaignStatus(campaign.status))
        campaign.audience = _check(session, subject, body_markdown, audience)
        campaign.subject = subject.strip()
        campaign.body_markdown = body_markdown
        session.flush()
        view = _views(session, [campaign])[0]
        uow.commit()
    return view


def _sample(session: Session, campaign: Campaign) -> tuple[str | None, str | None, str | None]:
    """The first person of the audience, or a sample "Ada" (taking the course's title)."""
    audience = campaign_domain.parse_audience(campaign.audience)
    first = audiences.first_member(session, audience)
    if first is not None:
        return first
    course = None
    if audience.kind is AudienceKind.ACTIVE_STUDENTS:
        course = audiences.courses(session).get(audience.slug, audience.slug)
    return None, campaign_domain.SAMPLE_FIRST_NAME, course


def preview(uow: UnitOfWork, campaign_id: str) -> dict[str, Any]:
    with uow:
        session = uow.session
        campaign = _campaign(session, campaign_id)
        email, name, course = _sample(session, campaign)
        compiled = campaign_render.template(campaign.subject, campaign.body_markdown)
        fallbacks = campaign_domain.fallbacks_for(
            name, course, campaign.subject, campaign.body_markdown
        )
    values = campaign_domain.merge_values(name, course)
    # The preview's unsubscribe link goes nowhere: a real one would unsubscribe the sample.
    subject, text, html = compiled.personalise(values, f"{config.public_url()}/unsubscribe/preview")
    return {
        "subject": subject,
        "html": html,
        "text": text,
        "sample": values,
        "recipient": {"email": email, "name": name, "sample": email is None},
        "fallbacks": fallbacks,
    }


def test_send(uow: UnitOfWork, campaign_id: str, to: str) -> dict[str, Any]:
    """A test to one address through the transactional delivery loop, subject "[Test] ..."."""
    with uow:
        session = uow.session
        campaign = _campaign(session, campaign_id)
        _, name, course = _sample(session, campaign)
        compiled = campaign_render.template(campaign.subject, campaign.body_markdown)
        mail = campaign_render.personal(compiled, campaign.id, to, name, course)
        email = Rendered(f"[Test] {mail.subject}", mail.text, mail.html, mail.headers)
        compose.queue(session, Kind.CAMPAIGN_TEST, to, email)
        uow.commit()
    return {"to": to}


def _transition(uow: UnitOfWork, campaign_id: str, change: Any) -> dict[str, Any]:
    with uow:
        session = uow.session
        campaign = _campaign(session, campaign_id, lock=True)
        change(session, campaign)
        session.flush()
        view = _views(session, [campaign])[0]
        uow.commit()
    return view


def schedule(uow: UnitOfWork, campaign_id: str, send_at: datetime) -> dict[str, Any]:
    def change(session: Session, campaign: Campaign) -> None:
        status = campaign_domain.schedule(CampaignStatus(campaign.status), send_at, utcnow())
        campaign.status = status.value
        campaign.send_at = send_at

    return _transition(uow, campaign_id, change)


def send_now(uow: UnitOfWork, campaign_id: str) -> dict[str, Any]:
    def change(session: Session, campaign: Campaign) -> None:
        campaign_domain.send_now(CampaignStatus(campaign.status))
        start(session, campaign)

    return _transition(uow, campaign_id, change)


def pause(uow: UnitOfWork, campaign_id: str) -> dict[str, Any]:
    def change(session: Session, campaign: Campaign) -> None:
        campaign.status = campaign_domain.pause(CampaignStatus(campaign.status)).value

    return _transition(uow, campaign_id, change)


def resume(uow: UnitOfWork, campaign_id: str) -> dict[str, Any]:
    def change(session: Session, campaign: Campaign) -> None:
        campaign.status = campaign_domain.resume(CampaignStatus(campaign.status)).value

    return _transition(uow, campaign_id, change)


def cancel(uow: UnitOfWork, campaign_id: str) -> dict[str, Any]:
    """Cancelling stops at the next message: the sender's commit of ``sent`` needs the row to
    be queued, and cancelling takes every queued row out."""

    def change(session: Session, campaign: Campaign) -> None:
        campaign.status = campaign_domain.cancel(CampaignStatus(campaign.status)).value
        campaign.finished_at = campaign.finished_at or utcnow()
        session.execute(
            update(CampaignRecipient)
            .where(
                CampaignRecipient.campaign_id == campaign.id,
                CampaignRecipient.status == RecipientStatus.QUEUED.value,
            )
            .values(status=RecipientStatus.CANCELLED.value)
        )

    return _transition(uow, campaign_id, change)


# --- starting and finishing (the worker) -----------------------------------------------------


def start(session: Session, campaign: Campaign) -> int:
    """Create one queued row per person of the audience, in one INSERT ... SELECT."""
    people = audiences.members(campaign_domain.parse_audience(campaign.audience)).subquery()
    rows = select(
        literal(campaign.id),
        people.c.email,
        people.c.name,
        people.c.course,
        literal(RecipientStatus.QUEUED.value),
        literal(0),
    ).where(people.c.email.is_not(None))
    table = CampaignRecipient.__table__
    statement = (
        insert_with_conflicts(session, table)
        .from_select(["campaign_id", "email", "name", "course", "status", "attempts"], rows)
        .on_conflict_do_nothing(index_elements=["campaign_id", "email"])
    )
    created = session.execute(statement).rowcount
    campaign.status = CampaignStatus.SENDING.value
    campaign.started_at = utcnow()
    return created


def start_due(uow: UnitOfWork, now: datetime | None = None) -> int:
    """Start every scheduled campaign whose time has come; each in its own transaction."""
    now = now or utcnow()
    started = 0
    while True:
        with uow:
            session = uow.session
            campaign = session.scalars(
                select(Campaign)
                .where(
                    Campaign.status == CampaignStatus.SCHEDULED.value,
                    Campaign.send_at <= now,
                )
                .order_by(Campaign.send_at)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if campaign is None:
                return started
            start(session, campaign)
            uow.commit()
            started += 1


def finish_if_done(uow: UnitOfWork, campaign_id: str) -> bool:
    """A sending campaign with nothing queued is sent: its figures are final, and the
    ``campaign.sent`` event announces them in the same commit."""
    with uow:
        session = uow.session
        campaign = _campaign(session, campaign_id, lock=True)
        if campaign.status != CampaignStatus.SENDING.value:
            return False
        figures = _figures(session, [campaign.id])[campaign.id]
        if figures["queued"]:
            return False
        now = utcnow()
        campaign.status = CampaignStatus.SENT.value
        campaign.finished_at = now
        campaign.lease_owner = None
        campaign.lease_expires_at = None
        uow.record(
            CampaignSent(
                campaign_id=campaign.id,
                subject=campaign.subject,
                audience=campaign.audience,
                recipients=figures["recipients"],
                sent=figures["sent"],
                failed=figures["failed"],
                suppressed=figures["suppressed"],
                finished_at=now,
            )
        )
        uow.commit()
    return True
