"""The catalogue of practice assessments (NBME, UWorld, the free official questions...).

Scales, passing marks and default targets are data the admin keeps, never constants in code:
publishers change them. A form's scale is frozen once results were recorded on it, because
every one of those scores was read on that scale.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.tutoring.models import AssessmentForm, AssessmentResult
from shared.db import UnitOfWork, utcnow
from shared.errors import Conflict, DomainError, NotFound

SCALES = ("percent", "three_digit", "pass_fail")
DEFAULT_RANGES: dict[str, tuple[float, float]] = {
    "percent": (0.0, 100.0),
    "three_digit": (1.0, 300.0),
    "pass_fail": (0.0, 1.0),
}
"""What a scale spans when the admin does not say: the shape of the scale itself (percent
correct, the three-digit score, 0 fail / 1 pass), not a publisher's figure."""
SCALE_NAMES = {"percent": "percent", "three_digit": "three-digit", "pass_fail": "pass/fail"}

FROZEN_WITH_RESULTS = ("exam", "scale", "scale_min", "scale_max")
"""Fields that would change what recorded scores mean (or which plans they belong to)."""
EDITABLE = (
    "name",
    "exam",
    "scale",
    "scale_min",
    "scale_max",
    "passing_score",
    "default_target",
    "official",
    "active",
)


class InvalidForm(DomainError):
    title = "The assessment form is not valid"


class FormNotFound(NotFound):
    title = "No such assessment form"


class FormTaken(Conflict):
    title = "Another assessment form has that id or name"


class FormInUse(Conflict):
    title = "Results were recorded on this form"


def form_view(row: AssessmentForm) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "exam": row.exam,
        "scale": row.scale,
        "scale_min": row.scale_min,
        "scale_max": row.scale_max,
        "passing_score": row.passing_score,
        "default_target": row.default_target,
        "official": row.official,
        "active": row.active,
    }


ORDER = (AssessmentForm.exam, AssessmentForm.official, AssessmentForm.name)


def active_forms(uow: UnitOfWork) -> list[dict[str, Any]]:
    """The forms a result may be recorded on (what the site's form select offers)."""
    with uow:
        rows = uow.session.scalars(
            select(AssessmentForm).where(AssessmentForm.active.is_(True)).order_by(*ORDER)
        )
        return [form_view(r) for r in rows]


