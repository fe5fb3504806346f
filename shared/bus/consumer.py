"""The consumer: applies each event once, retries failures with backoff, then dead-letters.

Per message: refuse anything the catalogue does not accept (straight to the dead-letter queue);
skip an event the inbox already holds; otherwise run the service's handler, whose commit also
writes the inbox row. Acknowledge only after that commit. A handler that raises is sent to a
delay queue for another try (on RabbitMQ; the embedded transport holds it back itself), and
after ``BUS_MAX_ATTEMPTS`` to ``<queue>.dlq`` with the error attached, so one bad event never
stops the queue.

**Batches.** What the broker has already delivered (up to the prefetch) is applied in one
database transaction: each event's handler runs in a savepoint of it (``UnitOfWork.join``), so
a handler that fails is rolled back alone and retried, and the batch is committed once, then
every event of it acknowledged. A crash before that commit leaves every event of the batch
unacknowledged and unapplied, so the broker delivers them again: no event is lost, none is
applied twice (the inbox rows commit with the effects). One commit per batch instead of one
per event is what lets the consumer keep up with RabbitMQ (docs/benchmarks.md). A handler
registered with ``outside_effects`` (it calls Stripe) is applied in its own transaction,
committed at once, as before; so is every event on SQLite (the embedded default).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from kombu import Connection, Consumer, Producer
from kombu.message import Message
from sqlalchemy.orm import Session

from shared import context, metrics
from shared.backoff import retry_wait
from shared.bus.broker import Broker
from shared.bus.envelope import Event, InvalidEvent, parse_event
from shared.bus.filesystem import DELIVER_AFTER_HEADER
from shared.bus.handlers import Handlers
from shared.db import UowFactory
from shared.outbox import DuplicateEvent
from shared.sql import database_unavailable

log = logging.getLogger(__name__)

ATTEMPT_HEADER = "x-attempt"
ERROR_HEADER = "x-error"


class DatabaseUnavailable(Exception):
    """The service's database cannot be reached: stop consuming for a while, lose nothing.

    Raised out of the message callback so the consumer drops its connection: RabbitMQ puts the
    unacknowledged messages back in the queue, and no try is counted against an event that did
    nothing wrong (a short outage would otherwise dead-letter every event that arrived in it).
    """


class EventConsumer:
    def __init__(
        self,
        service: str,
        handlers: Handlers,
        uow_factory: UowFactory,
        broker: Broker,
        prefetch: int = 50,
        batch_size: int = 50,
    ) -> None:
        self.service = service
        self.handlers = handlers
        self.uow_factory = uow_factory
        self.broker = broker
        self.prefetch = prefetch
        self.batch_size = batch_size
        self._delivered: list[Message] = []
        self.after_batch: Callable[[bool], None] | None = None
        """Called once a batch is committed and acknowledged, with whether its handlers wrote
        events to the outbox (the worker wakes its relay only then, its loops always)."""
        self._recorded = False
        self._connection: Connection | None = None
        self._consumer: Consumer | None = None
        self._producer: Producer | None = None
        self.processed = 0
        """Messages applied (or dead-lettered) and acknowledged."""
        self.received = 0
        """Messages the broker delivered, applied or not (an outage may send them back)."""

    # --- connection --------------------------------------------------------------------------

    def open(self) -> None:
        if self._connection is not None:
            return
        conn = self.broker.connection()
        conn.ensure_connection(max_retries=1)
        queue = self.broker.declare(conn, self.service, self.handlers.event_types)
        self._producer = Producer(conn.channel())
        self._consumer = Consumer(
            conn.channel(),
            queues=[queue],
            on_message=self._on_message,
            prefetch_count=self.prefetch,
            accept=None,
        )
        self._consumer.consume()
        self._connection = conn

    def close(self) -> None:
        conn, self._connection = self._connection, None
        self._consumer = self._producer = None
        self._delivered = []  # never acknowledged: the broker delivers them again
        if conn is not None:
            try:
                conn.release()
            except Exception:  # closing a dead connection: nothing left to save
                log.debug("error closing consumer connection", exc_info=True)

    def poll(self, timeout: float = 1.0) -> int:
        """Handle what arrives within ``timeout`` seconds; return how many messages."""
        self.open()
        before = self.processed
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                self._connection.drain_events(timeout=min(remaining, 0.25))
                self._drain_delivered()
            except TimeoutError:
                if self.processed > before:
                    break
                if self.broker.settings.is_rabbitmq:
                    self._connection.heartbeat_check()
            if self._delivered:
                self._apply_batch()
        return self.processed - before

    def _drain_delivered(self) -> None:
        """Take in what the broker has delivered already, without waiting, up to a batch."""
        while len(self._delivered) < self.batch_size:
            try:
                self._connection.drain_events(timeout=0)
            except (TimeoutError, BlockingIOError):
                return

    def run(self, stop: threading.Event) -> None:
        failures = 0
        while not stop.is_set():
            try:
                self.poll(1.0)
                failures = 0
            except Exception as exc:
                self.close()
                failures += 1
                wait = retry_wait(failures)
                log.warning(
                    "consumer lost the broker or the database; reconnecting",
                    extra={"error": str(exc), "wait": wait},
                )
                stop.wait(wait)
        self.close()

    # --- a batch of messages ---------------------------------------------------------------------

    def _on_message(self, message: Message) -> None:
        self.received += 1
        self._delivered.append(message)

    def _apply_batch(self) -> None:
        """Apply the delivered messages (one transaction), then retry, dead-letter and ack."""
        messages, self._delivered = self._delivered, []
        self._recorded = False
        parsed = [self._parse(message) for message in messages]
        ids = [event.id for _, _, event, _ in parsed if event is not None]
        answers: list[tuple[Message, int, str | None, str]] = []
        """(message, attempt, error or None, event type or "" if unreadable), in order."""
        db = self.uow_factory().db
        batch: Session | None = None
        handled: set[str] = set()
        try:
            for message, attempt, event, error in parsed:
                if event is None:
                    answers.append((message, attempt, error, ""))
                    continue
                # SQLite (the embedded default) gets no batches: pysqlite's savepoints are not
                # to be trusted inside its implicit transactions.
                alone = db.is_sqlite or self.handlers.has_outside_effects(event.type)
                if alone and batch is not None:
                    # What came before is committed first: the outside call then commits on
                    # its own, and never waits for a lock this thread's batch holds.
                    batch.commit()
                    batch.close()
                    batch = None
                if not alone and batch is None:
                    batch = db.sessions()
                    handled = self.uow_factory().join(batch).handled_among(ids)
                error = self._apply_one(event, attempt, None if alone else batch, handled)
                answers.append((message, attempt, error, event.type))
            if batch is not None:
                batch.commit()
        finally:
            if batch is not None:
                batch.close()  # not committed: rolled back, and nothing of it is acknowledged
        for message, attempt, error, event_type in answers:
            if error is not None:
                if event_type and attempt < self.broker.settings.max_attempts:
                    self._retry(message, attempt, error, event_type)
                else:
                    self._dead_letter(message, attempt, error, event_type or "unknown")
            message.ack()
            self.processed += 1
        if self.after_batch is not None:
            self.after_batch(self._recorded)

    def _parse(self, message: Message) -> tuple[Message, int, Event | None, str | None]:
        attempt = _attempt(message.headers)
        try:
            return message, attempt, parse_event(message.body), None
        except InvalidEvent as exc:
            log.error("refused an event the catalogue does not accept", extra={"error": str(exc)})
            return message, attempt, None, f"InvalidEvent: {exc}"

    def _apply_one(
        self, event: Event, attempt: int, batch: Session | None, handled: set[str]
    ) -> str | None:
        """Apply one event (in ``batch`` if given); the error if its handler failed."""
        with context.flow(correlation=event.correlation_id, causation=event.id):
            try:
                if batch is None:
                    self.apply(event)
                elif self.apply(event, batch=batch, handled=handled):
                    handled.add(event.id)
            except Exception as exc:
                if database_unavailable(exc):
                    raise DatabaseUnavailable(str(exc)[:300]) from exc
                error = f"{type(exc).__name__}: {exc}"
                retry = attempt < self.broker.settings.max_attempts
                log.log(
                    logging.WARNING if retry else logging.ERROR,
                    "handler failed; will retry"
                    if retry
                    else "handler kept failing; dead-lettered",
                    extra={
                        "event_id": event.id,
                        "type": event.type,
                        "attempt": attempt,
                        "error": error,
                    },
                )
                return error
        return None

    def apply(
        self, event: Event, batch: Session | None = None, handled: set[str] | None = None
    ) -> bool:
        """Apply one event through its handler exactly once; False if it was a duplicate.

        With ``batch``, inside that open transaction (it is durable once the caller commits);
        ``handled``, if given, holds the ids the inbox of that transaction already has.
        """
        handler = self.handlers.get(event.type)
        uow = self.uow_factory()
        if batch is not None:
            uow.join(batch)
        duplicate = event.id in handled if handled is not None else uow.already_handled(event.id)
        if handler is None or duplicate:
            metrics.EVENTS_DUPLICATE.labels(self.service, event.type).inc()
            return False
        uow.handling = event
        try:
            handler(event, uow)
            if not uow.inbox_written:
                with uow:
                    uow.commit()
            self._recorded |= uow.events_written > 0
        except DuplicateEvent:
            metrics.EVENTS_DUPLICATE.labels(self.service, event.type).inc()
            return False
        metrics.EVENTS_CONSUMED.labels(self.service, event.type).inc()
        # Logged inside the event's flow (``_apply_one``): this line carries the correlation id
        # of the request that started it and, as causation id, this event's own id.
        log.info(
            "event applied",
            extra={"event_id": event.id, "type": event.type, "producer": event.producer},
        )
        return True

    def _republish(self, message: Message, queue: str, headers: dict[str, Any]) -> None:
        props = message.properties or {}
        self._producer.publish(
            message.body,
            exchange="",
            routing_key=queue,
            headers={**(message.headers or {}), **headers},
            message_id=props.get("message_id"),
            type=props.get("type"),
            content_type=message.content_type or "application/json",
            content_encoding=message.content_encoding or "utf-8",
            delivery_mode=2,
            retry=False,
        )

    def _retry(self, message: Message, attempt: int, error: str, event_type: str) -> None:
        metrics.EVENTS_RETRIED.labels(self.service, event_type).inc()
        headers = {ATTEMPT_HEADER: attempt + 1, ERROR_HEADER: error[:2000]}
        if self.broker.delayed_retries:
            self._republish(message, self.broker.retry_queue_name(self.service, attempt), headers)
        elif self.broker.settings.is_filesystem:
            # The embedded transport holds the message back itself until the delay is over.
            delay = self.broker.retry_delay_ms(attempt) / 1000
            headers[DELIVER_AFTER_HEADER] = time.time() + delay
            self._republish(message, self.broker.main_queue_name(self.service), headers)
        else:
            # Brokers without TTL/dead-lettering (memory://, in benchmarks): wait here,
            # briefly, then put the event back at the end of the main queue.
            time.sleep(min(self.broker.retry_delay_ms(attempt), 2000) / 1000)
            self._republish(message, self.broker.main_queue_name(self.service), headers)

    def _dead_letter(self, message: Message, attempt: int, error: str, event_type: str) -> None:
        metrics.EVENTS_DEAD_LETTERED.labels(self.service, event_type).inc()
        self._republish(
            message,
            self.broker.dlq_name(self.service),
            {
                ATTEMPT_HEADER: attempt,
                ERROR_HEADER: error[:2000],
                "x-dead-lettered-at": datetime.now(UTC).isoformat(),
                "x-service": self.service,
            },
        )


def _attempt(headers: dict[str, Any] | None) -> int:
    """The try this delivery is (1 for a first delivery); a garbled header counts as a first."""
    try:
        return max(1, int((headers or {}).get(ATTEMPT_HEADER, 1)))
    except (TypeError, ValueError):
        return 1
