"""The delivery loop: queued emails out over SMTP, each at least once, soon after it is queued.

**Claiming.** A delivery is claimed by one short statement of its own (an ``UPDATE`` of the
due rows picked with ``SELECT ... FOR UPDATE SKIP LOCKED``, ``RETURNING`` what the email needs),
so several loops and workers share the queue and none holds a lock while talking SMTP. A row
left in ``sending`` for ``STUCK_AFTER`` belonged to a worker that died and is claimed again:
transactional mail is delivered at least once, and a crash between the SMTP send and marking
the row ``sent`` can send one email twice (with the same Message-ID, so clients may collapse
it).

**The worker's loop** (``Deliveries``). One thread claims and ``SENDERS`` threads send, each
over an SMTP connection of its own that stays open from one email to the next (connecting,
greeting and quitting for every few emails cost about as much as sending them) and is closed
after ``IDLE_CLOSE`` seconds without mail. The claimer takes as many due rows as there are free
senders, at once when the consumer has committed new emails (the worker's wake-up) and again
whenever a sender is free while more are due. So a receipt is on its way milliseconds after
the event that queued it is committed, and a burst (fifty students paying at once get a
receipt and a welcome each) goes out over several connections side by side instead of in
batches one after the other (docs/benchmarks.md).

**Why one module (over ~400 lines).** Claiming, sending and the loop are one mechanism whose
guarantees (at least once, no lock held over SMTP, a stuck row claimed again) hold only
together: the claim statement, the sender that marks a row sent or failed, and the loop that
hands rows to free senders are read against each other. Opening a connection lives apart
(smtp.py), shared with the campaign loop.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import logging
import queue
import smtplib
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime

from sqlalchemy import Connection, Row, Update, and_, bindparam, or_, select, update

from services.email import domain
from services.email import smtp as smtp_connection
from services.email.domain import DeliveryStatus
from services.email.messages import (
    attachments_from_json,
    build_message,
    message_id,
    needs_smtputf8,
    wire_message,
)
from services.email.models import Delivery
from shared import config, metrics
from shared.backoff import retry_wait
from shared.config import SmtpSettings
from shared.db import database_unavailable, utcnow
from shared.runtime import Runtime

log = logging.getLogger(__name__)

BATCH_SIZE = 50
SENDERS = 4
"""Emails on their way at once in one worker, each over its own SMTP connection: a burst then
waits on the database's and the server's answers in parallel rather than one after another."""
IDLE_CLOSE = 30.0
"""Seconds a sender's connections stay open without mail (servers drop idle clients after a
few minutes; reconnecting after a quiet spell costs one greeting)."""
CHECK_AFTER = 2.0
"""A connection unused for longer is asked ``NOOP`` before the next email: the server may have
closed it meanwhile, and an email must not fail (and wait out a backoff) for that."""


def send_due(runtime: Runtime, *, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Send one batch of due deliveries over one connection; return how many were sent.

    ``now`` lets a test step past a backoff without waiting for it.
    """
    now = now or utcnow()
    claimed = claim(runtime, now, batch_size)
    sender = Sender(runtime)
    try:
        return sum(sender.send(delivery, now) for delivery in claimed)
    finally:
        sender.close()


def send_all_due(runtime: Runtime) -> int:
    """Send until nothing is due, through ``SENDERS`` connections side by side."""
    deliveries = Deliveries(runtime)
    try:
        return deliveries.send_until_idle()
    finally:
        deliveries.close()


# --- claiming -------------------------------------------------------------------------------


def _claim_statement() -> Update:
    due = (
        select(Delivery.id)
        .where(
            or_(
                and_(
                    Delivery.status == DeliveryStatus.QUEUED.value,
                    Delivery.next_attempt_at <= bindparam("due_by"),
                ),
                and_(
                    Delivery.status == DeliveryStatus.SENDING.value,
                    Delivery.claimed_at < bindparam("stuck_before"),
                ),
            )
        )
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(bindparam("claim_limit"))
        .with_for_update(skip_locked=True)
    )
    return (
        update(Delivery)
        .where(Delivery.id.in_(due.scalar_subquery()))
        .values(
            status=DeliveryStatus.SENDING.value,
            claimed_at=bindparam("claim_time"),
            attempts=Delivery.attempts + 1,
        )
        .returning(
            Delivery.id,
            Delivery.to_address,
            Delivery.subject,
            Delivery.text_body,
            Delivery.html_body,
            Delivery.headers,
            Delivery.attachments,
            Delivery.attempts,
            Delivery.next_attempt_at,
        )
    )


_CLAIM = _claim_statement()
"""Built once: constructing a statement per claim cost more than running it."""


