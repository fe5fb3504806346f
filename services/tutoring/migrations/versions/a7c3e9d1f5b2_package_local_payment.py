"""What a read of a pending package needs from payments, kept on the package.

The checkout (payment id, client secret, Stripe's publishable key and script) is stored when
the PaymentIntent is created, and the payment's status when payments' events arrive, so reading
a pending package touches tutoring's database only (shared/purchases.py). Existing pending
packages have none stored: their next read asks payments once and keeps it.

Revision ID: a7c3e9d1f5b2
Revises: 094cdd357919
Create Date: 2026-12-03 21:15:00.000000

"""

from collections.abc import Sequence

from shared import purchase_migrations

# revision identifiers, used by Alembic.
revision: str = "a7c3e9d1f5b2"
down_revision: str | Sequence[str] | None = "094cdd357919"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    purchase_migrations.add_local_payment("packages")


def downgrade() -> None:
    purchase_migrations.drop_local_payment("packages")
