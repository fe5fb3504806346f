"""The outbox and inbox tables in alembic revisions, written once for every service.

Every service's database carries the same two tables (``shared.outbox``), and each service
has its own migration history, so a change to them is a revision in every service. The
revision's body is one call to a step below; the step is written here, once. Steps are never
edited after release (a database migrated by one keeps what it did): a change is a new step,
appended, that every service's next revision calls. ``tests/test_migrations.py`` checks that a
migrated database has exactly the tables of ``shared.outbox.bus_tables``.

Steps, in order:

1. ``create_bus_tables`` / ``drop_bus_tables``: the outbox, its index of unpublished rows, and
   the inbox (the initial revision of every service);
2. ``index_inbox_by_handled_at`` / ``drop_inbox_handled_at_index``: the admin Operations page's
   newest handled events (the site's initial revision took steps 1 and 2 at once).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

UNPUBLISHED = sa.text("published_at IS NULL")


def create_bus_tables() -> None:
    """Step 1: the inbox, the outbox and the outbox's index of unpublished events."""
    op.create_table(
        "inbox",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_inbox")),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index(
        "ix_outbox_unpublished",
        "outbox",
        ["created_at"],
        unique=False,
        postgresql_where=UNPUBLISHED,
        sqlite_where=UNPUBLISHED,
    )


def drop_bus_tables() -> None:
    """Undo step 1."""
    op.drop_index(
        "ix_outbox_unpublished",
        table_name="outbox",
        postgresql_where=UNPUBLISHED,
        sqlite_where=UNPUBLISHED,
    )
    op.drop_table("outbox")
    op.drop_table("inbox")


def index_inbox_by_handled_at() -> None:
    """Step 2: the Operations page lists the newest handled events (ORDER BY handled_at DESC
    LIMIT n); without an index that is a scan and a sort of the whole inbox, which only grows."""
    op.create_index(op.f("ix_inbox_handled_at"), "inbox", ["handled_at"], unique=False)


def drop_inbox_handled_at_index() -> None:
    """Undo step 2."""
    op.drop_index(op.f("ix_inbox_handled_at"), table_name="inbox")
