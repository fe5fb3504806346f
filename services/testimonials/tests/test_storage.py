"""Rules the database holds whatever the code does (PostgreSQL, the real migration)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from services.testimonials import models
from services.testimonials.tests.conftest import World


def force(world: World, testimonial_id: str, **values) -> None:
    with world.svc.runtime.db.session() as s, s.begin():
        s.execute(
            sa.update(models.Testimonial)
            .where(models.Testimonial.id == testimonial_id)
            .values(**values)
        )


def test_the_database_refuses_an_approved_testimonial_without_consent(world: World):
    private = world.submitted(world.student(), consent=False)["id"]
    with pytest.raises(IntegrityError, match="approved_needs_consent"):
        force(world, private, status="approved")
    assert world.wall() == []


def test_the_database_refuses_a_featured_testimonial_that_is_not_approved(world: World):
    pending = world.submitted(world.student())["id"]
    with pytest.raises(IntegrityError, match="featured_is_approved"):
        force(world, pending, featured=True)


def test_the_original_text_is_written_once_and_kept(world: World):
    t = world.submitted(world.student(), display_name="Ada")["id"]
    world.staff("put", f"/{t}", json={"display_name": "A. L.", "note": "privacy"})
    with world.svc.runtime.db.session() as s:
        row = s.get(models.Testimonial, t)
        assert (row.original_display_name, row.display_name) == ("Ada", "A. L.")
