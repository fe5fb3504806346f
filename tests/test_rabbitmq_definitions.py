"""deploy/rabbitmq/definitions.json and the workers describe one and the same topology.

The broker loads the file at boot; each worker declares its queues again at start. RabbitMQ
refuses (PRECONDITION_FAILED) to declare an existing queue with other arguments, so a file that
disagreed with the code would stop every worker. These tests keep the file generated from the
code, and check on the real RabbitMQ that what the file lists is exactly what a worker declares.
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import amqp
import pytest
from kombu import Connection

from shared import cli, config
from shared.bus import topology
from shared.bus.broker import Broker
from shared.config import BusSettings

ROOT = Path(__file__).resolve().parents[1]
DEFINITIONS = ROOT / "deploy" / "rabbitmq" / "definitions.json"


@pytest.fixture(scope="module")
def committed() -> dict[str, Any]:
    return json.loads(DEFINITIONS.read_text())


def test_the_committed_definitions_are_what_the_code_generates():
    assert DEFINITIONS.read_text() == topology.render(), (
        "deploy/rabbitmq/definitions.json is out of date: run `make deploy-files`"
    )


def test_the_cli_prints_the_committed_definitions(capsys):
    assert cli.main(["rabbitmq-definitions"]) == 0
    assert capsys.readouterr().out == DEFINITIONS.read_text()


def test_the_definitions_use_the_settings_a_worker_gets_when_no_bus_variable_is_set(monkeypatch):
    for name in ("BUS_EXCHANGE", "BUS_QUEUE_PREFIX", "BUS_MAX_ATTEMPTS", "BUS_RETRY_DELAY_MS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BROKER_URL", "amqp://guest:guest@rabbitmq:5672//")
    worker = config.bus_settings()
    assert dataclasses.replace(worker, url="amqp://") == topology.default_settings()


def test_every_consuming_service_has_its_queues_bound_to_exactly_its_handlers_types(committed):
    consumers = topology.consumed_event_types()
    assert {"email", "enrollment", "payments", "tutoring", "testimonials"} <= set(consumers)
    queues = {q["name"]: q for q in committed["queues"]}
    settings = topology.default_settings()
    for service, event_types in consumers.items():
        main = f"{service}.events"
        assert queues[main]["arguments"] == {"x-queue-type": "quorum"}
        assert queues[f"{main}.dlq"]["arguments"] == {"x-queue-type": "quorum"}
        retries = [queues[f"{main}.retry.{n}"] for n in range(1, settings.max_attempts)]
        assert [q["arguments"]["x-message-ttl"] for q in retries] == [1000, 4000, 16000, 64000]
        assert {q["arguments"]["x-dead-letter-routing-key"] for q in retries} == {main}
        bound = sorted(
            b["routing_key"]
            for b in committed["bindings"]
            if b["destination"] == main and b["source"] == "preceptor.events"
        )
        assert bound == sorted(event_types), service
    assert all(q["durable"] and not q["auto_delete"] for q in committed["queues"])
    assert {q["name"].split(".")[0] for q in committed["queues"]} == set(consumers)


def test_each_main_and_retry_queue_gets_exactly_one_policy_and_dead_letter_queues_none(
    committed,
):
    for queue in committed["queues"]:
        name = queue["name"]
        matching = [p for p in committed["policies"] if re.search(p["pattern"], name)]
        if name.endswith(".dlq"):
            assert matching == [], name
            continue
        assert len(matching) == 1, f"{name}: {[p['name'] for p in matching]}"
        definition = matching[0]["definition"]
        assert definition["dead-letter-strategy"] == "at-least-once"
        assert definition["overflow"] == "reject-publish"
        if ".retry." not in name:
            assert definition["dead-letter-routing-key"] == f"{name}.dlq"
            assert definition["delivery-limit"] == topology.DELIVERY_LIMIT
    # A policy never overrides what the worker declares as a queue argument.
    for policy in committed["policies"]:
        assert "message-ttl" not in policy["definition"]


# --- against the real RabbitMQ -------------------------------------------------------------


def relocated(definitions: dict[str, Any], settings: BusSettings) -> dict[str, Any]:
    """The committed definitions renamed onto a test's own exchange and queue prefix."""
    exchange = definitions["exchanges"][0]["name"]
    prefix = settings.queue_prefix

    def rename_queue(q: dict[str, Any]) -> dict[str, Any]:
        args = dict(q["arguments"])
        if "x-dead-letter-routing-key" in args:
            args["x-dead-letter-routing-key"] = prefix + args["x-dead-letter-routing-key"]
        return {**q, "name": prefix + q["name"], "arguments": args}

    return {
        "exchanges": [{**e, "name": settings.exchange} for e in definitions["exchanges"]],
        "queues": [rename_queue(q) for q in definitions["queues"]],
        "bindings": [
            {
                **b,
                "source": settings.exchange if b["source"] == exchange else b["source"],
                "destination": prefix + b["destination"],
            }
            for b in definitions["bindings"]
        ],
    }


