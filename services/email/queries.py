"""The read side: what staff see of deliveries and subscribers, and the topics anyone can
subscribe to. Reads only; nothing here changes a row."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from services.email.models import Delivery, Subscriber, Topic
from shared.db import UnitOfWork


def list_topics(uow: UnitOfWork) -> list[dict[str, str]]:
    with uow:
        return [
            {"slug": t.slug, "name": t.name, "description": t.description}
            for t in uow.session.scalars(select(Topic).order_by(Topic.name))
        ]


def recent_deliveries(uow: UnitOfWork, status: str | None, limit: int) -> list[dict[str, Any]]:
    query: Select = select(Delivery).order_by(Delivery.created_at.desc(), Delivery.id).limit(limit)
    if status:
        query = query.where(Delivery.status == status)
    with uow:
        return [
            {
                "id": d.id,
                "kind": d.kind,
                "to": d.to_address,
                "subject": d.subject,
                "status": d.status,
                "attempts": d.attempts,
                "last_error": d.last_error,
                "created_at": d.created_at,
                "sent_at": d.sent_at,
            }
            for d in uow.session.scalars(query)
        ]


def list_subscribers(uow: UnitOfWork, status: str | None, limit: int) -> list[dict[str, Any]]:
    query: Select = (
        select(Subscriber).order_by(Subscriber.created_at.desc(), Subscriber.id).limit(limit)
    )
    if status:
        query = query.where(Subscriber.status == status)
    with uow:
        return [
            {
                "id": s.id,
                "email": s.email,
                "name": s.name,
                "status": s.status,
                "topics": s.topic_slugs,
                "created_at": s.created_at,
                "confirmed_at": s.confirmed_at,
                "unsubscribed_at": s.unsubscribed_at,
            }
            for s in uow.session.scalars(query)
        ]
