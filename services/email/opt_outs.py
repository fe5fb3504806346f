"""Opt-out kinds of email (the weekly progress digests): who left which, and their link.

A digest is service mail a person did not ask for one by one, so like marketing it carries
one-click unsubscribe (RFC 8058: ``List-Unsubscribe`` and ``List-Unsubscribe-Post``). Its link
is a signed opt-out token naming the kind and the address (tokens.py), taken by the same
``/api/unsubscribe/<token>`` and ``/api/preferences/<token>`` endpoints as the subscription and
campaign links. Leaving a digest stops that kind only: it is not the suppression list, which
would also stop campaigns the person subscribed to, and leaving campaigns does not stop it.

The opt-out is honoured when a digest is queued (checked in the transaction that queues it),
and opting out also withdraws any digest of that kind still waiting to be sent. An address
suppressed for a hard bounce or a spam complaint gets no digest either.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, update
from sqlalchemy.orm import Session

from services.email import domain, tokens
from services.email.campaigns.domain import SuppressionReason
from services.email.domain import OPT_OUT_KINDS, DeliveryStatus, Kind, SubscriberStatus
from services.email.models import Delivery, OptOut, Suppression
from shared import config
from shared.db import UnitOfWork, insert_with_conflicts, utcnow

LIST_NAMES = {
    Kind.PROGRESS_DIGEST: "the weekly progress email",
    Kind.TUTOR_PROGRESS_DIGEST: "the weekly email about your students' progress",
}
"""What a person leaves, in words for the unsubscribe page."""

STOPS_DIGESTS = frozenset({SuppressionReason.HARD_BOUNCE.value, SuppressionReason.COMPLAINT.value})
"""Suppression reasons that also stop the opt-out kinds (the mailbox is gone, or its owner
called our mail spam); ``unsubscribed`` from a campaign and ``manual`` are about marketing."""

WITHDRAWN = "not sent: the recipient opted out of this kind of email"


def unsubscribe_url(kind: Kind, address: str) -> str:
    """``PUBLIC_URL/unsubscribe/<token>``: the site's page asks, its POST (one click) leaves."""
    token = tokens.opt_out_token(kind.value, domain.normalize_email(address))
    return f"{config.public_url()}/unsubscribe/{token}"


def read_token(token: str) -> tuple[Kind, str] | None:
    """``(kind, address)`` of an opt-out link, or None if the token is not one."""
    found = tokens.read_opt_out_token(token)
    if found is None:
        return None
    kind, address = found
    if kind not in {k.value for k in OPT_OUT_KINDS}:
        return None
    return Kind(kind), address


def opted_out(session: Session, kind: Kind, address: str) -> bool:
    """Whether ``address`` left ``kind``, or must get no mail it did not need: a mailbox that
    hard-bounced or whose owner reported our mail as spam (the suppression list's reasons; one
    who only left campaigns still gets the digest). Read in the transaction that would queue
    the email."""
    address = domain.normalize_email(address)
    if session.get(OptOut, (address, kind.value)) is not None:
        return True
    listed = session.get(Suppression, address)
    return listed is not None and listed.reason in STOPS_DIGESTS


def preferences(uow: UnitOfWork, kind: Kind, address: str) -> dict[str, Any]:
    """What the unsubscribe page shows for an opt-out link. Reading it never opts out."""
    with uow:
        left = opted_out(uow.session, kind, address)
    return _answer(kind, address, left)


def opt_out(uow: UnitOfWork, kind: Kind, address: str) -> dict[str, Any]:
    """One click: ``address`` gets no more ``kind`` emails. Repeating it changes nothing.

    The insert ignores a repeat (the primary key), and in the same transaction any email of
    that kind still queued for the address is withdrawn, so a digest queued a moment before
    the click is not sent either.
    """
    address = domain.normalize_email(address)
    with uow:
        session = uow.session
        session.execute(
            insert_with_conflicts(session, OptOut.__table__)
            .values(email=address, kind=kind.value, created_at=utcnow())
            .on_conflict_do_nothing(index_elements=["email", "kind"])
        )
        session.execute(
            update(Delivery)
            .where(
                Delivery.status == DeliveryStatus.QUEUED.value,
                Delivery.kind == kind.value,
                func.lower(Delivery.to_address) == address,
            )
            .values(status=DeliveryStatus.FAILED.value, next_attempt_at=None, last_error=WITHDRAWN)
        )
        uow.commit()
    return _answer(kind, address, True)


def _answer(kind: Kind, address: str, left: bool) -> dict[str, Any]:
    """The preferences/unsubscribe answer, plus ``list_name`` so the page can say what ends."""
    status = SubscriberStatus.UNSUBSCRIBED if left else SubscriberStatus.CONFIRMED
    return {
        "email": domain.normalize_email(address),
        "topics": [],
        "status": status.value,
        "list_name": LIST_NAMES[kind],
    }