@pytest.fixture
def production_bus(bus_settings: BusSettings) -> BusSettings:
    """The production retry ladder and delays, on this test's own exchange and queues."""
    defaults = topology.default_settings()
    return dataclasses.replace(
        bus_settings, max_attempts=defaults.max_attempts, retry_delay_ms=defaults.retry_delay_ms
    )


def declare_as_listed(conn: Connection, queue: dict[str, Any]) -> None:
    channel = conn.channel()
    try:
        channel.queue_declare(
            queue=queue["name"],
            durable=queue["durable"],
            auto_delete=queue["auto_delete"],
            arguments=queue["arguments"],
        )
    finally:
        if channel.is_open:
            channel.close()


@pytest.mark.parametrize("service", sorted(topology.consumed_event_types()))
def test_the_queues_a_worker_declares_are_the_queues_the_definitions_list(
    committed, production_bus, service
):
    event_types = topology.consumed_event_types()[service]
    mine = relocated(committed, production_bus)
    prefix = f"{production_bus.queue_prefix}{service}.events"
    queues = [q for q in mine["queues"] if q["name"].startswith(prefix)]
    assert len(queues) == production_bus.max_attempts + 1  # main, retries, dead letters

    with Connection(production_bus.url, transport_options={"confirm_publish": True}) as conn:
        Broker(production_bus).declare(conn, service, event_types)
        exchange = mine["exchanges"][0]
        conn.channel().exchange_declare(
            exchange["name"],
            exchange["type"],
            durable=exchange["durable"],
            auto_delete=exchange["auto_delete"],
        )
        for queue in queues:
            declare_as_listed(conn, queue)  # PRECONDITION_FAILED if any argument differs

        # Every binding the file lists routes into the queue the worker bound.
        bound = [b["routing_key"] for b in mine["bindings"] if b["destination"] == prefix]
        producer = conn.Producer()
        for key in [*bound, "nobody.consumes_this"]:
            producer.publish({"probe": key}, exchange=exchange["name"], routing_key=key)
        _, waiting, _ = conn.channel().queue_declare(queue=prefix, passive=True)
        assert waiting == len(bound) == len(event_types)


def test_a_queue_declared_with_other_arguments_than_the_workers_is_refused(
    committed, production_bus
):
    """The check above can fail: RabbitMQ compares the arguments of a repeated declare."""
    mine = relocated(committed, production_bus)
    service = "payments"
    retry = next(q for q in mine["queues"] if q["name"].endswith(f"{service}.events.retry.1"))
    with Connection(production_bus.url) as conn:
        Broker(production_bus).declare(conn, service, topology.consumed_event_types()[service])
        drifted = {**retry, "arguments": {**retry["arguments"], "x-message-ttl": 1500}}
        with pytest.raises(amqp.exceptions.PreconditionFailed):
            declare_as_listed(conn, drifted)


def rabbitmqctl(*args: str) -> str:
    done = subprocess.run(
        ["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout


def test_rabbitmq_imports_the_definitions_and_applies_their_policies(rabbitmq):
    """The file is valid for RabbitMQ as it is, policies included (imported on this node)."""
    tag = uuid.uuid4().hex[:10]
    settings = BusSettings(
        url=rabbitmq,
        exchange=f"test.{tag}",
        queue_prefix=f"test.{tag}.",
        max_attempts=topology.default_settings().max_attempts,
        retry_delay_ms=topology.default_settings().retry_delay_ms,
    )
    service = "payments"
    document = topology.definitions(settings, {service: topology.consumed_event_types()[service]})
    path = Path(f"/tmp/preceptor-definitions-{tag}.json")
    path.write_text(json.dumps(document))
    path.chmod(0o644)
    expected = {q["name"] for q in document["queues"]}
    try:
        rabbitmqctl("import_definitions", str(path))
        deadline = time.monotonic() + 30
        while True:  # the import is asynchronous
            lines = rabbitmqctl("list_queues", "name", "policy").splitlines()
            listed = dict([*line.split("\t"), ""][:2] for line in lines)
            if expected <= set(listed) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        main = f"{settings.queue_prefix}{service}.events"
        assert listed[main] == f"{main}.delivery-limit"
        assert listed[f"{main}.retry.1"] == f"{settings.queue_prefix}retry-queues.at-least-once"
        assert listed[f"{main}.dlq"] == ""
    finally:
        path.unlink(missing_ok=True)
        with Connection(rabbitmq) as conn:
            channel = conn.channel()
            for name in expected:
                channel.queue_delete(name)
            channel.exchange_delete(settings.exchange)
        for policy in document["policies"]:
            subprocess.run(
                ["rabbitmqctl", "-q", "clear_policy", policy["name"]],
                capture_output=True,
                timeout=60,
            )
