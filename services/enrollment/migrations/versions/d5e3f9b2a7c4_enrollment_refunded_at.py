"""When an enrollment's refund arrived, so "My enrollments" can say it once with its date.

Existing refunded enrollments take the time they last changed, which is when it arrived.

Revision ID: d5e3f9b2a7c4
Revises: c4d2e8a1f6b3
Create Date: 2026-12-03 17:50:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "d5e3f9b2a7c4"
down_revision: str | Sequence[str] | None = "c4d2e8a1f6b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "enrollments", sa.Column("refunded_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.execute("UPDATE enrollments SET refunded_at = updated_at WHERE status = 'refunded'")


def downgrade() -> None:
    with op.batch_alter_table("enrollments") as batch:
        batch.drop_column("refunded_at")
