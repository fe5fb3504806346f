"""Rate-limit counters (one row per key, changed by one conditional upsert) replace the list of
failed logins, which was counted and then written without a lock.

Revision ID: b7d41c0e9a13
Revises: 8216fbe262e4
Create Date: 2026-12-03 11:45:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "b7d41c0e9a13"
down_revision: str | Sequence[str] | None = "8216fbe262e4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_limits",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.Float(), nullable=False),
        sa.Column("next_at", sa.Float(), nullable=False),
        sa.Column("delay", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limits")),
    )
    # Failed logins in flight are forgotten: at worst a guesser gets a fresh allowance once.
    op.drop_index("ix_login_attempts_ip_at", table_name="login_attempts")
    op.drop_index("ix_login_attempts_email_at", table_name="login_attempts")
    op.drop_table("login_attempts")


def downgrade() -> None:
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    op.create_index(
        "ix_login_attempts_email_at", "login_attempts", ["email", "attempted_at"], unique=False
    )
    op.create_index(
        "ix_login_attempts_ip_at", "login_attempts", ["ip", "attempted_at"], unique=False
    )
    op.drop_table("rate_limits")
