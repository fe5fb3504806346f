"""Packages, the credits ledger and paid sessions (issue 4, part 2).

Revision ID: e95c1d478d51
Revises: d75d63627a53
Create Date: 2026-11-25 12:09:35.250055

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "e95c1d478d51"
down_revision: str | Sequence[str] | None = "d75d63627a53"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "credits",
        sa.Column("student_id", sa.String(length=64), nullable=False),
        sa.Column("tutor_id", sa.String(length=64), nullable=False),
        sa.Column("purchased", sa.Integer(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("refunded", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "used >= 0 AND refunded >= 0 AND used + refunded <= purchased",
            name=op.f("ck_credits_hours_never_overspent"),
        ),
        sa.ForeignKeyConstraint(
            ["tutor_id"], ["tutors.id"], name=op.f("fk_credits_tutor_id_tutors")
        ),
        sa.PrimaryKeyConstraint("student_id", "tutor_id", name=op.f("pk_credits")),
    )
    op.create_table(
        "packages",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("student_id", sa.String(length=64), nullable=False),
        sa.Column("student_email", sa.String(length=254), nullable=False),
        sa.Column("student_name", sa.String(length=200), nullable=False),
        sa.Column("tutor_id", sa.String(length=64), nullable=False),
        sa.Column("hours", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("payment_id", sa.String(length=64), nullable=True),
        sa.Column("refunded_minor", sa.Integer(), nullable=False),
        sa.Column("refunded_hours", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tutor_id"], ["tutors.id"], name=op.f("fk_packages_tutor_id_tutors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_packages")),
    )
    op.create_index(op.f("ix_packages_student_id"), "packages", ["student_id"], unique=False)
    op.create_index(op.f("ix_packages_tutor_id"), "packages", ["tutor_id"], unique=False)
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("student_id", sa.String(length=64), nullable=False),
        sa.Column("student_email", sa.String(length=254), nullable=False),
        sa.Column("student_name", sa.String(length=200), nullable=False),
        sa.Column("student_time_zone", sa.String(length=64), nullable=False),
        sa.Column("tutor_id", sa.String(length=64), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("ics_sequence", sa.Integer(), nullable=False),
        sa.Column("reschedules", sa.Integer(), nullable=False),
        sa.Column("cancelled_by", sa.String(length=10), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("credit_returned", sa.Boolean(), nullable=True),
        sa.Column("lesson_note", sa.Text(), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminder_sent_for", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tutor_id"], ["tutors.id"], name=op.f("fk_sessions_tutor_id_tutors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
    )
    op.create_index(op.f("ix_sessions_status"), "sessions", ["status"], unique=False)
    op.create_index(op.f("ix_sessions_student_id"), "sessions", ["student_id"], unique=False)
    op.create_index(op.f("ix_sessions_tutor_id"), "sessions", ["tutor_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_sessions_tutor_id"), table_name="sessions")
    op.drop_index(op.f("ix_sessions_student_id"), table_name="sessions")
    op.drop_index(op.f("ix_sessions_status"), table_name="sessions")
    op.drop_table("sessions")
    op.drop_index(op.f("ix_packages_tutor_id"), table_name="packages")
    op.drop_index(op.f("ix_packages_student_id"), table_name="packages")
    op.drop_table("packages")
    op.drop_table("credits")
