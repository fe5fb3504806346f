"""Business-rule exceptions and their one mapping to HTTP problems (RFC 9457).

Domain code raises these in the business's own words (``CycleFull``, ``SlotTaken``); the HTTP
layer in ``shared.http`` turns every one into ``application/problem+json`` so no endpoint writes
its own error handling.
"""

from __future__ import annotations


class DomainError(Exception):
    """A request that breaks a business rule. Subclass per rule; set ``status`` and ``title``."""

    status: int = 422
    title: str = "Request breaks a business rule"

    def __init__(self, detail: str | None = None, *, field: str | None = None) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.field = field

    @property
    def code(self) -> str:
        name = type(self).__name__
        return "".join(f"-{c.lower()}" if c.isupper() else c for c in name).lstrip("-")

    def errors(self) -> dict[str, list[str]] | None:
        return {self.field: [self.detail]} if self.field else None

    def headers(self) -> dict[str, str]:
        """HTTP headers the problem response must carry (e.g. ``Retry-After``)."""
        return {}


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Conflict(DomainError):
    status = 409
    title = "Conflict with the current state"


class Unauthorized(DomainError):
    status = 401
    title = "Authentication required"


class Forbidden(DomainError):
    status = 403
    title = "Not allowed"


class TooManyRequests(DomainError):
    status = 429
    title = "Too many requests"

    def __init__(
        self, detail: str | None = None, *, field: str | None = None, retry_after: int | None = None
    ) -> None:
        super().__init__(detail, field=field)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}


class Unavailable(DomainError):
    status = 503
    title = "A dependency is unavailable"


class PaymentsUnavailable(Unavailable):
    title = "Payments are unavailable"
