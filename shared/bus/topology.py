"""The bus's RabbitMQ topology as a definitions document (``deploy/rabbitmq/definitions.json``).

Workers declare their own queues at start (``Broker.declare``). The same topology is also shipped
as RabbitMQ definitions, loaded when the broker boots, so that every subscriber queue exists
before the first event is published (kombu cannot publish ``mandatory``, docs/architecture.md, facts about the parts: an event
sent before its queue exists is lost) and an operator can read or restore it. The document is
built from the very ``Queue`` objects the workers declare, and from each service's handler
registry for the bindings, so it cannot say something the code does not do; a test keeps the
committed file equal to what this module generates.

Policies are the one thing workers do not declare (a client cannot set them). They only add
behaviour the queue arguments leave open, never one that contradicts them:

* retry queues dead-letter back into the main queue *at least once* (quorum queues dead-letter
  at most once by default, which could drop an event on its way back from a delay);
* a main queue hands a message back to the broker at most ``DELIVERY_LIMIT`` times (each time a
  worker died or lost its connection while holding it) before parking it in the service's
  dead-letter queue, so an event that crashes the worker process itself cannot crash-loop it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from kombu import Queue

from shared import config
from shared.bus.broker import Broker
from shared.bus.handlers import Handlers
from shared.config import BusSettings

VHOST = "/"

DELIVERY_LIMIT = 20
"""Redeliveries of one message (worker crashes, lost connections) before it is parked."""


def default_settings() -> BusSettings:
    """The bus as compose and the Kubernetes manifests run it: RabbitMQ, every BUS_* at its
    default as the configuration table (``config.VARIABLES``) declares it."""
    defaults = {v.name: v.default for v in config.VARIABLES}
    return BusSettings(
        url="amqp://",
        exchange=defaults["BUS_EXCHANGE"],
        queue_prefix=defaults["BUS_QUEUE_PREFIX"],
        max_attempts=int(defaults["BUS_MAX_ATTEMPTS"]),
        retry_delay_ms=int(defaults["BUS_RETRY_DELAY_MS"]),
    )


def consumed_event_types() -> dict[str, list[str]]:
    """Each service that consumes events, with the types its handlers are registered for.

    A service whose registry is empty (identity, web) has no queue: its worker only relays.
    """
    consumers = {}
    for service in config.SERVICES:
        handlers = Handlers.for_service(service)
        if handlers.event_types:
            consumers[service] = list(handlers.event_types)
    return consumers


def service_queues(broker: Broker, service: str, event_types: Sequence[str]) -> list[Queue]:
    """The queues ``Broker.declare`` declares for a service, main queue first."""
    return [
        broker.main_queue(service, list(event_types)),
        *broker.retry_queues(service),
        broker.dead_letter_queue(service),
    ]


def _queue(queue: Queue) -> dict[str, Any]:
    return {
        "name": queue.name,
        "vhost": VHOST,
        "durable": bool(queue.durable),
        "auto_delete": bool(queue.auto_delete),
        "arguments": dict(queue.queue_arguments or {}),
    }


def _exact(name: str) -> str:
    return f"^{re.escape(name)}$"


def policies(broker: Broker, services: Sequence[str]) -> list[dict[str, Any]]:
    """One policy per main queue (its dead-letter queue differs) and one for every retry queue.

    Their patterns never overlap, because RabbitMQ applies only one policy to a queue.
    """
    if not services:
        return []
    found: list[dict[str, Any]] = []
    for service in services:
        main = broker.main_queue_name(service)
        found.append(
            {
                "vhost": VHOST,
                "name": f"{main}.delivery-limit",
                "pattern": _exact(main),
                "apply-to": "queues",
                "priority": 0,
                "definition": {
                    "delivery-limit": DELIVERY_LIMIT,
                    "dead-letter-exchange": "",
                    "dead-letter-routing-key": broker.dlq_name(service),
                    "dead-letter-strategy": "at-least-once",
                    "overflow": "reject-publish",
                },
            }
        )
    if broker.settings.max_attempts > 1:
        prefix = re.escape(broker.settings.queue_prefix)
        names = "|".join(re.escape(s) for s in services)
        found.append(
            {
                "vhost": VHOST,
                "name": f"{broker.settings.queue_prefix}retry-queues.at-least-once",
                "pattern": rf"^{prefix}({names})\.events\.retry\.[0-9]+$",
                "apply-to": "queues",
                "priority": 0,
                "definition": {
                    "dead-letter-strategy": "at-least-once",
                    "overflow": "reject-publish",
                },
            }
        )
    return found


def definitions(
    settings: BusSettings | None = None, consumers: Mapping[str, Sequence[str]] | None = None
) -> dict[str, Any]:
    """The RabbitMQ definitions of the exchange, every service's queues, bindings and policies.

    ``settings`` defaults to ``default_settings()``; ``consumers`` (service -> event types) to
    the handler registries. The broker is taken to be RabbitMQ whatever the settings' URL, since
    definitions only mean something there.
    """
    settings = settings or default_settings()
    if not settings.is_rabbitmq:
        settings = BusSettings(
            url="amqp://",
            exchange=settings.exchange,
            queue_prefix=settings.queue_prefix,
            max_attempts=settings.max_attempts,
            retry_delay_ms=settings.retry_delay_ms,
        )
    consumers = consumed_event_types() if consumers is None else consumers
    broker = Broker(settings)
    exchange = broker.exchange
    queues: list[dict[str, Any]] = []
    bindings: list[dict[str, Any]] = []
    for service, event_types in consumers.items():
        main, *others = service_queues(broker, service, event_types)
        queues += [_queue(q) for q in (main, *others)]
        bindings += [
            {
                "source": exchange.name,
                "vhost": VHOST,
                "destination": main.name,
                "destination_type": "queue",
                "routing_key": b.routing_key,
                "arguments": dict(b.arguments or {}),
            }
            for b in sorted(main.bindings, key=lambda b: b.routing_key)  # a set in kombu
        ]
    return {
        "vhosts": [{"name": VHOST}],
        "exchanges": [
            {
                "name": exchange.name,
                "vhost": VHOST,
                "type": exchange.type,
                "durable": bool(exchange.durable),
                "auto_delete": bool(exchange.auto_delete),
                "internal": False,
                "arguments": dict(exchange.arguments or {}),
            }
        ],
        "queues": queues,
        "bindings": bindings,
        "policies": policies(broker, list(consumers)),
    }


def render(settings: BusSettings | None = None) -> str:
    """The definitions as the committed file holds them (stable order, trailing newline)."""
    return json.dumps(definitions(settings), indent=2) + "\n"
