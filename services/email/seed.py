"""Reference data the service cannot run without: the topics people subscribe to.

Runs after every migration; it adds missing topics and leaves existing ones as they are.
"""

from __future__ import annotations

from sqlalchemy import Connection, insert, select

from services.email.models import Topic

TOPICS = (
    (
        "step1-tips",
        "USMLE Step 1 tips",
        "Study strategies, high-yield topics and practice advice for USMLE Step 1.",
    ),
    (
        "step2ck",
        "USMLE Step 2 CK",
        "Clinical knowledge review, question tactics and planning for Step 2 CK.",
    ),
    (
        "course-announcements",
        "Course announcements",
        "New course cycles, start dates and changes to our courses.",
    ),
)


def run(connection: Connection) -> None:
    table = Topic.__table__
    existing = set(connection.scalars(select(table.c.slug)))
    missing = [
        {"slug": slug, "name": name, "description": description}
        for slug, name, description in TOPICS
        if slug not in existing
    ]
    if missing:
        connection.execute(insert(table), missing)
