"""What a form page needs between two renders: the values typed, and the messages per field."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import request

from services.web.clients import ServiceError


@dataclass
class Form:
    """Field values and errors; messages for fields the page has no input for go in ``summary``."""

    fields: tuple[str, ...]
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    summary: list[str] = field(default_factory=list)

    @classmethod
    def posted(cls, *fields: str) -> Form:
        return cls(fields, {f: request.form.get(f, "").strip() for f in fields})

    def __getitem__(self, name: str) -> str:
        return self.values.get(name, "")

    def require(self, name: str, message: str) -> None:
        if not self.values.get(name):
            self.add(name, message)

    def add(self, name: str, message: str) -> None:
        if name in self.fields:
            self.errors.setdefault(name, []).append(message)
        else:
            self.summary.append(message)

    def take(self, error: ServiceError, *, renames: dict[str, str] | None = None) -> None:
        """Put a service's problem+json messages next to the fields they name."""
        renames = renames or {}
        placed = False
        for name, messages in error.errors.items():
            target = renames.get(name, name)
            for message in messages:
                if target in self.fields:
                    placed = True
                self.add(target, message)
        if not placed and not self.summary:
            self.summary.append(error.detail)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.summary
