"""Identity's tables: people, their refresh tokens and link tokens, signing keys, rate limits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import make_base
from shared.rate_limit import rate_limit_table

Base = make_base()


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    """Always lowercased, so the unique constraint is case-insensitive."""
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20), index=True)
    status: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(Text)
    time_zone: Mapped[str | None] = mapped_column(String(64))
    """The IANA zone the person reads times in (their choice); None: the browser's, else UTC."""
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    @property
    def roles(self) -> list[str]:
        return [self.role]


class RefreshToken(Base):
    __tablename__ = "refresh_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[str] = mapped_column(String(36), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None]


class LinkToken(Base):
    """One row per emailed link (invitation, password reset): its use is remembered here."""

    __tablename__ = "link_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(30))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]


class SigningKey(Base):
    __tablename__ = "signing_keys"
    __table_args__ = (
        # At most one active key, even when two workers create the first one at once.
        Index(
            "uq_signing_keys_one_active",
            "active",
            unique=True,
            postgresql_where=text("active"),
            sqlite_where=text("active"),
        ),
    )

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    private_key: Mapped[str] = mapped_column(Text)
    """PKCS#8 PEM, Fernet-encrypted with a key derived from SECRET_KEY."""
    public_jwk: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]
    retired_at: Mapped[datetime | None]


rate_limits = rate_limit_table(Base.metadata)
"""Counters of sign-in tries per account and per client, and of emails strangers asked for."""
