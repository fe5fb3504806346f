"""An optional time zone on each account: the clock the person reads times on.

Pages and emails print every time in the reader's zone; an account may name it (an IANA name),
else the site uses the browser's. NULL means not chosen.

Revision ID: c3e8a1f0d2b4
Revises: b7d41c0e9a13
Create Date: 2026-12-03 17:45:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "c3e8a1f0d2b4"
down_revision: str | Sequence[str] | None = "b7d41c0e9a13"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("time_zone", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("time_zone")
