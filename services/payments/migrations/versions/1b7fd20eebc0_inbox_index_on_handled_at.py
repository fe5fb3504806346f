"""An index on the inbox's handled_at, for the newest handled events on the Operations page.

The admin Operations page lists them with ORDER BY handled_at DESC LIMIT n; without an index
that is a scan and a sort of the whole inbox, which only grows.

Revision ID: 1b7fd20eebc0
Revises: ad9d9da7f95f
Create Date: 2026-12-02 04:35:02.862839

"""

from collections.abc import Sequence

from shared import bus_migrations

# revision identifiers, used by Alembic.
revision: str = "1b7fd20eebc0"
down_revision: str | Sequence[str] | None = "ad9d9da7f95f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bus_migrations.index_inbox_by_handled_at()


def downgrade() -> None:
    bus_migrations.drop_inbox_handled_at_index()
