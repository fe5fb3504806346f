"""A redemption counter on each promotion code, for a limit that holds on SQLite too.

The limit was enforced by counting ``promo_redemptions`` under ``SELECT ... FOR UPDATE`` on
the code's row; SQLite ignores that, so parallel enrollments redeemed a code past its limit.
The counter lets one conditional UPDATE (``WHERE redemptions < max_redemptions``) decide.
Existing codes start from the redemptions they have.

Revision ID: b3c1f0e2a7d4
Revises: 497388507a9d
Create Date: 2026-12-03 11:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "b3c1f0e2a7d4"
down_revision: str | Sequence[str] | None = "497388507a9d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "promo_codes",
        sa.Column("redemptions", sa.Integer(), server_default="0", nullable=False),
    )
    op.execute(
        "UPDATE promo_codes SET redemptions = (SELECT count(*) FROM promo_redemptions"
        " WHERE promo_redemptions.code = promo_codes.code)"
    )


def downgrade() -> None:
    with op.batch_alter_table("promo_codes") as batch:
        batch.drop_column("redemptions")
