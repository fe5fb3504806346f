"""The delivery loop: sends queued emails over one reused SMTP connection per batch.

Claiming is its own short transaction (``SELECT ... FOR UPDATE SKIP LOCKED``, mark ``sending``,
commit), so several workers share the queue and none holds a lock while talking SMTP. A row
left in ``sending`` for ``STUCK_AFTER`` belonged to a worker that died and is claimed again:
transactional mail is delivered at least once, and a crash between the SMTP send and marking
the row ``sent`` can send one email twice (with the same Message-ID, so clients may collapse
it).
"""

from __future__ import annotations

import json
import logging
import smtplib
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from sqlalchemy import and_, bindparam, or_, select, update

from services.email import domain
from services.email.domain import DeliveryStatus
from services.email.messages import attachments_from_json, build_message
from services.email.models import Delivery
from shared import config, metrics
from shared.config import SmtpSettings
from shared.db import utcnow
from shared.runtime import Runtime

log = logging.getLogger(__name__)

BATCH_SIZE = 50
SMTP_TIMEOUT = 10


def send_due(runtime: Runtime, *, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Send one batch of due deliveries; return how many were sent.

    ``now`` lets a test step past a backoff without waiting for it.
    """
    now = now or utcnow()
    claimed = _claim(runtime, now, batch_size)
    if not claimed:
        return 0
    settings = config.smtp_settings()
    try:
        smtp = _connect(settings)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("SMTP server unavailable", extra={"error": str(exc)[:300]})
        for delivery in claimed:
            _failed(runtime, delivery, now, f"connect: {exc}")
        return 0
    sent = 0
    try:
        for index, delivery in enumerate(claimed):
            try:
                message = _message(delivery, settings)
            except (ValueError, TypeError) as exc:
                # A row that cannot become an email never will: fail it alone, keep the batch.
                _failed(runtime, delivery, now, f"cannot build the message: {exc}", permanent=True)
                continue
            try:
                smtp.send_message(message)
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
                _failed(runtime, delivery, now, str(exc), permanent=_permanent(exc))
                continue
            except smtplib.SMTPResponseException as exc:
                _failed(runtime, delivery, now, str(exc), permanent=exc.smtp_code >= 500)
                continue
            except (OSError, smtplib.SMTPException) as exc:
                # The connection broke: this one and the rest wait for the next round.
                for rest in claimed[index:]:
                    _failed(runtime, rest, now, f"send: {exc}")
                break
            _sent(runtime, delivery)
            metrics.EMAILS_SENT.labels("transactional").inc()
            sent += 1
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()
    return sent


def _claim(runtime: Runtime, now: datetime, limit: int) -> list[Delivery]:
    stuck_before = now - domain.STUCK_AFTER
    with runtime.db.session() as session, session.begin():
        rows = list(
            session.scalars(
                select(Delivery)
                .where(
                    or_(
                        and_(
                            Delivery.status == DeliveryStatus.QUEUED.value,
                            Delivery.next_attempt_at <= now,
                        ),
                        and_(
                            Delivery.status == DeliveryStatus.SENDING.value,
                            Delivery.claimed_at < stuck_before,
                        ),
                    )
                )
                .order_by(Delivery.next_attempt_at, Delivery.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        for row in rows:
            row.status = DeliveryStatus.SENDING.value
            row.claimed_at = utcnow()
            row.attempts += 1
    return rows


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    smtp = smtplib.SMTP(settings.host, settings.port, timeout=SMTP_TIMEOUT)
    try:
        if settings.starttls:
            smtp.starttls()
        if settings.user:
            smtp.login(settings.user, settings.password)
    except BaseException:
        smtp.close()
        raise
    return smtp


def _message(delivery: Delivery, settings: SmtpSettings):
    return build_message(
        delivery_id=delivery.id,
        to=delivery.to_address,
        subject=delivery.subject,
        text=delivery.text_body,
        html=delivery.html_body,
        headers=json.loads(delivery.headers or "{}"),
        mail_from=settings.mail_from,
        attachments=attachments_from_json(delivery.attachments),
    )


def _permanent(exc: smtplib.SMTPRecipientsRefused | smtplib.SMTPSenderRefused) -> bool:
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return exc.smtp_code >= 500
    return all(code >= 500 for code, _ in exc.recipients.values())


_MARK_SENT = (
    update(Delivery)
    .where(Delivery.id == bindparam("delivery_id"))
    .values(status=DeliveryStatus.SENT.value, sent_at=bindparam("now"), last_error=None)
)
"""Built once: constructing the statement per email cost more than running it."""


def _sent(runtime: Runtime, delivery: Delivery) -> None:
    with runtime.db.engine.begin() as conn:
        conn.execute(_MARK_SENT, {"delivery_id": delivery.id, "now": utcnow()})


def _failed(
    runtime: Runtime, delivery: Delivery, now: datetime, error: str, *, permanent: bool = False
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
    with runtime.db.session() as session, session.begin():
        session.execute(
            update(Delivery)
            .where(Delivery.id == delivery.id)
            .values(
                status=outcome.status.value,
                next_attempt_at=outcome.next_attempt_at,
                last_error=error[:2000],
            )
        )


SENDERS = 4
"""Delivery loops the worker runs side by side when mail piles up (fifty students paying at
once get a receipt and a welcome each): every loop claims its own rows (SKIP LOCKED, so no row
is claimed twice) and uses its own SMTP connection, so a burst waits on the database's and the
server's answers in parallel rather than one after the other (docs/benchmarks.md)."""
SENDER_BATCH = 10


def send_all_due(runtime: Runtime) -> int:
    """The worker's job: send until nothing is due, with ``SENDERS`` loops once mail piles up."""
    sent = send_due(runtime, batch_size=SENDER_BATCH)
    if sent < SENDER_BATCH:
        return sent  # the usual case: a few emails, one connection
    with ThreadPoolExecutor(SENDERS, thread_name_prefix="deliveries") as senders:
        return sent + sum(senders.map(lambda _: _send_until_idle(runtime), range(SENDERS)))


def _send_until_idle(runtime: Runtime) -> int:
    total = 0
    while True:
        sent = send_due(runtime, batch_size=SENDER_BATCH)
        total += sent
        if sent < SENDER_BATCH:
            return total
