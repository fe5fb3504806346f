"""Connections and the topology of the event bus (docs/architecture.md: how an event travels, and the facts about the parts).

One durable topic exchange; per service a durable queue bound to the types its handlers
declare, a ladder of delay queues for retries with backoff (RabbitMQ only: they rely on
per-queue TTL and dead-lettering back into the main queue), and a dead-letter queue.

``filesystem://`` (the embedded default) is our own transport, shared/bus/filesystem.py: it
loses no message, and holds a retry back for its backoff itself, without delay queues.
"""

from __future__ import annotations

from kombu import Connection, Exchange, Queue

from shared.bus.filesystem import Transport as FilesystemTransport
from shared.config import BusSettings


class Broker:
    declared_queues: set[str] = set()
    """Every queue name this process declared (test fixtures delete theirs afterwards)."""

    def __init__(self, settings: BusSettings) -> None:
        self.settings = settings
        self.exchange = Exchange(settings.exchange, type="topic", durable=True)
        self.default_exchange = Exchange("", type="direct", durable=True)

    @property
    def delayed_retries(self) -> bool:
        """Whether the broker can hold a message for a while and hand it back (TTL + DLX)."""
        return self.settings.is_rabbitmq

    def connection(self, *, confirm_each: bool = True) -> Connection:
        """A new connection; ``confirm_each=False`` leaves publisher confirms to the caller
        (the outbox relay waits once for a whole batch, see relay.py)."""
        options = self.settings.transport_options()
        if not confirm_each:
            options.pop("confirm_publish", None)
        return Connection(
            self.settings.url,
            # filesystem:// is ours: kombu's own loses messages (shared/bus/filesystem.py).
            transport=FilesystemTransport if self.settings.is_filesystem else None,
            transport_options=options,
            heartbeat=30 if self.settings.is_rabbitmq else 0,
            connect_timeout=5,
        )

    def _queue_args(self, **extra: object) -> dict:
        args: dict = {"x-queue-type": "quorum"} if self.settings.is_rabbitmq else {}
        args.update(extra)
        return args

    def main_queue_name(self, service: str) -> str:
        return self.settings.queue_name(service)

    def dlq_name(self, service: str) -> str:
        return self.settings.queue_name(service, ".dlq")

    def retry_queue_name(self, service: str, attempt: int) -> str:
        return self.settings.queue_name(service, f".retry.{attempt}")

    def retry_delay_ms(self, attempt: int) -> int:
        """Backoff before try ``attempt + 1``: the first delay, then four times longer each try."""
        return self.settings.retry_delay_ms * 4 ** (attempt - 1)

    def main_queue(self, service: str, event_types: list[str]) -> Queue:
        name = self.main_queue_name(service)
        return Queue(
            name,
            exchange=self.exchange,
            bindings=[_binding(self.exchange, t) for t in event_types],
            durable=True,
            queue_arguments=self._queue_args(),
        )

    def dead_letter_queue(self, service: str) -> Queue:
        return Queue(self.dlq_name(service), durable=True, queue_arguments=self._queue_args())

    def retry_queues(self, service: str) -> list[Queue]:
        if not self.delayed_retries:
            return []
        return [
            Queue(
                self.retry_queue_name(service, attempt),
                durable=True,
                queue_arguments=self._queue_args(
                    **{
                        "x-message-ttl": self.retry_delay_ms(attempt),
                        "x-dead-letter-exchange": "",
                        "x-dead-letter-routing-key": self.main_queue_name(service),
                    }
                ),
            )
            for attempt in range(1, self.settings.max_attempts)
        ]

    def declare(self, connection: Connection, service: str, event_types: list[str]) -> Queue:
        """Declare the exchange and the service's queues; safe to repeat at every start."""
        channel = connection.default_channel
        self.exchange(channel).declare()
        main = self.main_queue(service, event_types)(channel)
        main.declare()
        queues = [self.dead_letter_queue(service), *self.retry_queues(service)]
        for q in queues:
            q(channel).declare()
        Broker.declared_queues.update([main.name, *(q.name for q in queues)])
        return main

    def declare_exchange(self, connection: Connection) -> None:
        # The filesystem transport only routes a topic exchange across processes when the
        # publishing process has declared the Exchange object itself (docs/architecture.md, facts about the parts): the
        # bindings are in a file every process reads, the exchange's type only in memory.
        self.exchange(connection.default_channel).declare()


def _binding(exchange: Exchange, routing_key: str):
    from kombu import binding

    return binding(exchange, routing_key=routing_key)
