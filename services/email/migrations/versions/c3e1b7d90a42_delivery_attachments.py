"""Deliveries keep their attachments (a consultation's calendar invite or cancellation).

Revision ID: c3e1b7d90a42
Revises: a5aeac06ebec
Create Date: 2026-11-25 11:45:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "c3e1b7d90a42"
down_revision: str | Sequence[str] | None = "a5aeac06ebec"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "deliveries",
        sa.Column("attachments", sa.Text(), server_default="[]", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("deliveries", "attachments")
