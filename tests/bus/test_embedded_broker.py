"""The embedded broker (``filesystem://``, what ``make run`` uses) loses no message.

Every process here is a real, separate process (``spawn``): publishers, consumers and the
consumer that is killed share nothing but the broker's folders, as under ``make run``.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import time
import uuid
from collections import Counter
from pathlib import Path

import sqlalchemy as sa
from kombu import Consumer, Producer
from sqlalchemy.orm import Mapped, mapped_column

from services.identity.events import UserRegistered
from shared.bus import dead_letters
from shared.bus.broker import Broker
from shared.bus.consumer import EventConsumer
from shared.bus.handlers import Handlers
from shared.bus.relay import OutboxRelay
from shared.config import BusSettings
from shared.db import Database, make_base
from shared.runtime import Runtime
from shared.testing.fixtures import wait_for

SPAWN = multiprocessing.get_context("spawn")
PAD = "x" * 200_000
"""Big enough that writing a message file takes a while: kombu's own transport lets a
consumer take the file while it is still being written."""


def _broker(exchange: str = "embedded.events", retry_delay_ms: int = 100) -> Broker:
    return Broker(BusSettings("filesystem://", exchange, "", 2, retry_delay_ms))


def _queue_folder(var_dir: Path) -> Path:
    return var_dir / "broker" / "queues"


# --- many publishers and consumers -------------------------------------------------------------


def _publish(exchange: str, name: str, count: int, start: multiprocessing.Event) -> None:
    broker = _broker(exchange)
    with broker.connection() as conn:
        broker.declare_exchange(conn)
        producer = Producer(conn.channel())
        start.wait(60)
        for i in range(count):
            producer.publish(
                {"id": f"{name}-{i}", "pad": PAD},
                exchange=broker.exchange,
                routing_key="thing.happened",
                retry=False,
            )


def _consume(
    exchange: str,
    service: str,
    results: str,
    ready: multiprocessing.Queue,
    published: multiprocessing.Event,
) -> None:
    """Take messages until the publishers are done and the queue has been quiet for a while;
    write down every id taken and every error met (kombu's transport raises on a torn file)."""
    broker = _broker(exchange)
    taken: list[str] = []
    errors: list[str] = []
    with broker.connection() as conn:
        queue = broker.declare(conn, service, ["thing.*"])

        def on_message(message) -> None:
            taken.append(json.loads(message.body)["id"])
            message.ack()

        Consumer(conn.channel(), queues=[queue], on_message=on_message, accept=None).consume()
        ready.put(service)
        quiet_since = time.monotonic()
        while not (published.is_set() and time.monotonic() - quiet_since > 3):
            try:
                conn.drain_events(timeout=0.5)
                quiet_since = time.monotonic()
            except TimeoutError:
                pass
            except Exception as exc:  # what EventConsumer.run does: note it, carry on
                errors.append(f"{type(exc).__name__}: {exc}")
    Path(results).write_text(json.dumps({"taken": taken, "errors": errors}))


def test_many_publishers_and_consumers_in_separate_processes_lose_nothing_and_duplicate_nothing(
    var_dir, tmp_path
):
    exchange = f"embedded.{uuid.uuid4().hex[:8]}"
    publishers, per_publisher = 3, 60
    services = ["alpha", "beta"]  # two queues bound to the same events: each gets all of them
    consumers_per_service = 2
    ready = SPAWN.Queue()
    start, published = SPAWN.Event(), SPAWN.Event()
    consumers = []
    for service in services:
        for n in range(consumers_per_service):
            results = str(tmp_path / f"{service}-{n}.json")
            args = (exchange, service, results, ready, published)
            consumers.append((service, results, SPAWN.Process(target=_consume, args=args)))
    senders = [
        SPAWN.Process(target=_publish, args=(exchange, f"p{n}", per_publisher, start))
        for n in range(publishers)
    ]
    for *_, process in consumers:
        process.start()
    for process in senders:
        process.start()
    try:
        for _ in consumers:  # every binding is in place before anything is published
            ready.get(timeout=60)
        start.set()
        for process in senders:
            process.join(120)
            assert process.exitcode == 0
        published.set()
        for *_, process in consumers:
            process.join(120)
            assert process.exitcode == 0
    finally:
        for *_, process in [*consumers, *((None, None, s) for s in senders)]:
            if process.is_alive():
                process.kill()

    expected = sorted(f"p{n}-{i}" for n in range(publishers) for i in range(per_publisher))
    for service in services:
        taken: list[str] = []
        errors: list[str] = []
        for s, results, _ in consumers:
            if s == service:
                found = json.loads(Path(results).read_text())
                taken += found["taken"]
                errors += found["errors"]
        assert errors == []
        assert len(taken) == len(set(taken)), "a message was delivered twice"
        assert sorted(taken) == expected, f"{len(set(expected) - set(taken))} lost"
    assert [p for p in _queue_folder(var_dir).iterdir()] == []  # nothing left, not even temp files


def _bind(exchanges: list[str], service: str, start: multiprocessing.Event) -> None:
    brokers = [_broker(exchange) for exchange in exchanges]
    with brokers[0].connection() as conn:
        conn.ensure_connection()
        start.wait(60)
        for broker in brokers:
            broker.declare(conn, service, ["thing.*"])


def test_queues_bound_by_many_processes_at_once_all_receive_the_events(var_dir):
    """kombu's transport creates an exchange's table by truncating it: two processes binding
    to a new exchange at once can each write a table without the other's queue."""
    tag = uuid.uuid4().hex[:8]
    exchanges = [f"embedded.{tag}.{n}" for n in range(30)]
    services = [f"s{n}" for n in range(6)]
    start = SPAWN.Event()
    binders = [SPAWN.Process(target=_bind, args=(exchanges, s, start)) for s in services]
    for process in binders:
        process.start()
    time.sleep(3)  # let every binder reach the starting line
    start.set()
    for process in binders:
        process.join(60)
        assert process.exitcode == 0
    for exchange in exchanges:
        broker = _broker(exchange)
        with broker.connection() as conn:
            broker.declare_exchange(conn)
            Producer(conn.channel()).publish(
                {"id": 1}, exchange=broker.exchange, routing_key="thing.x"
            )
    received = Counter(p.name.partition(".")[2] for p in _queue_folder(var_dir).iterdir())
    assert received == {f"{s}.events.msg": len(exchanges) for s in services}


# --- a consumer killed between get and ack ---------------------------------------------------


def _take_and_hang(taken: multiprocessing.Queue) -> None:
    broker = _broker()
    with broker.connection() as conn:
        queue = broker.declare(conn, "alpha", ["thing.*"])

        def on_message(message) -> None:
            taken.put(json.loads(message.body)["id"])
            time.sleep(3600)  # killed here: taken, never acknowledged

        Consumer(conn.channel(), queues=[queue], on_message=on_message, accept=None).consume()
        conn.drain_events(timeout=60)


def test_a_message_taken_by_a_consumer_killed_before_its_ack_goes_to_the_next_consumer(var_dir):
    broker = _broker()
    with broker.connection() as conn:
        queue = broker.declare(conn, "alpha", ["thing.*"])
        Producer(conn.channel()).publish(
            {"id": "only"}, exchange=broker.exchange, routing_key="thing.happened"
        )
    taken = SPAWN.Queue()
    doomed = SPAWN.Process(target=_take_and_hang, args=(taken,))
    doomed.start()
    try:
        assert taken.get(timeout=60) == "only"
    finally:
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.join(10)

    received = []
    with broker.connection() as conn:  # the next consumer, starting after the death
        consumer = Consumer(conn.channel(), queues=[queue], on_message=received.append, accept=None)
        consumer.consume()
        conn.drain_events(timeout=5)
        assert [json.loads(m.body)["id"] for m in received] == ["only"]
        received[0].ack()
    claimed = var_dir / "broker" / "claimed"
    assert [p.name for p in claimed.iterdir() if not p.name.endswith(".owner")] == []
    assert list(_queue_folder(var_dir).iterdir()) == []


def test_a_message_rejected_for_requeue_is_taken_again(var_dir):
    broker = _broker()
    with broker.connection() as conn:
        queue = broker.declare(conn, "alpha", ["thing.*"])
        Producer(conn.channel()).publish(
            {"id": "again"}, exchange=broker.exchange, routing_key="thing.x"
        )
        message = queue(conn.channel()).get(no_ack=False)
        assert list(_queue_folder(var_dir).iterdir()) == []  # claimed, not in the queue
        message.requeue()
        again = queue(conn.channel()).get(no_ack=False)
        assert json.loads(again.body)["id"] == "again"
        again.ack()
        assert queue(conn.channel()).get(no_ack=False) is None


# --- applied once, even when the consumer dies after its commit and before its ack ---------------

Base = make_base()


class Greeting(Base):
    __tablename__ = "embedded_greetings"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[str]


handlers = Handlers("probe")
DIE_AFTER_COMMIT = False
tries: list[float] = []


@handlers.on("user.registered")
def greet(event, uow) -> None:
    if event.data["name"] == "Poison Pill":
        tries.append(time.monotonic())
        raise RuntimeError("this handler cannot cope with that name")
    with uow:
        uow.session.add(Greeting(user_id=event.data["user_id"]))
        uow.commit()  # the greeting and the inbox row, together
    if DIE_AFTER_COMMIT:
        os.kill(os.getpid(), signal.SIGKILL)  # applied, never acknowledged


def _probe(database_url: str, retry_delay_ms: int = 100) -> tuple[Runtime, EventConsumer]:
    db = Database(database_url, metadata=Base.metadata)
    broker = _broker(retry_delay_ms=retry_delay_ms)
    runtime = Runtime("probe", db, broker)
    return runtime, EventConsumer("probe", handlers, runtime.uow, broker)


def publish(runtime: Runtime, *user_ids: str, name: str = "Ada") -> None:
    for user_id in user_ids:
        with runtime.uow() as uow:
            uow.record(
                UserRegistered(
                    user_id=user_id, email="ada@example.com", name=name, roles=["student"]
                )
            )
            uow.commit()
    relay = OutboxRelay("probe", runtime.db, runtime.broker)
    assert relay.relay_once() == len(user_ids)
    relay.close()


def _apply_then_die(database_url: str) -> None:
    global DIE_AFTER_COMMIT
    DIE_AFTER_COMMIT = True
    _, consumer = _probe(database_url)
    consumer.poll(60)


def test_an_event_applied_by_a_consumer_killed_before_its_ack_is_redelivered_and_applied_once(
    var_dir,
):
    database_url = f"sqlite:///{var_dir}/probe.db"
    runtime, consumer = _probe(database_url)
    Base.metadata.create_all(runtime.db.engine)
    consumer.open()  # the queue and its binding exist before the event is published
    publish(runtime, "u1")
    consumer.close()

    doomed = SPAWN.Process(target=_apply_then_die, args=(database_url,))
    doomed.start()
    doomed.join(90)
    assert doomed.exitcode == -signal.SIGKILL

    def greetings() -> list[str]:
        with runtime.db.session() as s:
            return list(s.scalars(sa.select(Greeting.user_id)))

    assert greetings() == ["u1"]  # applied before the kill
    wait_for(lambda: consumer.poll(0.5) > 0, message="the redelivery")
    consumer.close()
    assert greetings() == ["u1"]  # the inbox knew it: not applied twice
    assert list(_queue_folder(var_dir).iterdir()) == []
    runtime.db.dispose()


def test_a_failed_event_is_retried_after_its_backoff_without_holding_up_the_queue_then_dead_lettered(
    var_dir,
):
    runtime, consumer = _probe(f"sqlite:///{var_dir}/probe.db", retry_delay_ms=1500)
    Base.metadata.create_all(runtime.db.engine)
    consumer.open()
    tries.clear()
    publish(runtime, "poison", name="Poison Pill")
    publish(runtime, "healthy")

    started = time.monotonic()
    wait_for(lambda: consumer.poll(0.2) or consumer.processed >= 2, message="both events")
    assert time.monotonic() - started < 1.2  # the consumer did not sit out the backoff
    assert len(tries) == 1
    with runtime.db.session() as s:
        assert list(s.scalars(sa.select(Greeting.user_id))) == ["healthy"]

    wait_for(lambda: consumer.poll(0.2) or len(tries) >= 2, timeout=10, message="the retry")
    assert tries[1] - tries[0] >= 1.5  # held back for the whole delay
    consumer.close()
    letters = dead_letters.list_dead_letters(runtime.broker, "probe")  # max_attempts=2
    assert [(letter.attempts, letter.type) for letter in letters] == [(2, "user.registered")]
    assert "cannot cope" in letters[0].error
    runtime.db.dispose()


# --- a file that cannot be read ------------------------------------------------------------------


def test_an_unreadable_message_file_is_set_aside_never_deleted_and_the_queue_flows(var_dir):
    broker = _broker()
    folder = _queue_folder(var_dir)
    with broker.connection() as conn:
        queue = broker.declare(conn, "alpha", ["thing.*"])
        # Sorted before anything published now, so a consumer meets them first.
        damaged = folder / f"{0:020d}_{uuid.uuid4().hex}.alpha.events.msg"
        damaged.write_bytes(b'{"body": "eyJ')
        old = time.time() - 3600
        os.utime(damaged, (old, old))
        fresh = folder / f"{1:020d}_{uuid.uuid4().hex}.alpha.events.msg"
        fresh.write_bytes(b"")  # as if a writer had only just created it
        Producer(conn.channel()).publish(
            {"id": "fine"}, exchange=broker.exchange, routing_key="thing.x"
        )
        received = []
        Consumer(conn.channel(), queues=[queue], on_message=received.append, accept=None).consume()
        conn.drain_events(timeout=5)
        assert [json.loads(m.body)["id"] for m in received] == ["fine"]
        received[0].ack()

    aside = var_dir / "broker" / "unreadable" / damaged.name
    assert aside.read_bytes() == b'{"body": "eyJ'  # kept whole, for someone to look at
    assert fresh.exists()  # young: left in the queue for another try


# --- events recorded while the workers were down ------------------------------------------------


def test_events_recorded_before_the_workers_start_reach_a_consumer_started_after_their_relay(
    var_dir, monkeypatch
):
    """`make run` starts every worker in one process, producers first: identity's relay used to
    publish its waiting events before email's queue was bound, and they went nowhere."""
    from shared.worker import Worker, start

    monkeypatch.setattr(Worker, "start_metrics_endpoint", lambda self: None)  # not a service

    producer_base = make_base()
    producer = Runtime(
        "producer",
        Database(f"sqlite:///{var_dir}/producer.db", metadata=producer_base.metadata),
        _broker(),
    )
    producer_base.metadata.create_all(producer.db.engine)
    probe, _ = _probe(f"sqlite:///{var_dir}/probe.db")
    Base.metadata.create_all(probe.db.engine)
    with producer.uow() as uow:
        for user_id in ("early-1", "early-2"):
            uow.record(
                UserRegistered(
                    user_id=user_id, email="ada@example.com", name="Ada", roles=["student"]
                )
            )
        uow.commit()

    first, consumer = Worker(producer, Handlers("producer")), Worker(probe, handlers)
    workers = [first, consumer]

    # The race made certain: the producer's relay publishes everything while its threads are
    # started, before the consumer's thread exists (make run starts producers first too).
    def relay_now() -> list:
        assert first.relay.relay_once() == 2
        return []

    monkeypatch.setattr(first, "threads", relay_now)
    running = start(workers)
    try:

        def greeted() -> list[str]:
            with probe.db.session() as s:
                return sorted(s.scalars(sa.select(Greeting.user_id)))

        wait_for(lambda: greeted() == ["early-1", "early-2"], message="both early events")
    finally:
        for worker in workers:
            worker.stop.set()
        for _, threads in running:
            for t in threads:
                t.join(timeout=10)
        producer.db.dispose()
        probe.db.dispose()
