"""The list price on each enrollment, so a checkout can say what a promotion code took off.

An enrollment stored only what the student pays; the course's price may change later, so the
price it was offered at is kept with it. Existing enrollments get what they paid plus the
discount their code recorded (``promo_redemptions.discount_minor``).

Revision ID: c4d2e8a1f6b3
Revises: b3c1f0e2a7d4
Create Date: 2026-12-03 17:40:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "c4d2e8a1f6b3"
down_revision: str | Sequence[str] | None = "b3c1f0e2a7d4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("enrollments", sa.Column("list_price_minor", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE enrollments SET list_price_minor = amount_minor + COALESCE("
        "(SELECT discount_minor FROM promo_redemptions"
        " WHERE promo_redemptions.enrollment_id = enrollments.id), 0)"
    )


def downgrade() -> None:
    with op.batch_alter_table("enrollments") as batch:
        batch.drop_column("list_price_minor")
