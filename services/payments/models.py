"""Payments' tables: Stripe customers, payments, refunds, disputes and the Stripe events seen.

The unique constraints carry the money rules under concurrency: one payment per purchase, one
refund per refund request and per Stripe refund, one row per Stripe event (so a webhook
delivered three times, or also found by reconciliation, is applied once).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import make_base

Base = make_base()


class Customer(Base):
    """The one Stripe customer of each of our users."""

    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), unique=True)
    stripe_customer_id: Mapped[str] = mapped_column(String(255), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime]


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint(
            "refunded_minor >= 0 AND refunded_minor <= amount_minor", name="refund_within_amount"
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    purchase_ref: Mapped[str] = mapped_column(String(100), unique=True)
    purchase_kind: Mapped[str] = mapped_column(String(30))
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(500))
    amount_minor: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(30))
    refunded_minor: Mapped[int] = mapped_column(Integer, default=0)
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    client_secret: Mapped[str | None] = mapped_column(String(255))
    stripe_charge_id: Mapped[str | None] = mapped_column(String(255), index=True)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Refund(Base):
    __tablename__ = "refunds"
    __table_args__ = (CheckConstraint("amount_minor >= 0", name="amount_not_negative"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.id"), index=True)
    refund_request_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    """Set when the refund answers a ``refund.requested`` event; null for dashboard refunds."""
    stripe_refund_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    amount_minor: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class Dispute(Base):
    __tablename__ = "disputes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.id"), index=True)
    stripe_dispute_id: Mapped[str] = mapped_column(String(255), unique=True)
    amount_minor: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime]


class StripeEvent(Base):
    """Every Stripe event we applied (or chose to ignore), keyed by Stripe's own event id."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(20))
    """``webhook`` or ``reconcile``: how we learned of it."""
    outcome: Mapped[str] = mapped_column(String(200))
    stripe_created_at: Mapped[datetime | None]
    received_at: Mapped[datetime] = mapped_column(index=True)
