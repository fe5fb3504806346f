"""Bus throughput: events through outbox -> RabbitMQ -> inbox handler, against raw kombu.

``python -m benchmarks.bus [--events N] [--runs R]`` prints the table.

**Raw stack.** The same event payloads (1 KB-class JSON envelopes of ``user.registered``)
published by kombu on one channel with publisher confirms, persistent, to a topic exchange;
consumed from a durable queue by a kombu ``Consumer`` (prefetch as the product's) that acks
each message. Publisher and consumer are threads of one process, as in a service's worker.

**The product.** The same number of events committed in an outbox table of a scratch
PostgreSQL database; the real ``OutboxRelay`` (publisher confirms, marking rows published in
the transaction that locked them) and the real ``EventConsumer`` (envelope validated against
the catalogue, inbox check, the handler's transaction with its inbox row, ack after commit),
each in its own thread of one process. The handler itself does nothing, so what is measured
is the bus. The run counts as done when every event has its inbox row, and the benchmark
checks that none is missing and none was applied twice.

Both use a unique exchange and queues on the shared RabbitMQ (127.0.0.1:5672), deleted after.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
import time
import uuid
from dataclasses import dataclass

import sqlalchemy as sa

from benchmarks import stack

EVENTS = 5000
RUNS = 3
GOAL = 0.5
EVENT_TYPE = "user.registered"
SERVICE = "bench"


def payloads(count: int) -> list[tuple[str, str]]:
    """``(id, JSON envelope)`` of ``count`` valid events, as the outbox stores them."""
    from shared.bus.envelope import new_event

    events = []
    for i in range(count):
        event = new_event(
            EVENT_TYPE,
            {
                "user_id": str(uuid.uuid4()),
                "email": f"student{i:06d}@example.com",
                "name": f"Student Number {i:06d} " + "x" * 700,
                "roles": ["student"],
            },
            "identity",
        )
        events.append((event.id, event.to_json()))
    return events


# --- the raw stack ----------------------------------------------------------------------------


def raw_run(events: list[tuple[str, str]], prefetch: int) -> float:
    """Seconds to publish (confirmed) and consume every payload with bare kombu."""
    from kombu import Connection, Consumer, Exchange, Producer, Queue

    tag = stack.tag()
    exchange = Exchange(f"bench.raw.{tag}", type="topic", durable=True)
    queue = Queue(
        f"bench.raw.{tag}.events",
        exchange=exchange,
        routing_key=EVENT_TYPE,
        durable=True,
        queue_arguments={"x-queue-type": "quorum"},
    )
    total = len(events)
    done = threading.Event()
    consumed = 0
    try:
        with Connection(stack.AMQP_URL) as consumer_conn:
            queue(consumer_conn.default_channel).declare()

            def on_message(_body, message) -> None:
                nonlocal consumed
                message.ack()
                consumed += 1
                if consumed >= total:
                    done.set()

            consumer = Consumer(
                consumer_conn.channel(),
                queues=[queue],
                callbacks=[on_message],
                prefetch_count=prefetch,
                accept=None,
            )
            consumer.consume()

            def drain() -> None:
                while not done.is_set():
                    with contextlib.suppress(TimeoutError):
                        consumer_conn.drain_events(timeout=0.25)

            thread = threading.Thread(target=drain, name="raw-consumer", daemon=True)
            thread.start()
            with Connection(
                stack.AMQP_URL, transport_options={"confirm_publish": True}
            ) as publisher_conn:
                producer = Producer(publisher_conn.channel(), exchange=exchange)
                started = time.perf_counter()
                for event_id, body in events:
                    producer.publish(
                        body,
                        routing_key=EVENT_TYPE,
                        message_id=event_id,
                        type=EVENT_TYPE,
                        content_type="application/json",
                        content_encoding="utf-8",
                        delivery_mode=2,
                        headers={"producer": "identity"},
                        retry=False,
                    )
                if not done.wait(timeout=120):
                    raise RuntimeError(f"raw kombu: consumed {consumed} of {total}")
                elapsed = time.perf_counter() - started
            thread.join(timeout=5)
            return elapsed
    finally:
        stack.delete_broker_names(exchange.name, f"bench.raw.{tag}.", [queue.name])


# --- the product ------------------------------------------------------------------------------


def product_run(database_url: str, events: list[tuple[str, str]], prefetch: int) -> float:
    """Seconds from the outbox holding every event to the inbox holding every one of them."""
    from shared.bus.broker import Broker
    from shared.bus.consumer import EventConsumer
    from shared.bus.handlers import Handlers
    from shared.bus.relay import OutboxRelay
    from shared.config import BusSettings
    from shared.db import Database, make_base, utcnow
    from shared.runtime import Runtime

    base = make_base()
    db = Database(database_url, metadata=base.metadata)
    base.metadata.drop_all(db.engine)
    base.metadata.create_all(db.engine)
    tag = stack.tag()
    settings = BusSettings(stack.AMQP_URL, f"bench.bus.{tag}", f"bench.bus.{tag}.", 3, 100)
    broker = Broker(settings)
    handlers = Handlers(SERVICE)

    @handlers.on(EVENT_TYPE)
    def applied(event, uow) -> None:
        """Nothing but the inbox row the consumer commits for it: the bus is what is timed."""

    runtime = Runtime(SERVICE, db, broker)
    consumer = EventConsumer(SERVICE, handlers, runtime.uow, broker)
    relay = OutboxRelay(SERVICE, db, broker)
    stop = threading.Event()
    threads: list[threading.Thread] = []
    try:
        consumer.open()  # declares the queue before anything is published
        now = utcnow()
        with db.engine.begin() as conn:
            conn.execute(
                sa.insert(db.tables.outbox),
                [
                    {"id": event_id, "type": EVENT_TYPE, "payload": body, "created_at": now}
                    for event_id, body in events
                ],
            )
        consumer.prefetch = prefetch
        started = time.perf_counter()
        threads = [
            threading.Thread(target=consumer.run, args=(stop,), name="consumer", daemon=True),
            threading.Thread(target=relay.run, args=(stop,), name="relay", daemon=True),
        ]
        for thread in threads:
            thread.start()
        inbox = db.tables.inbox
        deadline = time.monotonic() + 300
        while consumer.processed < len(events):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the bus moved {consumer.processed} of {len(events)} events")
            time.sleep(0.005)
        elapsed = time.perf_counter() - started
        stop.set()
        for thread in threads:
            thread.join(timeout=15)
        with db.engine.connect() as conn:
            applied_count = conn.scalar(sa.select(sa.func.count()).select_from(inbox))
            unpublished = conn.scalar(
                sa.select(sa.func.count())
                .select_from(db.tables.outbox)
                .where(db.tables.outbox.c.published_at.is_(None))
            )
        if applied_count != len(events) or unpublished:
            raise RuntimeError(
                f"{applied_count} of {len(events)} events applied, {unpublished} unpublished"
            )
        return elapsed
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=15)
        consumer.close()
        relay.close()
        db.dispose()
        stack.delete_broker_names(
            settings.exchange,
            settings.queue_prefix,
            [q for q in Broker.declared_queues if q.startswith(settings.queue_prefix)],
        )


# --- figures ------------------------------------------------------------------------------------


@dataclass
class Measured:
    events: int
    raw: list[float]
    product: list[float]
    prefetch: int

    def ratios(self) -> list[float]:
        return [stack.ratio(r, p) for r, p in zip(self.raw, self.product, strict=True)]

    @property
    def ratio(self) -> float:
        return stack.median(self.ratios())

    def rows(self) -> list[list[str]]:
        def row(name: str, seconds: list[float], ratio: str) -> list[str]:
            return [
                name,
                f"{self.events / stack.median(seconds):,.0f}",
                ", ".join(f"{self.events / s:,.0f}" for s in seconds),
                ratio,
            ]

        return [
            row("raw kombu: confirmed publish + consume, one channel", self.raw, "1"),
            row(
                "outbox -> relay -> RabbitMQ -> consumer -> inbox",
                self.product,
                f"**{self.ratio:.2f}**",
            ),
        ]


COLUMNS = ["pipeline", "events/s (median)", "events/s of each run", "ratio"]


def measure(events: int = EVENTS, runs: int = RUNS) -> Measured:
    from shared.bus.consumer import EventConsumer

    prefetch = EventConsumer.__init__.__defaults__[0]  # the product's own prefetch
    batch = payloads(events)
    measured = Measured(events, [], [], prefetch)
    with stack.scratch_database("bench_bus") as url:
        for _ in range(runs):
            measured.raw.append(raw_run(batch, prefetch))
            measured.product.append(product_run(url, batch, prefetch))
    return measured


def result(measured: Measured):
    from benchmarks import report

    held = measured.ratio >= GOAL
    return report.Result(
        title="Event bus throughput",
        method=(
            f"{measured.events:,} `{EVENT_TYPE}` events (about 1 KB of JSON each) per run. Raw "
            "stack: kombu publishes them with publisher confirms on one channel to a topic "
            "exchange and a kombu consumer (prefetch "
            f"{measured.prefetch}) acks them from a quorum queue, both threads of one process. "
            "Product: the events wait in an outbox table in PostgreSQL; the worker's real "
            "outbox relay and event consumer (catalogue check, inbox check, the handler's "
            "transaction with its inbox row, ack after commit; the handler itself does nothing) "
            "move them, each in its own thread. Timed from the first publish to the last "
            "event handled; every run checks that every event was applied exactly once. "
            f"{len(measured.raw)} runs, alternating; the ratio is the median of the runs' ratios."
        ),
        columns=COLUMNS,
        rows=measured.rows(),
        target=f"ratio ≥ {GOAL} — **{stack.verdict(held)}** ({measured.ratio:.2f})",
        notes=["Unique exchange and queues on the shared RabbitMQ, deleted after each run."],
    )


def run():
    """For ``make bench``."""
    return result(measure())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bus")
    parser.add_argument("--events", type=int, default=EVENTS)
    parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args(argv)
    print(result(measure(args.events, args.runs)).markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
