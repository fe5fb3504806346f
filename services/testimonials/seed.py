"""1:1 tutoring is always a program; written after every migration if it is missing (idempotent).

Courses become programs when enrollment's events name them (see ``use_cases/learning.py``).
"""

from __future__ import annotations

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from services.testimonials import domain
from services.testimonials.models import Program
from shared.db import utcnow


def run(connection: Connection) -> None:
    session = Session(bind=connection)
    try:
        if session.get(Program, domain.TUTORING) is None:
            session.add(
                Program(program=domain.TUTORING, label=domain.TUTORING_LABEL, updated_at=utcnow())
            )
        # The session joins the migration's connection; the caller commits.
        session.commit()
    finally:
        session.close()
