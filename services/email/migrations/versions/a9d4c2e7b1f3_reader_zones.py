"""Reader zones: the time zone each person reads their mail in (from identity's events).

Revision ID: a9d4c2e7b1f3
Revises: f7b2d4e81c35
Create Date: 2026-12-03 17:50:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "a9d4c2e7b1f3"
down_revision: str | Sequence[str] | None = "f7b2d4e81c35"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reader_zones",
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("email", name=op.f("pk_reader_zones")),
    )


def downgrade() -> None:
    op.drop_table("reader_zones")
