"""A tutor's profile: opened when identity registers a tutor, then edited by the tutor."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.identity.events import UserRegistered
from services.tutoring import domain, loading
from services.tutoring.models import Tutor
from services.tutoring.queries import tutor_view
from shared.auth import Principal
from shared.bus.handlers import handles
from shared.db import UnitOfWork, utcnow

PROFILE_FIELDS = (
    "bio",
    "exams",
    "time_zone",
    "session_rate_minor",
    "currency",
    "photo_url",
    "consultation_minutes",
    "session_minutes",
    "buffer_minutes",
    "min_notice_hours",
    "horizon_days",
)
SLOT_KINDS = ("consultation", "session")


@handles(UserRegistered)
def tutor_registered(uow: UnitOfWork, event: UserRegistered) -> None:
    """Identity made a tutor account (an invitation was accepted): open their profile.

    Other roles are ignored."""
    if "tutor" not in event.roles:
        return
    with uow:
        row = uow.session.get(Tutor, event.user_id)
        if row is None:
            loading.insert_tutor(uow.session, event.user_id, event.name, event.email)
        else:
            row.name, row.email = event.name, event.email
        uow.commit()


def my_profile(uow: UnitOfWork, principal: Principal) -> dict[str, Any]:
    """The caller's profile (opened now if identity's event has not arrived yet)."""
    with uow:
        view = tutor_view(loading.my_tutor(uow.session, principal))
        uow.commit()
        return view


def update_profile(uow: UnitOfWork, principal: Principal, changes: Mapping[str, Any]) -> dict:
    """A tutor edits their public profile and booking settings (validated by the domain)."""
    with uow:
        row = loading.my_tutor(uow.session, principal, lock=True)
        values = {name: getattr(row, name) for name in PROFILE_FIELDS}
        values.update({k: v for k, v in changes.items() if k in PROFILE_FIELDS})
        _check_profile(values)
        if "exams" in changes:
            values["exams"] = [e for e in domain.EXAMS if e in set(changes["exams"])]
        values["currency"] = values["currency"].upper()
        for name, value in values.items():
            setattr(row, name, value)
        row.updated_at = utcnow()
        view = tutor_view(row)
        uow.commit()
        return view


def _check_profile(values: Mapping[str, Any]) -> None:
    """The zone is real and each kind of meeting makes sense with the booking settings."""
    domain.zone(values["time_zone"], field="time_zone")
    for kind in SLOT_KINDS:
        domain.SlotRules(
            length_minutes=values[f"{kind}_minutes"],
            buffer_minutes=values["buffer_minutes"],
            min_notice_hours=values["min_notice_hours"],
            horizon_days=values["horizon_days"],
        )
