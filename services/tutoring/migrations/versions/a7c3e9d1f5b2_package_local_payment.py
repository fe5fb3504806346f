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

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "a7c3e9d1f5b2"
down_revision: str | Sequence[str] | None = "094cdd357919"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = [
    ("checkout_payment_id", 64),
    ("checkout_client_secret", 255),
    ("checkout_publishable_key", 255),
    ("checkout_js_url", 500),
    ("payment_status", 20),
]


def upgrade() -> None:
    for name, length in COLUMNS:
        op.add_column("packages", sa.Column(name, sa.String(length=length), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("packages") as batch:
        for name, _length in reversed(COLUMNS):
            batch.drop_column(name)
