"""Reading and replaying a service's dead-letter queue (``make dlq``, the admin page).

Listing takes every message off the queue and puts it back in the same order, which works the
same on RabbitMQ and on the embedded transport (whose ``get`` cannot leave a message
unacknowledged on the queue).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from kombu import Producer

from shared.bus.broker import Broker
from shared.bus.consumer import ATTEMPT_HEADER, ERROR_HEADER


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
            data = json.loads(self.body).get("data")
        except (ValueError, AttributeError):
            data = None
        return {
            "message_id": self.message_id,
            "type": self.type,
            "attempts": self.attempts,
            "error": self.error,
            "dead_lettered_at": self.dead_lettered_at,
            "data": data,
        }


def _sweep(broker: Broker, service: str, replay_ids: set[str] | None, replay_all: bool):
    listed: list[DeadLetter] = []
    replayed = 0
    with broker.connection() as conn:
        conn.ensure_connection(max_retries=1)
        broker.declare(conn, service, [])
        channel = conn.channel()
        producer = Producer(conn.channel())
        queue = broker.dead_letter_queue(service)(channel)
        taken = []
        while (msg := queue.get(no_ack=False)) is not None:
            taken.append(msg)
        for msg in taken:
            headers = dict(msg.headers or {})
            props = msg.properties or {}
            # A letter is often there because its body is not text: show it, never choke on it.
            body = msg.body.decode("utf-8", "replace") if isinstance(msg.body, bytes) else msg.body
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
