"""Reading and replaying a service's dead-letter queue (``make dlq``, the admin page).

Listing takes every message off the queue and puts it back in the same order, which works the
same on RabbitMQ and on the embedded transport (whose ``get`` cannot leave a message
unacknowledged on the queue).

Why that is safe:

- No message is lost. Each one is acknowledged only after its copy was published (with
  publisher confirms on RabbitMQ) back to the dead-letter queue or, for a replay, to the
  service's queue. A sweep that dies half-way leaves its unacknowledged messages to the broker,
  which puts them back. The worst case is a crash between publish and acknowledge: that letter
  is listed twice, and replaying both copies applies it once (the inbox skips the second).
- Sweeps never overlap. While one sweep holds the messages unacknowledged, a second one would
  find the queue empty (the admin page would show "no dead letters", a replay of an id would
  find nothing to replay), or take the first sweep's republished copies and show duplicates.
  So a sweep first takes a lock that lives where the queue lives: on RabbitMQ an *exclusive*
  queue ``<service>.events.dlq.sweep``, which only one connection in the cluster can hold and
  which the broker drops when that connection dies (no stale lock after a crash); on the
  embedded transport, whose folders only one machine sees, a file lock beside them. Every
  process agrees on it: gunicorn's workers, several replicas, and ``make dlq``. A sweep that
  cannot get the lock within ``LOCK_WAIT`` seconds raises ``DeadLettersBusy``.
- A handler dead-lettering a new event during a sweep simply adds to the queue: the sweep
  either takes it (and lists it) or leaves it for the next look.
"""

from __future__ import annotations

import fcntl
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from amqp.exceptions import ResourceLocked
from kombu import Connection, Producer, Queue

from shared import config, metrics
from shared.bus.broker import Broker
from shared.bus.consumer import ATTEMPT_HEADER, ERROR_HEADER

LOCK_WAIT = 10.0
"""Seconds a sweep waits for another one (listing a few thousand letters takes about one)."""


class DeadLettersBusy(Exception):
    """Another sweep of the same dead-letter queue held the lock for ``LOCK_WAIT`` seconds."""


@dataclass(frozen=True)
class DeadLetter:
    message_id: str | None
    type: str | None
    attempts: int
    error: str
    dead_lettered_at: str | None
    body: str

    def as_dict(self) -> dict:
        try:
            envelope = json.loads(self.body)
        except ValueError:
            envelope = None
        if not isinstance(envelope, dict):
            envelope = {}
        return {
            "message_id": self.message_id,
            "type": self.type,
            "attempts": self.attempts,
            "error": self.error,
            "dead_lettered_at": self.dead_lettered_at,
            "correlation_id": envelope.get("correlation_id"),
            "data": envelope.get("data"),
        }


_local_locks: dict[str, threading.Lock] = {}
_local_locks_guard = threading.Lock()


@contextmanager
def _exclusive_sweep(conn: Connection, broker: Broker, service: str) -> Iterator[None]:
    """Hold the service's sweep lock for the block (see the module's docstring)."""
    name = broker.settings.queue_name(service, ".dlq.sweep")
    deadline = time.monotonic() + LOCK_WAIT
    if broker.settings.is_rabbitmq:
        lock = Queue(name, exclusive=True, auto_delete=True, durable=False)
        while True:
            try:
                lock(conn.channel()).declare()
                break
            except ResourceLocked as exc:  # another connection holds it; the channel is closed
                if time.monotonic() > deadline:
                    raise DeadLettersBusy(service) from exc
                time.sleep(0.05)
        try:
            yield
        finally:
            # Deleting is a courtesy: closing the connection drops an exclusive queue anyway.
            with suppress(Exception):
                conn.default_channel.queue_delete(name)
        return
    with _local_locks_guard:
        local = _local_locks.setdefault(name, threading.Lock())
    if not local.acquire(timeout=LOCK_WAIT):
        raise DeadLettersBusy(service)
    try:
        lock_dir = config.var_dir() / "broker"
        lock_dir.mkdir(parents=True, exist_ok=True)
        with open(lock_dir / f"{name}.lock", "w") as handle:
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError as exc:
                    if time.monotonic() > deadline:
                        raise DeadLettersBusy(service) from exc
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        local.release()


@contextmanager
def _sweeping(conn: Connection, broker: Broker, service: str) -> Iterator[None]:
    conn.ensure_connection(max_retries=1)
    broker.declare(conn, service, [])
    with _exclusive_sweep(conn, broker, service):
        yield


def _sweep(broker: Broker, service: str, replay_ids: set[str] | None, replay_all: bool):
    listed: list[DeadLetter] = []
    replayed = 0
    with broker.connection() as conn, _sweeping(conn, broker, service):
        channel = conn.channel()
        producer = Producer(conn.channel())
        queue = broker.dead_letter_queue(service)(channel)
        taken = []
        while (msg := queue.get(no_ack=False)) is not None:
            taken.append(msg)
        for msg in taken:
            headers = dict(msg.headers or {})
            props = msg.properties or {}
            body = msg.body.decode() if isinstance(msg.body, bytes) else msg.body
            letter = DeadLetter(
                message_id=props.get("message_id"),
                type=props.get("type"),
                attempts=int(headers.get(ATTEMPT_HEADER, 0)),
                error=str(headers.get(ERROR_HEADER, "")),
                dead_lettered_at=headers.get("x-dead-lettered-at"),
                body=body,
            )
            replay = replay_all or (replay_ids is not None and letter.message_id in replay_ids)
            if replay:
                for key in (ERROR_HEADER, "x-dead-lettered-at"):
                    headers.pop(key, None)
                headers[ATTEMPT_HEADER] = 1
                target = broker.main_queue_name(service)
                replayed += 1
            else:
                target = broker.dlq_name(service)
                listed.append(letter)
            producer.publish(
                msg.body,
                exchange="",
                routing_key=target,
                headers=headers,
                message_id=props.get("message_id"),
                type=props.get("type"),
                content_type=msg.content_type or "application/json",
                content_encoding=msg.content_encoding or "utf-8",
                delivery_mode=2,
            )
            msg.ack()
            if replay:
                metrics.EVENTS_REPLAYED.labels(service, letter.type or "unknown").inc()
    return listed, replayed


def list_dead_letters(broker: Broker, service: str) -> list[DeadLetter]:
    return _sweep(broker, service, None, False)[0]


def replay(broker: Broker, service: str, message_ids: list[str] | None = None) -> int:
    """Send dead letters back to the service's queue for a fresh set of tries.

    ``message_ids=None`` replays every dead letter of the service.
    """
    if message_ids is None:
        return _sweep(broker, service, None, True)[1]
    return _sweep(broker, service, set(message_ids), False)[1]
