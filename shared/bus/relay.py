"""The outbox relay: moves committed events from a service's outbox to the broker.

Rows are published with publisher confirms (RabbitMQ) and only then marked published, inside
the transaction that locked them. A broker outage leaves them in the outbox for the next
round; a crash between publish and commit publishes a row twice, which every consumer's inbox
absorbs. So events are delayed by failures, never lost.

The confirms are waited for once per batch, not once per message: every row of the batch is
published on a channel in confirm mode, then the relay waits until the broker has confirmed
all of them (a nack, or no answer within ``CONFIRM_TIMEOUT``, fails the batch: nothing of it
is marked published). Waiting for each confirm in turn made the relay a round trip per event
(docs/benchmarks.md).
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
from datetime import timedelta

from kombu import Connection, Producer

from shared import context, metrics
from shared.backoff import retry_wait
from shared.bus.broker import Broker
from shared.db import Database
from shared.outbox import RelayStatements
from shared.sql import utcnow

log = logging.getLogger(__name__)

RETENTION = timedelta(days=7)
CONFIRM_TIMEOUT = 30.0
"""Seconds the broker has to confirm a published batch."""


class PublishNotConfirmed(Exception):
    """The broker refused (nack) or did not confirm a published event in time."""


class _BatchConfirms:
    """Publisher confirms of one AMQP channel, counted by delivery tag (RabbitMQ)."""

    def __init__(self, channel) -> None:
        self.channel = channel
        self.published = 0
        self.unconfirmed: set[int] = set()
        self.refused = False
        channel.confirm_select()
        channel.events["basic_ack"].add(self._ack)
        channel.events["basic_nack"].add(self._nack)

    def sent(self) -> None:
        self.published += 1
        self.unconfirmed.add(self.published)

    def _settle(self, tag: int, multiple: bool) -> None:
        if multiple:
            self.unconfirmed = {t for t in self.unconfirmed if t > tag}
        else:
            self.unconfirmed.discard(tag)

    def _ack(self, tag: int, multiple: bool) -> None:
        self._settle(tag, multiple)

    def _nack(self, tag: int, multiple: bool) -> None:
        self.refused = True
        self._settle(tag, multiple)

    def wait(self, connection: Connection, timeout: float = CONFIRM_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while self.unconfirmed:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PublishNotConfirmed(f"{len(self.unconfirmed)} events not confirmed")
            connection.drain_events(timeout=remaining)
        if self.refused:
            self.refused = False
            raise PublishNotConfirmed("the broker refused (nack) an event of the batch")


def _log_published(event_id: str, event_type: str, payload: str) -> None:
    """One line per relayed event, in the event's own flow (the relay serves every flow)."""
    try:
        envelope = json.loads(payload)
    except ValueError:
        envelope = {}
    with context.flow(
        correlation=envelope.get("correlation_id"), causation=envelope.get("causation_id")
    ):
        log.debug("event published", extra={"event_id": event_id, "type": event_type})


class OutboxRelay:
    def __init__(self, service: str, db: Database, broker: Broker, batch_size: int = 200) -> None:
        self.service = service
        self.db = db
        self.broker = broker
        self.batch_size = batch_size
        self._connection: Connection | None = None
        self._producer: Producer | None = None
        self._confirms: _BatchConfirms | None = None

    @functools.cached_property
    def _statements(self) -> RelayStatements:
        """Built on first use: a service without a database, the site, has a relay that never
        runs; and once, as building them cost more than running them (docs/benchmarks.md)."""
        return self.db.tables.relay_statements(self.batch_size)

    def _ensure_producer(self) -> Producer:
        if self._producer is None:
            rabbitmq = self.broker.settings.is_rabbitmq
            self._connection = self.broker.connection(confirm_each=not rabbitmq)
            self._connection.ensure_connection(max_retries=1)
            self.broker.declare_exchange(self._connection)
            channel = self._connection.channel()
            self._confirms = _BatchConfirms(channel) if rabbitmq else None
            self._producer = Producer(channel, exchange=self.broker.exchange)
        return self._producer

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.release()
            finally:
                self._connection = None
                self._producer = None
                self._confirms = None

    def relay_once(self) -> int:
        """Publish one batch of unpublished events in order; return how many went out."""
        statements = self._statements
        with self.db.engine.begin() as conn:
            rows = conn.execute(statements.next_batch).all()
            if not rows:
                return 0
            ids = [r.id for r in rows]
            try:
                producer = self._ensure_producer()
                for row in rows:
                    producer.publish(
                        row.payload,
                        exchange=self.broker.exchange,
                        routing_key=row.type,
                        message_id=row.id,
                        type=row.type,
                        content_type="application/json",
                        content_encoding="utf-8",
                        delivery_mode=2,
                        headers={"producer": self.service},
                        retry=False,
                    )
                    if self._confirms is not None:
                        self._confirms.sent()
                    if log.isEnabledFor(logging.DEBUG):
                        _log_published(row.id, row.type, row.payload)
                if self._confirms is not None:
                    self._confirms.wait(self._connection)
            except Exception as exc:
                self.close()
                # Committed below (raising here would roll it back): the backlog shows why.
                failure = exc
                conn.execute(statements.mark_failed, {"ids": ids, "error": str(exc)[:2000]})
            else:
                failure = None
                conn.execute(statements.mark_published, {"ids": ids, "published": utcnow()})
        if failure is not None:
            raise failure
        # Counted once committed: a batch that failed half-way is published again, not twice.
        for row in rows:
            metrics.EVENTS_PUBLISHED.labels(self.service, row.type).inc()
        return len(rows)

    def backlog(self) -> tuple[int, float | None]:
        """How many events wait, and the age in seconds of the oldest (for /metrics)."""
        return self.db.outbox_backlog()

    def purge_published(self) -> int:
        with self.db.session() as session, session.begin():
            return self.db.tables.purge_published(session, RETENTION)

    def run(
        self,
        stop: threading.Event,
        idle_wait: float = 0.05,
        wakeup: threading.Event | None = None,
    ) -> None:
        """Relay until ``stop``; when idle, look again after ``idle_wait`` or at ``wakeup``.

        The worker sets ``wakeup`` after its consumer's batches and, on PostgreSQL, at each
        notification of its outbox listener (shared/bus/outbox_listener.py); ``idle_wait`` is
        then only a fallback.
        """
        failures = 0
        rounds = 0
        while not stop.is_set():
            try:
                sent = self.relay_once()
                failures = 0
            except Exception as exc:
                failures += 1
                wait = retry_wait(failures)
                log.warning(
                    "outbox relay failed; retrying", extra={"error": str(exc), "wait": wait}
                )
                stop.wait(wait)
                continue
            rounds += 1
            if rounds % 2000 == 0:
                self.purge_published()
            if not sent:
                if wakeup is None:
                    stop.wait(idle_wait)
                elif wakeup.wait(idle_wait):
                    wakeup.clear()
        self.close()
