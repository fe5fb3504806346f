"""What one service process needs at hand: its database, the broker, and units of work."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import MetaData

from shared import config
from shared.bus.broker import Broker
from shared.db import Database, UnitOfWork


@dataclass
class Runtime:
    service: str
    db: Database | None
    broker: Broker | None
    extras: dict = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        service: str,
        metadata: MetaData | None,
        *,
        database_url: str | None = None,
        broker: Broker | None = None,
    ) -> Runtime:
        """The service's runtime from the environment; tests pass their own database and broker."""
        db = None
        if metadata is not None:
            schema = None if database_url else config.database_schema(service)
            db = Database(
                database_url or config.database_url(service), schema=schema, metadata=metadata
            )
        return cls(service=service, db=db, broker=broker or Broker(config.bus_settings()))

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.db, producer=self.service)
