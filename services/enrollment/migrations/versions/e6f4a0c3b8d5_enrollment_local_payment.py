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

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "e6f4a0c3b8d5"
down_revision: str | Sequence[str] | None = "d5e3f9b2a7c4"
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
        op.add_column("enrollments", sa.Column(name, sa.String(length=length), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("enrollments") as batch:
        for name, _length in reversed(COLUMNS):
            batch.drop_column(name)
