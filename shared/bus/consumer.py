"""The consumer: applies each event once, retries failures with backoff, then dead-letters.

Per message: refuse anything the catalogue does not accept (straight to the dead-letter queue);
skip an event the inbox already holds; otherwise run the service's handler, whose commit also
writes the inbox row. Acknowledge only after that commit. A handler that raises is sent to a
delay queue for another try (RabbitMQ), and after ``BUS_MAX_ATTEMPTS`` to ``<queue>.dlq`` with
the error attached, so one bad event never stops the queue.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any

from kombu import Connection, Consumer, Producer
from kombu.message import Message

from shared import context, metrics
from shared.bus.broker import Broker
from shared.bus.envelope import Event, InvalidEvent, parse_event
from shared.bus.handlers import Handlers
from shared.db import DuplicateEvent, UowFactory, database_unavailable

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
    ) -> None:
        self.service = service
        self.handlers = handlers
        self.uow_factory = uow_factory
        self.broker = broker
        self.prefetch = prefetch
        self._connection: Connection | None = None
        self._consumer: Consumer | None = None
        self._producer: Producer | None = None
        self.processed = 0

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
            except TimeoutError:
                if self.processed > before:
                    break
                if self.broker.settings.is_rabbitmq:
                    self._connection.heartbeat_check()
        return self.processed - before

    def run(self, stop: threading.Event) -> None:
        failures = 0
        while not stop.is_set():
            try:
                self.poll(1.0)
                failures = 0
            except Exception as exc:
                self.close()
                failures += 1
                wait = min(30.0, 0.5 * 2 ** min(failures, 6))
                log.warning(
                    "consumer lost the broker or the database; reconnecting",
                    extra={"error": str(exc), "wait": wait},
                )
                stop.wait(wait)
        self.close()

    # --- one message -------------------------------------------------------------------------

    def _on_message(self, message: Message) -> None:
        self.processed += 1
        attempt = _attempt(message.headers)
        try:
            event = parse_event(message.body)
        except InvalidEvent as exc:
            log.error("refused an event the catalogue does not accept", extra={"error": str(exc)})
            self._dead_letter(message, attempt, f"InvalidEvent: {exc}", "unknown")
            message.ack()
            return
        with context.flow(correlation=event.correlation_id, causation=event.id):
            try:
                self.apply(event)
            except Exception as exc:
                if database_unavailable(exc):
                    raise DatabaseUnavailable(str(exc)[:300]) from exc
                error = f"{type(exc).__name__}: {exc}"
                if attempt < self.broker.settings.max_attempts:
                    log.warning(
                        "handler failed; will retry",
                        extra={
                            "event_id": event.id,
                            "type": event.type,
                            "attempt": attempt,
                            "error": error,
                        },
                    )
                    self._retry(message, attempt, error, event.type)
                else:
                    log.error(
                        "handler kept failing; dead-lettered",
                        extra={
                            "event_id": event.id,
                            "type": event.type,
                            "attempt": attempt,
                            "error": error,
                        },
                    )
                    self._dead_letter(message, attempt, error, event.type)
        message.ack()

    def apply(self, event: Event) -> bool:
        """Apply one event through its handler exactly once; False if it was a duplicate."""
        handler = self.handlers.get(event.type)
        uow = self.uow_factory()
        if handler is None or uow.already_handled(event.id):
            metrics.EVENTS_DUPLICATE.labels(self.service, event.type).inc()
            return False
        uow.handling = event
        try:
            handler(event, uow)
            if not uow.inbox_written:
                with uow:
                    uow.commit()
        except DuplicateEvent:
            metrics.EVENTS_DUPLICATE.labels(self.service, event.type).inc()
            return False
        metrics.EVENTS_CONSUMED.labels(self.service, event.type).inc()
        # Logged inside the event's flow (``_on_message``): this line carries the correlation
        # id of the request that started it and, as causation id, this event's own id.
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
        else:
            # Brokers without TTL/dead-lettering (the embedded filesystem transport): wait here,
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
