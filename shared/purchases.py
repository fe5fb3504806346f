"""A purchase paid by card through payments: its reference, its checkout, its payment state.

Enrollment sells a seat in a course and tutoring a package of hours, the same way: the owning
service commits the purchase as ``pending_payment``, THEN asks payments for the PaymentIntent
(``open_checkout``; a student is waiting, so it is HTTP), and learns the outcome from payments'
events (``payment.succeeded`` / ``failed`` / ``refunded``), which name the purchase by its
reference (``PurchaseKind.ref``).

What a page needs to pay (payment id, client secret, Stripe's publishable key and script) and
the last payment status the events announced are kept on the purchase's own row
(``LocalPayment``), written when the intent is created and when an event arrives. A read of a
pending purchase (the checkout page, each status poll) is then answered from the owning
service's database alone; only a purchase that has no checkout stored yet (made before these
columns, or whose storing failed) asks payments, which hands back the same intent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import String
from sqlalchemy.orm import Mapped, Session, mapped_column

from shared.db import UnitOfWork
from shared.errors import PaymentsUnavailable
from shared.payments_client import PaymentsClient

log = logging.getLogger(__name__)

CHECKOUT_FIELDS = ("payment_id", "client_secret", "publishable_key", "js_url")
"""What a checkout page needs, as purchases answer it (``checkout`` in their API)."""


@dataclass(frozen=True)
class PurchaseKind:
    """One kind of thing a service sells: its ``purchase_kind`` and reference prefix on the wire.

    Enrollment's is ``PurchaseKind("enrollment", "enrollment:")``, tutoring's packages
    ``PurchaseKind("tutoring_package", "package:")``.
    """

    kind: str
    prefix: str

    def ref(self, purchase_id: str) -> str:
        """How payments names the purchase."""
        return f"{self.prefix}{purchase_id}"

    def id_of(self, ref: str) -> str | None:
        """The purchase a reference names, None if it names something else."""
        return ref.removeprefix(self.prefix) if ref.startswith(self.prefix) else None


@dataclass(frozen=True)
class Checkout:
    """What payments needs to open the PaymentIntent of one purchase."""

    purchase_id: str
    user_id: str
    email: str
    name: str
    amount_minor: int
    currency: str
    description: str
    """Read by people (the admin ledger, Stripe's dashboard)."""


def open_checkout(payments: PaymentsClient, kind: PurchaseKind, order: Checkout) -> dict[str, Any]:
    """The purchase's PaymentIntent (payments makes it once, the same one on every later call),
    as a checkout page needs it; :class:`PaymentsUnavailable` if payments cannot be asked."""
    intent = payments.create_intent(
        purchase_kind=kind.kind,
        purchase_ref=kind.ref(order.purchase_id),
        user_id=order.user_id,
        email=order.email,
        name=order.name,
        amount_minor=order.amount_minor,
        currency=order.currency,
        description=order.description,
    )
    return {k: intent[k] for k in CHECKOUT_FIELDS}


class LocalPayment:
    """Columns of a purchase's row: its checkout and the payment's last announced status.

    Mixed into the purchase's model (enrollment's ``Enrollment``, tutoring's ``Package``); the
    service's migration adds the five nullable columns (``shared.purchase_migrations``).
    """

    checkout_payment_id: Mapped[str | None] = mapped_column(String(64))
    checkout_client_secret: Mapped[str | None] = mapped_column(String(255))
    checkout_publishable_key: Mapped[str | None] = mapped_column(String(255))
    checkout_js_url: Mapped[str | None] = mapped_column(String(500))
    payment_status: Mapped[str | None] = mapped_column(String(20))
    """``succeeded``, ``failed`` or ``refunded``, as payments' last event about it said (None
    before any): its status at payments, without asking payments."""

    def stored_checkout(self) -> dict[str, Any] | None:
        """The checkout kept when the intent was created, None if there is none yet."""
        if self.checkout_client_secret is None:
            return None
        return {k: getattr(self, f"checkout_{k}") for k in CHECKOUT_FIELDS}

    def keep_checkout(self, checkout: Mapping[str, Any]) -> None:
        """Remember the checkout payments handed out, so later reads need not ask again."""
        for k in CHECKOUT_FIELDS:
            setattr(self, f"checkout_{k}", checkout[k])


Row = TypeVar("Row", bound=LocalPayment)
Loader = Callable[[Session, str], "Row | None"]
"""Loads (and locks) one purchase's row by its id; None if there is none."""


def checkout_for_read(
    uow: UnitOfWork,
    load: Loader,
    stored: Mapping[str, Any] | None,
    payments: PaymentsClient,
    kind: PurchaseKind,
    order: Checkout,
) -> dict[str, Any] | None:
    """The checkout a read of a pending purchase answers: the stored one, without a call.

    A purchase with none stored (made before the columns existed, or whose storing failed)
    asks payments once and keeps the answer. Without payments it is None: the page says "try
    again" and the purchase itself stays readable.
    """
    if stored is not None:
        return dict(stored)
    with suppress(PaymentsUnavailable):
        checkout = open_checkout(payments, kind, order)
        keep_checkout(uow, load, order.purchase_id, checkout)
        return checkout
    return None


def keep_checkout(
    uow: UnitOfWork, load: Loader, purchase_id: str, checkout: Mapping[str, Any]
) -> None:
    """Store the checkout on the purchase's row, in a transaction of its own."""
    with uow:
        row = load(uow.session, purchase_id)
        if row is not None:
            row.keep_checkout(checkout)
            uow.commit()


def purchase_paid_for(
    uow: UnitOfWork, load: Loader, kind: PurchaseKind, event: Any, status: str
) -> Row | None:
    """The purchase a payments event (``PaymentFacts``) is about, locked, with the status it leaves
    (``succeeded``, ``failed``, ``refunded``) kept; None if the event is not about one of ours.
    """
    if event.purchase_kind != kind.kind:
        return None
    purchase_id = kind.id_of(event.purchase_ref)
    row = load(uow.session, purchase_id) if purchase_id else None
    if row is None:
        log.warning(f"payment for an unknown {kind.kind}", extra={"ref": event.purchase_ref})
        return None
    row.payment_status = status
    return row
