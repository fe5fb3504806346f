"""Wakes a service's outbox relay when PostgreSQL says events were committed to its outbox.

A unit of work that writes events outside a consumer batch issues ``pg_notify`` on the
service's channel (``shared.outbox.outbox_channel``) in its own transaction, and PostgreSQL
delivers the notification when the commit makes the rows visible. The listener holds one
connection of its own, in autocommit mode and outside the SQLAlchemy pool (a pooled connection
would be handed to someone else, and its LISTEN with it), and sets the relay's wakeup event on
each notification. So an event recorded by the web process is relayed at once instead of at
the relay's next poll.

Notifications are a way to be faster, never the way events are delivered: one sent while the
listener is away (PostgreSQL restarting, a partition) is lost, so after every reconnect the
listener wakes the relay once, and the relay still polls now and then in case a wakeup never
comes. A connection pooler in transaction mode (PgBouncer) does not pass LISTEN on to the
client: the listener then hears nothing, and events go out at the relay's fallback poll, only
slower.
"""

from __future__ import annotations

import logging
import threading

import psycopg
from psycopg import sql

from shared.backoff import retry_wait
from shared.db import Database
from shared.outbox import outbox_channel
from shared.sql import POSTGRES_CONNECT_ARGS

log = logging.getLogger(__name__)

STOP_CHECK = 0.5
"""Seconds the listener waits for a notification before it looks at the stop event again."""


def listener_conninfo(db: Database) -> str:
    """The libpq URL of ``db``'s engine: the same server, database, user and password.

    The schema option (``search_path``) is left out: channels are per database, not per schema.
    """
    url = db.engine.url.set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class OutboxListener:
    """LISTENs on a service's outbox channel in a thread and sets ``wakeup`` on every notify.

    ``listening`` is set while a LISTEN is in place (for the tests and for anyone curious).
    """

    def __init__(
        self, service: str, db: Database, wakeup: threading.Event, stop: threading.Event
    ) -> None:
        self.service = service
        self.db = db
        self.wakeup = wakeup
        self.stop = stop
        self.channel = outbox_channel(service)
        self.application_name = f"preceptor-{service}-outbox-listener"[:63]
        """What ``pg_stat_activity`` shows for the listener's connection."""
        self.listening = threading.Event()

    def run(self) -> None:
        """Listen until ``stop``; on any error close, back off, reconnect and LISTEN again."""
        failures = 0
        try:
            while not self.stop.is_set():
                try:
                    with self._connect() as conn:
                        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
                        failures = 0
                        self._relay_notifications(conn)
                except Exception as exc:
                    failures += 1
                    wait = retry_wait(failures - 1)
                    log.warning(
                        "outbox listener lost its connection; reconnecting",
                        extra={"service": self.service, "error": str(exc)[:200], "wait": wait},
                    )
                    self.stop.wait(wait)
        finally:
            # The relay waits for its wakeup, up to its fallback poll: let it see the stop now.
            self.wakeup.set()

    def _connect(self) -> psycopg.Connection:
        return psycopg.Connection.connect(
            listener_conninfo(self.db),
            autocommit=True,
            application_name=self.application_name,
            **POSTGRES_CONNECT_ARGS,
        )

    def _relay_notifications(self, conn: psycopg.Connection) -> None:
        self.listening.set()
        try:
            # Whatever was committed while nobody listened was announced to nobody: look once.
            self.wakeup.set()
            while not self.stop.is_set():
                for _notify in conn.notifies(timeout=STOP_CHECK):
                    self.wakeup.set()
        finally:
            self.listening.clear()
