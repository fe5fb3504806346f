"""What a read of a pending enrollment needs from payments, kept on the enrollment.

The checkout (payment id, client secret, Stripe's publishable key and script) is stored when
the PaymentIntent is created, and the payment's status when payments' events arrive, so the
checkout page and its status polls read enrollment's database only (shared/purchases.py).
Existing pending enrollments have none stored: their next read asks payments once and keeps it.

Revision ID: e6f4a0c3b8d5
Revises: d5e3f9b2a7c4
Create Date: 2026-12-03 20:10:00.000000

"""

from collections.abc import Sequence

from shared import purchase_migrations

# revision identifiers, used by Alembic.
revision: str = "e6f4a0c3b8d5"
down_revision: str | Sequence[str] | None = "d5e3f9b2a7c4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    purchase_migrations.add_local_payment("enrollments")


def downgrade() -> None:
    purchase_migrations.drop_local_payment("enrollments")