def all_forms(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Every form, retired ones too, for the admin's catalogue page."""
    with uow:
        return [form_view(r) for r in uow.session.scalars(select(AssessmentForm).order_by(*ORDER))]


def slug(name: str) -> str:
    """``NBME Comprehensive (Step 1)`` → ``nbme-comprehensive-step-1``: a readable id."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return text[:56].strip("-") or "form"


def _free_id(db: Session, name: str) -> str:
    base = slug(name)
    candidate, n = base, 1
    while db.get(AssessmentForm, candidate) is not None:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def check_form(values: Mapping[str, Any]) -> None:
    """The rules one form must keep, whichever fields changed: a range that is a range, the
    passing mark and target on the scale, pass/fail read as 0 or 1."""
    low, high = values["scale_min"], values["scale_max"]
    if values["scale"] == "pass_fail" and (low, high) != (0, 1):
        raise InvalidForm(
            "A pass/fail form runs from 0 (fail) to 1 (pass)",
            field="scale_min" if low != 0 else "scale_max",
        )
    # A publisher's form may use part of its scale (a percent form from 20 to 90), never
    # more than the scale has: a percent above 100 or a three-digit score of 0 means nothing.
    bottom, top = DEFAULT_RANGES[values["scale"]]
    words = SCALE_NAMES[values["scale"]]
    if not bottom <= low <= top:
        raise InvalidForm(
            f"The lowest score of a {words} form lies within {bottom:g}-{top:g}", field="scale_min"
        )
    if not bottom <= high <= top:
        raise InvalidForm(
            f"The highest score of a {words} form lies within {bottom:g}-{top:g}",
            field="scale_max",
        )
    if not low < high:
        raise InvalidForm(
            f"The scale's top ({high:g}) must be above its bottom ({low:g})", field="scale_max"
        )
    for name, what in (("passing_score", "passing mark"), ("default_target", "target")):
        value = values.get(name)
        if value is not None and not low <= value <= high:
            raise InvalidForm(
                f"The {what} {value:g} is outside the scale {low:g}-{high:g}", field=name
            )
        if value is not None and values["scale"] == "pass_fail" and value not in (0, 1):
            raise InvalidForm(f"On a pass/fail form the {what} is 0 (fail) or 1 (pass)", field=name)


def _name_taken(db: Session, name: str, but: str | None = None) -> bool:
    query = select(AssessmentForm.id).where(AssessmentForm.name == name)
    if but is not None:
        query = query.where(AssessmentForm.id != but)
    return db.scalar(query) is not None


def _flush_unique(db: Session, name: str) -> None:
    """Write now: the unique id and name decide a race between two admins (the check above
    only gives the common case a clear message)."""
    try:
        with db.begin_nested():
            db.flush()
    except IntegrityError as exc:
        raise FormTaken(f"There already is a form with that id or the name {name!r}") from exc


def create_form(uow: UnitOfWork, body: Mapping[str, Any]) -> dict[str, Any]:
    """A new form in the catalogue; its id is the given slug, or one made from the name."""
    scale = body["scale"]
    low, high = DEFAULT_RANGES[scale]
    values = {
        "name": body["name"].strip(),
        "exam": body["exam"],
        "scale": scale,
        "scale_min": body.get("scale_min", low),
        "scale_max": body.get("scale_max", high),
        "passing_score": body.get("passing_score"),
        "default_target": body.get("default_target"),
        "official": body.get("official", False),
        "active": body.get("active", True),
    }
    if not values["name"]:
        raise InvalidForm("A form needs a name", field="name")
    check_form(values)
    with uow:
        db = uow.session
        if body.get("id") and db.get(AssessmentForm, body["id"]) is not None:
            raise FormTaken(f"There already is a form {body['id']!r}", field="id")
        if _name_taken(db, values["name"]):
            raise FormTaken(f"There already is a form named {values['name']!r}", field="name")
        now = utcnow()
        row = AssessmentForm(
            id=body.get("id") or _free_id(db, values["name"]),
            created_at=now,
            updated_at=now,
            **values,
        )
        db.add(row)
        _flush_unique(db, values["name"])
        view = form_view(row)
        uow.commit()
        return view


def update_form(uow: UnitOfWork, form_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Change some fields; the scale (and exam) stay as they are once results use the form."""
    with uow:
        db = uow.session
        row = db.scalar(
            select(AssessmentForm).where(AssessmentForm.id == form_id).with_for_update()
        )
        if row is None:
            raise FormNotFound(f"There is no assessment form {form_id!r}")
        values = {name: getattr(row, name) for name in EDITABLE}
        for name in EDITABLE:
            if name in changes:
                values[name] = changes[name].strip() if name == "name" else changes[name]
        if not values["name"]:
            raise InvalidForm("A form needs a name", field="name")
        if "scale" in changes and changes["scale"] != row.scale:
            # A new scale without a new range means the new scale's own range.
            low, high = DEFAULT_RANGES[changes["scale"]]
            values["scale_min"] = changes.get("scale_min", low)
            values["scale_max"] = changes.get("scale_max", high)
        check_form(values)
        changed = [n for n in FROZEN_WITH_RESULTS if values[n] != getattr(row, n)]
        if changed and db.scalar(select(exists().where(AssessmentResult.form_id == row.id))):
            raise FormInUse(
                "Results were recorded on this form, so its scale and exam stay as they are; "
                "add a new form instead",
                field=changed[0],
            )
        if values["name"] != row.name and _name_taken(db, values["name"], but=row.id):
            raise FormTaken(f"There already is a form named {values['name']!r}", field="name")
        for name, value in values.items():
            setattr(row, name, value)
        row.updated_at = utcnow()
        _flush_unique(db, values["name"])
        view = form_view(row)
        uow.commit()
        return view
