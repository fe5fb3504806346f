"""The columns of ``shared.purchases.LocalPayment`` in alembic revisions, written once.

Enrollment's ``enrollments`` and tutoring's ``packages`` carry the same five columns (a purchase's
checkout and its payment's last status), each in its own service's migration history; the
revision's body is one call to a step below. Like ``shared.bus_migrations``, a step is never
edited after release: a change to the columns is a new step, appended, that each purchase
table's next revision calls. ``tests/test_migrations.py`` checks the migrated tables against
the models.

Steps, in order:

1. ``add_local_payment`` / ``drop_local_payment``: the checkout (payment id, client secret,
   Stripe's publishable key and script) and ``payment_status``, all nullable: a purchase made
   before them reads its checkout from payments once and keeps it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

LOCAL_PAYMENT_COLUMNS = [
    ("checkout_payment_id", 64),
    ("checkout_client_secret", 255),
    ("checkout_publishable_key", 255),
    ("checkout_js_url", 500),
    ("payment_status", 20),
]


def add_local_payment(table: str) -> None:
    """Step 1: the five nullable columns on a purchase table."""
    for name, length in LOCAL_PAYMENT_COLUMNS:
        op.add_column(table, sa.Column(name, sa.String(length=length), nullable=True))


def drop_local_payment(table: str) -> None:
    """Step 1 undone (in a batch, so SQLite can drop columns too)."""
    with op.batch_alter_table(table) as batch:
        for name, _length in reversed(LOCAL_PAYMENT_COLUMNS):
            batch.drop_column(name)
