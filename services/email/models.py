"""The email service's tables: topics, subscribers and their topics, deliveries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.db import make_base

Base = make_base()


class Topic(Base):
    """Something a person can subscribe to (seeded reference data, see seed.py)."""

    __tablename__ = "topics"

    slug: Mapped[str] = mapped_column(String(60), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")


class Subscriber(Base):
    """One mailbox and its consent. ``email`` is stored lowercased and is unique."""

    __tablename__ = "subscribers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    nonce: Mapped[str] = mapped_column(String(32))
    """Opt-in round: changes when consent ends, which voids older confirmation links."""
    created_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]
    unsubscribed_at: Mapped[datetime | None]

    topics: Mapped[list[SubscriberTopic]] = relationship(
        cascade="all, delete-orphan", order_by="SubscriberTopic.topic_slug", lazy="selectin"
    )

    @property
    def topic_slugs(self) -> list[str]:
        return [t.topic_slug for t in self.topics]


class SubscriberTopic(Base):
    __tablename__ = "subscriber_topics"

    subscriber_id: Mapped[str] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True
    )
    topic_slug: Mapped[str] = mapped_column(ForeignKey("topics.slug"), primary_key=True)


class Delivery(Base):
    """One email, rendered when it was decided, sent by the delivery loop (delivery.py)."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "kind"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
        Index("ix_deliveries_created_at", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    headers: Mapped[str] = mapped_column(Text, default="{}")
    """Extra headers as JSON (List-Unsubscribe and List-Unsubscribe-Post on marketing mail)."""
    attachments: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    """Attachments as JSON (filename, content type, base64 content), e.g. a calendar invite:
    the bytes decided when the email was queued are the bytes sent, after any restart."""
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    event_id: Mapped[str | None] = mapped_column(String(36))
    """The event that caused this email; with ``kind`` unique, so an event never mails twice."""
