"""The email service's tables: topics, subscribers and their topics, deliveries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.db import make_base
from shared.rate_limit import rate_limit_table

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


# --- campaigns (campaigns/use_cases.py, campaigns/sending.py) -----------------------------


class AudienceEnrollment(Base):
    """What the service learned from enrollment events about one enrollment (audiences.py)."""

    __tablename__ = "audience_enrollments"
    __table_args__ = (Index("ix_audience_enrollments_course", "course_slug", "status"),)

    enrollment_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    student_id: Mapped[str] = mapped_column(String(36))
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200))
    course_slug: Mapped[str] = mapped_column(String(100))
    course_title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    """active (activated), completed, or ended (refunded or cancelled)."""
    updated_at: Mapped[datetime]


class ConsultedStudent(Base):
    """A student with a completed consultation (learned from consultation.completed)."""

    __tablename__ = "consulted_students"

    student_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    name: Mapped[str] = mapped_column(String(200))
    consulted_at: Mapped[datetime]


class Campaign(Base):
    """A marketing email to an audience. While it sends, one worker holds its lease."""

    __tablename__ = "campaigns"
    __table_args__ = (Index("ix_campaigns_due", "status", "send_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    subject: Mapped[str] = mapped_column(String(300))
    body_markdown: Mapped[str] = mapped_column(Text)
    audience: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    send_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(254))
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None]


class CampaignRecipient(Base):
    """One person a campaign mails, created when sending starts; sent at most once."""

    __tablename__ = "campaign_recipients"
    __table_args__ = (
        UniqueConstraint("campaign_id", "email"),
        Index("ix_campaign_recipients_status", "campaign_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str | None] = mapped_column(String(200))
    course: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    sent_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)


class Suppression(Base):
    """An address no campaign mails again (unsubscribed, hard bounce, complaint, manual)."""

    __tablename__ = "suppressions"
    __table_args__ = (Index("ix_suppressions_created_at", "created_at"),)

    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    reason: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(40))
    campaign_id: Mapped[str | None] = mapped_column(String(36), index=True)
    created_at: Mapped[datetime]


class BounceReport(Base):
    """Every bounce or complaint notification received, soft bounces included."""

    __tablename__ = "bounce_reports"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    type: Mapped[str] = mapped_column(String(20))
    email: Mapped[str] = mapped_column(String(254), index=True)
    bounce_type: Mapped[str | None] = mapped_column(String(10))
    message_id: Mapped[str | None] = mapped_column(String(300))
    diagnostic: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime | None]
    received_at: Mapped[datetime]


rate_limits = rate_limit_table(Base.metadata)
"""How many confirmation emails strangers asked for, per address and per client."""


class OptOut(Base):
    """An address that left one opt-out kind of email (a weekly digest), and only that kind.

    Kept apart from the suppression list: leaving the weekly digest must not stop campaigns
    someone subscribed to, nor leaving campaigns stop the digest (opt_outs.py).
    """

    __tablename__ = "opt_outs"

    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    created_at: Mapped[datetime]


class ReaderZone(Base):
    """The time zone a person reads their mail in, learned from identity's events
    (``user.registered``, ``user.time_zone_changed``): times in their mail are on that clock."""

    __tablename__ = "reader_zones"

    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    """Normalized, as every event addresses the person."""
    user_id: Mapped[str] = mapped_column(String(36))
    time_zone: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime]
