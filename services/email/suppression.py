"""The suppression list: addresses no campaign mails again, and how they get there.

An address is suppressed when its owner unsubscribes through a campaign email's link (RFC 8058
one-click POST or the page), when a mail server reports a hard bounce or a complaint
(``POST /api/bounces``), or when marketing adds it by hand. The send loop checks the list for
every recipient at send time, so an address suppressed mid-campaign gets nothing more.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from services.email import domain
from services.email.campaigns import domain as campaign_domain
from services.email.campaigns import render as campaign_render
from services.email.campaigns.domain import RecipientStatus, SuppressionReason
from services.email.domain import SubscriberStatus
from services.email.events import SubscriberUnsubscribed
from services.email.models import BounceReport, CampaignRecipient, Subscriber, Suppression
from shared.db import UnitOfWork, insert_with_conflicts, utcnow


def suppress(
    session: Session,
    address: str,
    reason: SuppressionReason,
    source: str,
    campaign_id: str | None = None,
) -> bool:
    """Add an address to the list; True if it was not on it. The first reason stays."""
    statement = (
        insert_with_conflicts(session, Suppression.__table__)
        .values(
            email=domain.normalize_email(address),
            reason=reason.value,
            source=source,
            campaign_id=campaign_id,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["email"])
    )
    return session.execute(statement).rowcount == 1


def _as_dict(row: Suppression) -> dict[str, Any]:
    return {
        "email": row.email,
        "reason": row.reason,
        "source": row.source,
        "campaign_id": row.campaign_id,
        "created_at": row.created_at,
    }


def list_suppressions(uow: UnitOfWork, reason: str | None, limit: int) -> list[dict[str, Any]]:
    query: Select = (
        select(Suppression).order_by(Suppression.created_at.desc(), Suppression.email).limit(limit)
    )
    if reason:
        query = query.where(Suppression.reason == reason)
    with uow:
        return [_as_dict(row) for row in uow.session.scalars(query)]


def add(uow: UnitOfWork, address: str, reason: str, source: str = "manual") -> dict[str, Any]:
    """Marketing suppresses an address by hand; adding one already there changes nothing."""
    with uow:
        session = uow.session
        suppress(session, address, SuppressionReason(reason), source)
        row = session.get(Suppression, domain.normalize_email(address))
        answer = _as_dict(row)
        uow.commit()
    return answer


def report(
    uow: UnitOfWork,
    *,
    report_type: str,
    address: str,
    bounce_type: str | None = None,
    message_id: str | None = None,
    diagnostic: str | None = None,
    occurred_at: datetime | None = None,
) -> dict[str, Any]:
    """A bounce or complaint notification: recorded always; a hard bounce or a complaint also
    suppresses the address (and a hard bounce fails the campaign email it names, if any)."""
    address = domain.normalize_email(address)
    reason = campaign_domain.suppression_for_report(report_type, bounce_type)
    with uow:
        session = uow.session
        session.add(
            BounceReport(
                id=str(uuid.uuid4()),
                type=report_type,
                email=address,
                bounce_type=bounce_type if report_type == "bounce" else None,
                message_id=message_id,
                diagnostic=diagnostic,
                occurred_at=occurred_at,
                received_at=utcnow(),
            )
        )
        campaign_id = None
        recipient_id = campaign_render.recipient_id_of(message_id)
        if recipient_id is not None:
            recipient = session.get(CampaignRecipient, recipient_id)
            if recipient is not None and recipient.email == address:
                campaign_id = recipient.campaign_id
                if reason is SuppressionReason.HARD_BOUNCE:
                    recipient.status = RecipientStatus.FAILED.value
                    recipient.error = f"hard bounce: {diagnostic or ''}".strip()[:2000]
        if reason is not None:
            suppress(session, address, reason, report_type, campaign_id)
        session.flush()
        now_suppressed = session.get(Suppression, address) is not None
        uow.commit()
    return {"email": address, "suppressed": now_suppressed}


# --- a campaign email's own unsubscribe link ---------------------------------------------------


def recipient_preferences(uow: UnitOfWork, campaign_id: str, address: str) -> dict[str, Any]:
    """What the preferences page shows for a campaign link. Reading it never unsubscribes."""
    with uow:
        session = uow.session
        sub = session.scalars(select(Subscriber).where(Subscriber.email == address)).first()
        if session.get(Suppression, address) is not None:
            status = SubscriberStatus.UNSUBSCRIBED.value
        else:
            status = sub.status if sub is not None else "subscribed"
        topics = sorted(sub.topic_slugs) if sub is not None else []
        return {"email": address, "topics": topics, "status": status}


def recipient_unsubscribe(uow: UnitOfWork, campaign_id: str, address: str) -> dict[str, Any]:
    """One click from a campaign email: the address is suppressed (counted for that campaign)
    and, if it is a subscriber, unsubscribed from every topic. Repeating it changes nothing."""
    with uow:
        session = uow.session
        suppress(session, address, SuppressionReason.UNSUBSCRIBED, "unsubscribe", campaign_id)
        sub = session.scalars(
            select(Subscriber).where(Subscriber.email == address).with_for_update()
        ).first()
        if sub is not None and domain.unsubscribe(SubscriberStatus(sub.status)):
            sub.status = SubscriberStatus.UNSUBSCRIBED.value
            sub.unsubscribed_at = utcnow()
            sub.nonce = uuid.uuid4().hex[:16]  # confirmation links sent before now stop working
            uow.record(SubscriberUnsubscribed(subscriber_id=sub.id, email=sub.email))
        uow.commit()
    return {"email": address, "status": SubscriberStatus.UNSUBSCRIBED.value}


def subscriber_of(uow: UnitOfWork, address: str) -> str:
    """The subscriber a campaign link's address belongs to (to change their topics), if any."""
    with uow:
        sub_id = uow.session.scalar(select(Subscriber.id).where(Subscriber.email == address))
    if sub_id is None:
        raise domain.SubscriptionNotFound()
    return sub_id


def suppressed_now(session: Session, addresses: list[str]) -> set[str]:
    """Which of these addresses may not be mailed right now (list or unsubscribed subscriber)."""
    if not addresses:
        return set()
    listed = set(session.scalars(select(Suppression.email).where(Suppression.email.in_(addresses))))
    unsubscribed = set(
        session.scalars(
            select(Subscriber.email).where(
                Subscriber.email.in_(addresses),
                Subscriber.status == SubscriberStatus.UNSUBSCRIBED.value,
            )
        )
    )
    return listed | unsubscribed


def mark_suppressed(session: Session, recipient_ids: list[int]) -> None:
    if recipient_ids:
        session.execute(
            update(CampaignRecipient)
            .where(
                CampaignRecipient.id.in_(recipient_ids),
                CampaignRecipient.status == RecipientStatus.QUEUED.value,
            )
            .values(status=RecipientStatus.SUPPRESSED.value)
        )
