"""The campaign send loop: at most one email per recipient, even across ``kill -9``.

The worker's ``campaigns`` job starts scheduled campaigns that are due, then sends every
campaign in ``sending`` whose lease is free, at ``CAMPAIGN_SEND_RATE`` messages a second over two
reused SMTP connections that take turns (below).

**Why nobody is mailed twice.** A mail transaction is complete only at its end-of-data
indication, the final ``.`` line of DATA (RFC 5321 §4.1.1.4): a server whose connection closes
before that line keeps nothing of the message (aiosmtpd, the server of the tests, discards it;
``test_campaign_crash.py`` checks it). So for each recipient the loop does::

    MAIL FROM, RCPT TO, DATA (354), the whole dot-stuffed message but not the final "."
    COMMIT  UPDATE campaign_recipients SET status='sent'
            WHERE id=? AND status='queued'
              AND the campaign is still 'sending' under this worker's lease
    write ".\\r\\n" and read the reply

- Killed before the commit: the row is still ``queued`` and the server never saw the final
  dot, so it dropped the message. After restart the row is sent once: no duplicate.
- Killed after the commit: the row is ``sent`` and is never picked again. Almost always the
  final dot was written too (one write right after the commit returns; the kernel delivers
  written bytes after the process dies), and the person got the email once. If the kill lands
  between the commit becoming visible and that write (the time PostgreSQL's answer takes to
  reach the worker and the thread to run: tens to hundreds of microseconds, more on a loaded
  machine; aiosmtpd also drops a dot it had not read yet when the connection closes), the
  person gets nothing. That is the one trade of the design: never twice, at the price of a
  rare "never". A kill timed right after a commit is seen from outside hits this window
  often enough to see in tests; a kill at a random moment seldom does.
- The commit's ``WHERE status='queued'`` is a compare-and-set on the row itself, so even two
  workers on one recipient (a lease that expired under a stalled worker) cannot both commit
  ``sent``: the loser's update matches no row, and it closes the connection without the dot.
  The lease (``lease_owner``, ``lease_expires_at`` on the campaign, renewed while sending) is
  what keeps a second worker away in the first place, so the rate holds and no work is wasted.
- A reply to the dot that is not 250 marks the row ``failed`` (no retry: it may have been
  delivered). Pause and cancel change the campaign row, which the next commit checks, so
  sending stops at the next message; cancel also takes the queued rows out.

**Two connections, taking turns.** While the loop commits one recipient and writes its final
dot on one SMTP connection, a helper thread already writes the next recipient's MAIL, RCPT,
DATA and message (all but the dot) on the other connection. Nothing in the order above
changes: each message's dot still follows its own commit, and the next recipient's commit
still waits for this one's reply; a worker killed at any moment leaves the half-written next
message without its dot, which the server drops. Only the waiting overlaps: the commit (a disk
flush) and the next message's round trips happen at the same time (docs/benchmarks.md).

Suppression is checked at send time for each batch of recipients (the list and unsubscribed
subscribers): those rows become ``suppressed`` and get nothing.

**Why one module (over ~400 lines).** The never-twice argument above is an order of steps
(write up to the dot, commit, write the dot) that ``CampaignSender`` carries out across its
methods, with the lease and the two connections taking turns. Split, the order would have to
be re-assembled from several files to check it; here it reads top to bottom.
"""

from __future__ import annotations

import contextlib
import email.utils
import logging
import os
import re
import smtplib
import socket
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

from sqlalchemy import Connection, Update, and_, bindparam, exists, or_, select, update

from services.email import smtp as smtp_connection
from services.email import suppression
from services.email.campaigns import domain as campaign_domain
from services.email.campaigns import render as campaign_render
from services.email.campaigns import use_cases as campaigns
from services.email.campaigns.domain import CampaignStatus, RecipientStatus
from services.email.models import Campaign, CampaignRecipient
from shared import config, metrics
from shared.config import SmtpSettings
from shared.db import utcnow
from shared.runtime import Runtime

log = logging.getLogger(__name__)

BATCH_SIZE = 200
"""Most recipients read (and checked against the suppression list) at once; at slow rates a
batch is one second of sending, so suppression is never more than a second old."""
CONNECT_TRIES = 3


