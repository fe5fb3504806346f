"""What an operator needs to see of one service: its outbox, its dead letters, its last events.

Every service with data lists this blueprint among its own (``services/<name>/app.py``), so the
admin page of the site asks each service the same question and nobody reads another service's tables or
queues. Admins only.
"""

from __future__ import annotations

import logging
from typing import Any

import amqp
import kombu.exceptions
from flask import current_app
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from shared import auth
from shared.bus import dead_letters
from shared.errors import Conflict, Unavailable
from shared.http import BEARER, Blueprint, runtime_of

log = logging.getLogger(__name__)

BROKER_DOWN = (OSError, ConnectionError, kombu.exceptions.OperationalError, amqp.AMQPError)

blp = Blueprint(
    "operations",
    __name__,
    url_prefix="/api/admin/operations",
    description="The service's outbox backlog, dead letters (with replay) and last events: "
    "admins only.",
)


class Strict(Schema):
    class Meta:
        unknown = RAISE


class OperationsQuerySchema(Strict):
    events = fields.Integer(
        load_default=20,
        validate=validate.Range(min=1, max=200),
        metadata={"description": "How many of the last handled events to return."},
    )


class OperationsOutboxSchema(Schema):
    backlog = fields.Integer(
        required=True, metadata={"description": "Events committed but not yet published."}
    )
    oldest_age_seconds = fields.Float(
        allow_none=True, metadata={"description": "Age of the oldest waiting event; null if none."}
    )


class OperationsEventSchema(Schema):
    id = fields.String(required=True, metadata={"description": "The event's id."})
    type = fields.String(required=True)
    handled_at = fields.DateTime(required=True)


class OperationsDeadLetterSchema(Schema):
    message_id = fields.String(allow_none=True, metadata={"description": "The event's id."})
    type = fields.String(allow_none=True)
    attempts = fields.Integer()
    error = fields.String(metadata={"description": "What the handler raised the last time."})
    dead_lettered_at = fields.String(allow_none=True)
    correlation_id = fields.String(allow_none=True)
    data = fields.Dict(allow_none=True)


class OperationsSchema(Schema):
    service = fields.String(required=True)
    outbox = fields.Nested(OperationsOutboxSchema, required=True)
    last_events = fields.List(
        fields.Nested(OperationsEventSchema),
        required=True,
        metadata={"description": "Events this service applied (its inbox), newest first."},
    )
    dead_letters = fields.List(fields.Nested(OperationsDeadLetterSchema), required=True)
    problems = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "What could not be read (e.g. the broker was unreachable)."},
    )


class OperationsReplaySchema(Strict):
    ids = fields.List(
        fields.String(validate=validate.Length(min=1, max=100)),
        validate=validate.Length(min=1, max=1000),
        metadata={"description": "Ids (message_id) of the dead letters to replay."},
    )
    all = fields.Boolean(metadata={"description": "true replays every dead letter."})

    @validates_schema
    def one_choice(self, data: dict[str, Any], **_: Any) -> None:
        if bool(data.get("ids")) == bool(data.get("all")):
            raise ValidationError("Send either ids (a non-empty list) or all: true.", "ids")


class OperationsReplayResultSchema(Schema):
    service = fields.String(required=True)
    replayed = fields.Integer(
        required=True,
        metadata={"description": "Dead letters sent back to the queue (ids not found: none)."},
    )


class SweepBusy(Conflict):
    title = "Dead letters are being read"

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "2"}


def outbox_status(db: Any) -> dict[str, Any]:
    count, age = db.outbox_backlog()
    return {"backlog": count, "oldest_age_seconds": round(age, 3) if age is not None else None}


def last_events(db: Any, limit: int) -> list[dict[str, Any]]:
    """The newest rows of the inbox: what this service's handlers applied, newest first."""
    with db.session() as session:
        return db.tables.last_handled(session, limit)


@blp.route("", methods=["GET"])
@blp.doc(security=BEARER)
@blp.arguments(OperationsQuerySchema, location="query")
@blp.response(200, OperationsSchema)
@blp.alt_response(401, description="No valid access token.")
@blp.alt_response(403, description="Not an admin.")
@auth.require("admin")
def operations(query: dict[str, Any]) -> dict[str, Any]:
    """The outbox backlog, every dead letter, and the last events this service applied."""
    runtime = runtime_of(current_app)
    problems: list[str] = []
    letters: list[dict[str, Any]] = []
    try:
        letters = [
            letter.as_dict()
            for letter in dead_letters.list_dead_letters(runtime.broker, runtime.service)
        ]
    except dead_letters.DeadLettersBusy:
        problems.append("Dead letters are being read by someone else; reload in a moment.")
    except BROKER_DOWN as exc:
        log.warning("could not read the dead letters", extra={"error": str(exc)[:300]})
        problems.append(f"The broker is unreachable ({type(exc).__name__}).")
    return {
        "service": runtime.service,
        "outbox": outbox_status(runtime.db),
        "last_events": last_events(runtime.db, query["events"]),
        "dead_letters": letters,
        "problems": problems,
    }


@blp.route("/dead-letters/replay", methods=["POST"])
@blp.doc(security=BEARER)
@blp.arguments(OperationsReplaySchema)
@blp.response(200, OperationsReplayResultSchema)
@blp.alt_response(401, description="No valid access token.")
@blp.alt_response(403, description="Not an admin.")
@blp.alt_response(409, description="Another sweep of the dead letters is under way.")
@blp.alt_response(503, description="The broker is unreachable.")
@auth.require("admin")
def replay_dead_letters(body: dict[str, Any]) -> dict[str, Any]:
    """Send dead letters back to this service's queue for a fresh set of tries."""
    runtime = runtime_of(current_app)
    ids = None if body.get("all") else body["ids"]
    try:
        count = dead_letters.replay(runtime.broker, runtime.service, ids)
    except dead_letters.DeadLettersBusy as exc:
        raise SweepBusy("Someone else is reading the dead letters; try again.") from exc
    except BROKER_DOWN as exc:
        log.warning("could not replay dead letters", extra={"error": str(exc)[:300]})
        raise Unavailable("The broker is not reachable; try again.") from exc
    log.info("dead letters replayed", extra={"replayed": count, "all": ids is None})
    return {"service": runtime.service, "replayed": count}