def claim(runtime: Runtime, now: datetime, limit: int) -> list[Row]:
    """Mark up to ``limit`` due deliveries ``sending`` (committed) and return them, oldest
    first (``attempts`` already counts this try)."""
    if limit <= 0:
        return []
    with runtime.db.engine.begin() as conn:
        rows = conn.execute(
            _CLAIM,
            {
                "due_by": now,
                "stuck_before": now - domain.STUCK_AFTER,
                "claim_limit": limit,
                "claim_time": utcnow(),
            },
        ).all()
    return sorted(rows, key=lambda row: (row.next_attempt_at, row.id))


# --- sending ----------------------------------------------------------------------------------


_MARK_SENT = (
    update(Delivery)
    .where(Delivery.id == bindparam("delivery_id"))
    .values(status=DeliveryStatus.SENT.value, sent_at=bindparam("now"), last_error=None)
)
"""Built once: constructing the statement per email cost more than running it."""


class Sender:
    """Sends claimed deliveries one at a time over one SMTP connection, kept open between
    them, and marks each sent on one database connection of its own (autocommit: the mark is
    a single round trip). Not thread-safe: one per thread."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.settings: SmtpSettings = config.smtp_settings()
        self.envelope_from = email.utils.parseaddr(self.settings.mail_from)[1]
        self._smtp: smtplib.SMTP | None = None
        self._db: Connection | None = None
        self._smtp_used_at = 0.0
        self.used_at = 0.0
        """``time.monotonic()`` of the last email (0: never)."""

    def send(self, delivery: Row, now: datetime) -> bool:
        """Send one claimed delivery; True if the server accepted it.

        A failure is recorded on the row (retried later with backoff, or failed for good).
        """
        self.used_at = time.monotonic()
        try:
            message = self._message(delivery)
        except (ValueError, TypeError) as exc:
            # A row that cannot become an email never will: fail it alone, keep going.
            _failed(self.runtime, delivery, now, f"cannot build the message: {exc}", permanent=True)
            return False
        try:
            smtp = self._connection()
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("SMTP server unavailable", extra={"error": str(exc)[:300]})
            _failed(self.runtime, delivery, now, f"connect: {exc}")
            return False
        try:
            if isinstance(message, bytes):
                recipient = email.utils.parseaddr(delivery.to_address)[1] or delivery.to_address
                smtp.sendmail(self.envelope_from, [recipient], message)
            else:
                smtp.send_message(message)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
            self._reset()
            _failed(self.runtime, delivery, now, str(exc), permanent=_permanent(exc))
            return False
        except smtplib.SMTPResponseException as exc:
            self._reset()
            _failed(self.runtime, delivery, now, str(exc), permanent=exc.smtp_code >= 500)
            return False
        except (OSError, smtplib.SMTPException) as exc:
            # The connection broke: this email waits for a later try, on a new connection.
            self._drop_smtp()
            _failed(self.runtime, delivery, now, f"send: {exc}")
            return False
        self._mark_sent(delivery)
        metrics.EMAILS_SENT.labels("transactional").inc()
        return True

    def idle_for(self) -> float:
        return time.monotonic() - self.used_at

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()
        self._drop_db()

    # --- the connections ------------------------------------------------------------------

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is not None and time.monotonic() - self._smtp_used_at > CHECK_AFTER:
            try:
                if self._smtp.noop()[0] != 250:
                    self._drop_smtp()
            except (OSError, smtplib.SMTPException):
                self._drop_smtp()
        if self._smtp is None:
            self._smtp = smtp_connection.connect(self.settings)
        self._smtp_used_at = time.monotonic()
        return self._smtp

    def _reset(self) -> None:
        """After a refused email, ``RSET`` so the connection is clean for the next one."""
        if self._smtp is not None:
            try:
                self._smtp.rset()
            except (OSError, smtplib.SMTPException):
                self._drop_smtp()

    def _drop_smtp(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    def _mark_sent(self, delivery: Row) -> None:
        if self._db is None:
            self._db = self.runtime.db.engine.connect().execution_options(
                isolation_level="AUTOCOMMIT"
            )
        try:
            self._db.execute(_MARK_SENT, {"delivery_id": delivery.id, "now": utcnow()})
            self._db.commit()  # nothing to do in autocommit: says where the transaction ends
        except BaseException:
            self._drop_db()  # a broken connection goes back to the pool to be replaced
            raise

    def _drop_db(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            with contextlib.suppress(Exception):
                db.close()

    def _message(self, delivery: Row):
        """The wire bytes of a plain email; an ``EmailMessage`` when it carries attachments or
        an address that needs SMTPUTF8 (``send_message`` negotiates that)."""
        attachments = attachments_from_json(delivery.attachments)
        fields = {
            "to": delivery.to_address,
            "subject": delivery.subject,
            "text": delivery.text_body,
            "html": delivery.html_body,
            "headers": json.loads(delivery.headers or "{}"),
            "mail_from": self.settings.mail_from,
        }
        if attachments or needs_smtputf8(delivery.to_address, self.envelope_from):
            return build_message(delivery_id=delivery.id, attachments=attachments, **fields)
        return wire_message(message_id=message_id(delivery.id), **fields)


def _permanent(exc: smtplib.SMTPRecipientsRefused | smtplib.SMTPSenderRefused) -> bool:
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return exc.smtp_code >= 500
    return all(code >= 500 for code, _ in exc.recipients.values())


def _failed(
    runtime: Runtime, delivery: Row, now: datetime, error: str, *, permanent: bool = False
) -> None:
    outcome = domain.after_failure(delivery.attempts, now, permanent=permanent)
    metrics.EMAILS_FAILED.labels("transactional").inc()
    log.warning(
        "email not sent",
        extra={
            "delivery_id": delivery.id,
            "attempts": delivery.attempts,
            "status": outcome.status.value,
            "error": error[:300],
        },
    )
    with runtime.db.engine.begin() as conn:
        conn.execute(
            update(Delivery)
            .where(Delivery.id == delivery.id)
            .values(
                status=outcome.status.value,
                next_attempt_at=outcome.next_attempt_at,
                last_error=error[:2000],
            )
        )


# --- the worker's loop ------------------------------------------------------------------------


class Deliveries:
    """One claimer (the caller's thread) feeding ``senders`` sender threads."""

    def __init__(self, runtime: Runtime, senders: int = SENDERS) -> None:
        self.runtime = runtime
        self.capacity = senders
        self._pool = ThreadPoolExecutor(senders, thread_name_prefix="delivery")
        self._idle: queue.LifoQueue[Sender] = queue.LifoQueue()
        """Senders not sending now; last in, first out, so a trickle of mail keeps reusing one
        warm connection and the others close when idle."""
        for _ in range(senders):
            self._idle.put(Sender(runtime))
        self._in_flight: set[Future] = set()
        self.sent = 0

    def run(self, stop: threading.Event, wakeup: threading.Event, every: float = 0.5) -> None:
        """Send until ``stop``: look for due mail at ``wakeup`` (new emails committed) and at
        least every ``every`` seconds (mail queued by the web process, backoffs ending)."""
        outage = 0
        try:
            while not stop.is_set():
                try:
                    self.send_until_idle(wakeup)
                    outage = 0
                    wait_for = every
                except Exception as exc:
                    outage += 1
                    wait_for = retry_wait(outage, at_least=every)
                    if database_unavailable(exc):
                        log.warning(
                            "delivery loop waits for the database",
                            extra={"error": str(exc)[:200], "wait": wait_for},
                        )
                    else:
                        log.exception("delivery loop failed", extra={"wait": wait_for})
                self._close_idle(IDLE_CLOSE)
                if wakeup.wait(wait_for):
                    wakeup.clear()
        finally:
            self.close()

    def send_until_idle(self, wakeup: threading.Event | None = None) -> int:
        """Claim and send until nothing is due and every sender is done; return how many
        emails the server accepted.

        While senders are busy, ``wakeup`` (set when new emails are committed) makes the next
        free sender's claim look again rather than wait for the burst to end.
        """
        before = self.sent
        more_due = True
        while more_due or self._in_flight:
            room = self.capacity - len(self._in_flight)
            if more_due and room > 0:
                now = utcnow()
                claimed = claim(self.runtime, now, room)
                for delivery in claimed:
                    self._in_flight.add(self._pool.submit(self._send, delivery, now))
                more_due = len(claimed) == room
            if self._in_flight:
                done, self._in_flight = wait(self._in_flight, return_when=FIRST_COMPLETED)
                for future in done:
                    self.sent += future.result()
                if wakeup is not None and wakeup.is_set():
                    wakeup.clear()
                    more_due = True
        return self.sent - before

    def _send(self, delivery: Row, now: datetime) -> int:
        sender = self._idle.get()
        try:
            return int(sender.send(delivery, now))
        finally:
            self._idle.put(sender)

    def _close_idle(self, after: float) -> None:
        """Close the connections of senders without mail for ``after`` seconds (only between
        bursts, when every sender is back in the idle stack)."""
        if self._in_flight:
            return
        senders = []
        while True:
            try:
                senders.append(self._idle.get_nowait())
            except queue.Empty:
                break
        for sender in senders:
            if sender.used_at and sender.idle_for() > after:
                sender.close()
                sender.used_at = 0.0
        for sender in reversed(senders):
            self._idle.put(sender)

    def close(self) -> None:
        for future in self._in_flight:
            with contextlib.suppress(Exception):
                self.sent += future.result()
        self._in_flight = set()
        self._pool.shutdown(wait=True)
        self._close_idle(-1)