class _Prepared(Enum):
    """How writing a message up to (not including) its final dot went."""

    READY = "ready"
    REFUSED = "refused"
    LOST = "lost"
    NO_SERVER = "no server"


class Outcome(Enum):
    SENT = "sent"
    REFUSED = "refused"
    """The server refused this recipient (the row is failed, or queued for a later try)."""
    STOP = "stop"
    """Stop this campaign for now: paused, cancelled, lease lost, or the server is away."""


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


RUN_BUDGET = 5.0
"""Seconds one job run sends a campaign before it lets go (and the job loop, 1 s later, takes it
up again): a worker asked to stop (SIGTERM) is idle within seconds, and campaigns due meanwhile
start on time."""


def run(runtime: Runtime) -> int:
    """The worker's job: start due campaigns, then send those whose lease is free."""
    campaigns.start_due(runtime.uow())
    sent = 0
    for campaign_id in _sendable(runtime):
        deadline = time.monotonic() + RUN_BUDGET
        sent += send_campaign(
            runtime, campaign_id, should_stop=lambda d=deadline: time.monotonic() > d
        )
    return sent


def _sendable(runtime: Runtime) -> list[str]:
    now = utcnow()
    with runtime.db.engine.connect() as conn:
        return list(
            conn.scalars(
                select(Campaign.id)
                .where(
                    Campaign.status == CampaignStatus.SENDING.value,
                    or_(Campaign.lease_owner.is_(None), Campaign.lease_expires_at < now),
                )
                .order_by(Campaign.started_at)
            )
        )


def send_campaign(
    runtime: Runtime,
    campaign_id: str,
    *,
    rate: float | None = None,
    owner: str | None = None,
    lease_seconds: float | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> int:
    """Send a campaign under its lease until nothing is queued (then finish it) or it stops."""
    sender = CampaignSender(
        runtime,
        campaign_id,
        owner=owner or worker_id(),
        rate=rate or config.campaign_send_rate(),
        lease=timedelta(seconds=lease_seconds or config.campaign_lease_seconds()),
        should_stop=should_stop,
    )
    if not sender.take_lease():
        return 0
    try:
        drained = sender.run()
    finally:
        sender.close()
    if drained:
        campaigns.finish_if_done(runtime.uow(), campaign_id)
    return sender.sent


@dataclass
class _Recipient:
    id: int
    email: str
    name: str | None
    course: str | None
    attempts: int


class CampaignSender:
    def __init__(
        self,
        runtime: Runtime,
        campaign_id: str,
        *,
        owner: str,
        rate: float,
        lease: timedelta,
        should_stop: Callable[[], bool],
    ) -> None:
        self.runtime = runtime
        self.campaign_id = campaign_id
        self.owner = owner
        self._mark_sent: Update | None = None
        self.lease = lease
        self.pacer = campaign_domain.Pacer(rate)
        self.batch_size = max(10, min(BATCH_SIZE, int(rate)))
        self.should_stop = should_stop
        self.settings: SmtpSettings = config.smtp_settings()
        self.envelope_from = email.utils.parseaddr(self.settings.mail_from)[1]
        # Every statement of the loop is a transaction of its own (a single UPDATE or SELECT,
        # then commit): in autocommit mode each is one round trip to the database, the commit
        # of ``sent`` included (no BEGIN before it, no COMMIT after it), and it is still
        # durable before the statement returns. The ``commit()`` calls below do nothing then,
        # and say where each transaction ends.
        self.conn: Connection = runtime.db.engine.connect().execution_options(
            isolation_level="AUTOCOMMIT"
        )
        self.smtps: list[smtplib.SMTP | None] = [None, None]
        """The two connections that take turns; one is written by the helper thread."""
        self.in_data = [False, False]
        """Whether a connection holds a message without its final dot (never QUIT it then)."""
        self.renewed_at = 0.0
        self.sent = 0
        self.messages: campaign_render.WireMessages | None = None

    # --- the lease ----------------------------------------------------------------------------

    def take_lease(self) -> bool:
        now = utcnow()
        taken = self.conn.execute(
            update(Campaign)
            .where(
                Campaign.id == self.campaign_id,
                Campaign.status == CampaignStatus.SENDING.value,
                or_(
                    Campaign.lease_owner.is_(None),
                    Campaign.lease_expires_at < now,
                    Campaign.lease_owner == self.owner,
                ),
            )
            .values(lease_owner=self.owner, lease_expires_at=now + self.lease)
        ).rowcount
        self.conn.commit()
        self.renewed_at = time.monotonic()
        return taken == 1

    def _renew_if_due(self) -> bool:
        if time.monotonic() - self.renewed_at < self.lease.total_seconds() / 3:
            return True
        renewed = self.conn.execute(
            update(Campaign)
            .where(Campaign.id == self.campaign_id, Campaign.lease_owner == self.owner)
            .values(lease_expires_at=utcnow() + self.lease)
        ).rowcount
        self.conn.commit()
        self.renewed_at = time.monotonic()
        if renewed != 1:
            log.warning("campaign lease lost", extra={"campaign_id": self.campaign_id})
        return renewed == 1

    def _release_lease(self) -> None:
        self.conn.execute(
            update(Campaign)
            .where(Campaign.id == self.campaign_id, Campaign.lease_owner == self.owner)
            .values(lease_owner=None, lease_expires_at=None)
        )
        self.conn.commit()

    # --- the loop -----------------------------------------------------------------------------

    def run(self) -> bool:
        """Send until nothing is queued (True) or the campaign stops for now (False)."""
        campaign = self.conn.execute(
            select(Campaign.subject, Campaign.body_markdown).where(Campaign.id == self.campaign_id)
        ).one()
        self.conn.commit()
        compiled = campaign_render.template(campaign.subject, campaign.body_markdown)
        self.messages = campaign_render.WireMessages(
            compiled, self.campaign_id, self.settings.mail_from
        )
        after = 0
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="campaign-data") as helper:
            while True:
                if self.should_stop() or not self._renew_if_due() or not self._still_sending():
                    return False
                batch = self._next_batch(after)
                if not batch:
                    return True
                after = batch[-1].id
                if not self._send_batch(helper, self._without_suppressed(batch)):
                    return False

    def _send_batch(self, helper: ThreadPoolExecutor, recipients: list[_Recipient]) -> bool:
        """Send these recipients in order; False if the campaign stops for now."""
        if not recipients:
            return True
        slot = 0
        upcoming: Future | None = self._prepare(helper, recipients[0], slot)
        for index, recipient in enumerate(recipients):
            prepared, detail = upcoming.result()
            upcoming = None
            stopping = self.should_stop() or not self._renew_if_due()
            if index + 1 < len(recipients) and not stopping:
                upcoming = self._prepare(helper, recipients[index + 1], 1 - slot)
            try:
                outcome = self._finish(recipient, slot, prepared, detail)
            except BaseException:
                self._abandon(upcoming)
                raise
            if outcome is Outcome.SENT:
                self.sent += 1
            elif outcome is Outcome.STOP:
                self._abandon(upcoming)
                return False
            if stopping:
                return False
            slot = 1 - slot
        return True

    def _prepare(self, helper: ThreadPoolExecutor, recipient: _Recipient, slot: int) -> Future:
        """Start writing ``recipient``'s message (all but the final dot) in the helper thread,
        at the time the rate allows."""
        return helper.submit(
            self._write_up_to_dot, recipient, slot, self.pacer.wait(time.monotonic())
        )

    def _abandon(self, upcoming: Future | None) -> None:
        """A prepared message that will not be sent: its connection closes without the dot."""
        if upcoming is not None:
            with contextlib.suppress(Exception):
                upcoming.result()
            for slot, open_data in enumerate(self.in_data):
                if open_data:
                    self._drop_smtp(slot)

    def _still_sending(self) -> bool:
        status = self.conn.scalar(select(Campaign.status).where(Campaign.id == self.campaign_id))
        self.conn.commit()
        return status == CampaignStatus.SENDING.value

    def _next_batch(self, after: int) -> list[_Recipient]:
        rows = self.conn.execute(
            select(
                CampaignRecipient.id,
                CampaignRecipient.email,
                CampaignRecipient.name,
                CampaignRecipient.course,
                CampaignRecipient.attempts,
            )
            .where(
                CampaignRecipient.campaign_id == self.campaign_id,
                CampaignRecipient.status == RecipientStatus.QUEUED.value,
                CampaignRecipient.id > after,
            )
            .order_by(CampaignRecipient.id)
            .limit(self.batch_size)
        ).all()
        self.conn.commit()
        return [_Recipient(*row) for row in rows]

    def _without_suppressed(self, batch: list[_Recipient]) -> list[_Recipient]:
        """Suppression at send time: listed addresses and unsubscribed subscribers get nothing."""
        blocked = suppression.suppressed_now(self.conn, [r.email for r in batch])
        if blocked:
            suppression.mark_suppressed(self.conn, [r.id for r in batch if r.email in blocked])
            self.conn.commit()
        return [r for r in batch if r.email not in blocked]

    # --- one message --------------------------------------------------------------------------

    def _message_bytes(self, recipient: _Recipient) -> bytes:
        raw = self.messages.message(recipient.id, recipient.email, recipient.name, recipient.course)
        return dot_stuffed(raw)

    def _write_up_to_dot(
        self, recipient: _Recipient, slot: int, delay: float
    ) -> tuple[_Prepared, tuple[int, bytes] | None]:
        """MAIL, RCPT, DATA and the message, without the final dot (in the helper thread: it
        touches only connection ``slot`` and no database)."""
        if delay > 0:
            time.sleep(delay)
        body = self._message_bytes(recipient)
        smtp = self._smtp(slot)
        if smtp is None:
            return _Prepared.NO_SERVER, None
        try:
            code, reply = smtp.mail(self.envelope_from)
            if code == 250:
                code, reply = smtp.rcpt(recipient.email)
            if code in (250, 251):
                smtp.putcmd("data")
                code, reply = smtp.getreply()
            if code != 354:
                smtp.rset()
                return _Prepared.REFUSED, (code, reply)
            self.in_data[slot] = True
            smtp.send(body)
        except (OSError, smtplib.SMTPException) as exc:
            # The connection broke before the final dot: the server discards the message and
            # the row is still queued, so it goes with a later connection.
            log.warning("SMTP connection lost", extra={"error": str(exc)[:300]})
            self._drop_smtp(slot)
            return _Prepared.LOST, None
        return _Prepared.READY, None

    def _finish(
        self,
        recipient: _Recipient,
        slot: int,
        prepared: _Prepared,
        detail: tuple[int, bytes] | None,
    ) -> Outcome:
        """Commit ``sent``, then write the final dot and read the reply (the loop's thread)."""
        if prepared is _Prepared.NO_SERVER:
            return Outcome.STOP
        if prepared is _Prepared.LOST:
            return Outcome.REFUSED
        if prepared is _Prepared.REFUSED:
            self._refused(recipient, *detail)
            return Outcome.REFUSED
        try:
            committed = self._commit_sent(recipient)
        except BaseException:
            self._drop_smtp(slot)  # no final dot: the server discards the message
            raise
        if not committed:
            # Paused, cancelled, or another worker took the lease: leave without the dot.
            self._drop_smtp(slot)
            return Outcome.STOP
        smtp = self.smtps[slot]
        try:
            smtp.send(b".\r\n")
            self.in_data[slot] = False
            code, reply = smtp.getreply()
        except (OSError, smtplib.SMTPException) as exc:
            self._drop_smtp(slot)
            self._failed_after_commit(recipient, f"no reply to the end of data: {exc}")
            return Outcome.SENT
        if code != 250:
            self._failed_after_commit(recipient, _error(code, reply))
        else:
            metrics.EMAILS_SENT.labels("campaign").inc()
        return Outcome.SENT

    def _commit_sent(self, recipient: _Recipient) -> bool:
        changed = self.conn.execute(
            self._mark_sent_statement(), {"recipient_id": recipient.id, "now": utcnow()}
        ).rowcount
        if changed != 1:
            self.conn.rollback()
            return False
        self.conn.commit()
        return True

    def _mark_sent_statement(self) -> Update:
        """The one UPDATE per message, built once: constructing it anew cost more than running
        it (docs/benchmarks.md, campaign)."""
        if self._mark_sent is None:
            campaign_sending_under_our_lease = exists().where(
                and_(
                    Campaign.id == self.campaign_id,
                    Campaign.status == CampaignStatus.SENDING.value,
                    Campaign.lease_owner == self.owner,
                )
            )
            self._mark_sent = (
                update(CampaignRecipient)
                .where(
                    CampaignRecipient.id == bindparam("recipient_id"),
                    CampaignRecipient.status == RecipientStatus.QUEUED.value,
                    campaign_sending_under_our_lease,
                )
                .values(
                    status=RecipientStatus.SENT.value,
                    sent_at=bindparam("now"),
                    attempts=CampaignRecipient.attempts + 1,
                    error=None,
                )
            )
        return self._mark_sent

    def _failed_after_commit(self, recipient: _Recipient, error: str) -> None:
        metrics.EMAILS_FAILED.labels("campaign").inc()
        log.warning(
            "campaign email refused at the end of data",
            extra={"campaign_id": self.campaign_id, "recipient_id": recipient.id},
        )
        self.conn.execute(
            update(CampaignRecipient)
            .where(CampaignRecipient.id == recipient.id)
            .values(status=RecipientStatus.FAILED.value, error=error[:2000])
        )
        self.conn.commit()

    def _refused(self, recipient: _Recipient, code: int, reply: bytes) -> None:
        """5xx: failed for good. 4xx: queued for a later round, until the tries run out."""
        attempts = recipient.attempts + 1
        give_up = code >= 500 or attempts >= campaign_domain.MAX_RECIPIENT_ATTEMPTS
        metrics.EMAILS_FAILED.labels("campaign").inc()
        status = RecipientStatus.FAILED if give_up else RecipientStatus.QUEUED
        self.conn.execute(
            update(CampaignRecipient)
            .where(
                CampaignRecipient.id == recipient.id,
                CampaignRecipient.status == RecipientStatus.QUEUED.value,
            )
            .values(status=status.value, attempts=attempts, error=_error(code, reply)[:2000])
        )
        self.conn.commit()

    # --- the SMTP connection --------------------------------------------------------------------

    def _smtp(self, slot: int) -> smtplib.SMTP | None:
        if self.smtps[slot] is not None:
            return self.smtps[slot]
        for attempt in range(CONNECT_TRIES):
            try:
                smtp = self.smtps[slot] = smtp_connection.connect(self.settings)
                # The final dot is a small write after the body: without TCP_NODELAY, Nagle's
                # algorithm holds it until the server's delayed ACK (40 ms a message).
                smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                smtp.ehlo_or_helo_if_needed()
                return smtp
            except (OSError, smtplib.SMTPException) as exc:
                log.warning("SMTP server unavailable", extra={"error": str(exc)[:300]})
                self._drop_smtp(slot)
                time.sleep(min(0.2 * 2**attempt, smtp_connection.SMTP_TIMEOUT))
        return None

    def _drop_smtp(self, slot: int) -> None:
        """Close without QUIT: in the middle of DATA that is what makes the server drop it."""
        smtp, self.smtps[slot] = self.smtps[slot], None
        self.in_data[slot] = False
        if smtp is not None:
            smtp.close()

    def close(self) -> None:
        try:
            for slot, smtp in enumerate(self.smtps):
                if smtp is not None and not self.in_data[slot]:
                    with contextlib.suppress(OSError, smtplib.SMTPException):
                        smtp.quit()
                self._drop_smtp(slot)
            self._release_lease()
        finally:
            self.conn.close()


def dot_stuffed(data: bytes) -> bytes:
    """The message as DATA carries it: CRLF line ends, a leading "." doubled, ending in CRLF
    (the terminating ".\\r\\n" is written separately, after the commit)."""
    data = re.sub(rb"\r\n|\n|\r(?!\n)", b"\r\n", data)
    data = re.sub(rb"(?m)^\.", b"..", data)
    return data if data.endswith(b"\r\n") else data + b"\r\n"


def _error(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return f"{code} {text}".strip()
