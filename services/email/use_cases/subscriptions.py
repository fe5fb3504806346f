"""Subscriptions: double opt-in, preferences and one-click unsubscribe.

A request from a stranger is rate limited per address and per client (shared/rate_limit.py),
and every answer is the same whatever happened, so it reveals nothing about who subscribes.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.email import compose, domain, suppression, tokens
from services.email.domain import InvalidConfirmation, Kind, SubscriberStatus, SubscriptionNotFound
from services.email.events import SubscriberConfirmed, SubscriberUnsubscribed
from services.email.messages import render
from services.email.models import Subscriber, SubscriberTopic, Topic, rate_limits
from shared import config, rate_limit
from shared.db import UnitOfWork, insert_with_conflicts, utcnow
from shared.runtime import Runtime


@dataclass(frozen=True)
class Subscription:
    """What the preference page shows of a subscriber."""

    subscriber_id: str
    email: str
    topics: list[str]
    status: str

    def as_dict(self) -> dict[str, Any]:
        return {"email": self.email, "topics": self.topics, "status": self.status}


def subscribe(
    uow: UnitOfWork,
    address: str,
    topics: list[str],
    name: str | None = None,
    client: str | None = None,
) -> str:
    """Start (or repeat) double opt-in; returns the address as stored.

    The row is created with INSERT ... ON CONFLICT DO NOTHING and then locked, so two requests
    for one address at once still make one subscriber. A request from a stranger (``client``,
    their address) counts against MAIL_REQUEST_LIMIT per address and MAIL_REQUEST_CLIENT_LIMIT
    per client, atomically (shared/rate_limit.py); past either it changes and sends nothing,
    and the caller answers exactly as it would have, so a flood sends at most the limit.
    """
    address = domain.normalize_email(address)
    with uow:
        db = uow.session
        names = _topic_names(db)
        wanted = domain.check_topics(topics, set(names))
        if client is not None and not _may_mail(db, address, client):
            return address
        created = _insert_subscriber(db, address, name)
        sub = db.scalars(
            select(Subscriber).where(Subscriber.email == address).with_for_update()
        ).one()
        current = None if created else SubscriberStatus(sub.status)
        outcome = domain.subscribe(current, sub.topic_slugs, wanted)
        if outcome.new_opt_in and not created:
            sub.nonce = _nonce()
            sub.confirmed_at = None
        sub.status = outcome.status.value
        if name:
            sub.name = name
        _set_topics(sub, outcome.topics)
        if outcome.send_confirmation:
            link = f"{config.public_url()}/confirm/{tokens.confirm_token(sub.id, sub.nonce)}"
            context = {
                "name": sub.name,
                "topics": [names[t] for t in outcome.topics],
                "link": link,
            }
            compose.queue(
                db,
                Kind.CONFIRM_SUBSCRIPTION,
                address,
                render(Kind.CONFIRM_SUBSCRIPTION, context),
            )
        uow.commit()
    return address


def _may_mail(db: Session, address: str, client: str) -> bool:
    tries = rate_limit.mail_rules().tries(address, client, "subscription")
    return rate_limit.take_all(db, rate_limits, tries, utcnow()) is None


def purge_rate_limits(runtime: Runtime) -> int:
    """Forget confirmation counters no limit looks at any more (the worker runs it hourly)."""
    rules = rate_limit.mail_rules()
    horizon = max(rules.per_address.horizon, rules.per_client.horizon)
    with runtime.uow() as uow:
        purged = rate_limit.purge(uow.session, rate_limits, horizon, utcnow())
        uow.commit()
    return purged


def confirm_subscription(uow: UnitOfWork, token: str) -> dict[str, Any]:
    """Complete double opt-in. Confirming again answers the same and announces nothing new."""
    subscriber_id, nonce = tokens.read_confirm_token(token)
    with uow:
        db = uow.session
        sub = db.get(Subscriber, subscriber_id, with_for_update=True)
        if sub is None or not secrets.compare_digest(sub.nonce, nonce):
            raise InvalidConfirmation()
        # One manage token for the welcome email and the answer: signed twice, the two could
        # differ by their signing second, and the page and the email would show two links.
        manage = tokens.manage_token(sub.id)
        if domain.confirm(SubscriberStatus(sub.status)):
            sub.status = SubscriberStatus.CONFIRMED.value
            sub.confirmed_at = utcnow()
            event = uow.record(
                SubscriberConfirmed(subscriber_id=sub.id, email=sub.email, topics=sub.topic_slugs)
            )
            names = _topic_names(db)
            context = {
                "name": sub.name,
                "topics": [names[t] for t in sub.topic_slugs],
                "preferences_url": f"{config.public_url()}/preferences/{manage}",
                "unsubscribe_url": f"{config.public_url()}/unsubscribe/{manage}",
            }
            compose.queue(
                db, Kind.SUBSCRIBED, sub.email, render(Kind.SUBSCRIBED, context), event.id
            )
        view = _view(sub)
        uow.commit()
    return {**view.as_dict(), "manage_token": manage}


def preferences(uow: UnitOfWork, manage_token: str) -> dict[str, Any]:
    recipient = tokens.read_recipient_token(manage_token)  # a campaign email's link
    if recipient is not None:
        return suppression.recipient_preferences(uow, *recipient)
    subscriber_id = tokens.read_manage_token(manage_token)
    with uow:
        return _view(_subscriber(uow.session, subscriber_id)).as_dict()


def change_topics(uow: UnitOfWork, manage_token: str, topics: list[str]) -> dict[str, Any]:
    """Replace the topics. It never changes consent: an unsubscribed address subscribes again
    through double opt-in, and leaving every topic is what unsubscribe is for."""
    recipient = tokens.read_recipient_token(manage_token)  # a campaign email's link
    if recipient is not None:
        subscriber_id = suppression.subscriber_of(uow, recipient[1])
    else:
        subscriber_id = tokens.read_manage_token(manage_token)
    with uow:
        db = uow.session
        wanted = domain.check_topics(topics, set(_topic_names(db)))
        sub = _subscriber(db, subscriber_id, lock=True)
        _set_topics(sub, wanted)
        db.flush()
        view = _view(sub)
        uow.commit()
    return view.as_dict()


def unsubscribe(uow: UnitOfWork, manage_token: str) -> dict[str, Any]:
    """One-click unsubscribe (RFC 8058). Repeating it changes nothing and announces nothing.

    A campaign email's link (a recipient token) also puts the address on the suppression list.
    """
    recipient = tokens.read_recipient_token(manage_token)
    if recipient is not None:
        return suppression.recipient_unsubscribe(uow, *recipient)
    subscriber_id = tokens.read_manage_token(manage_token)
    with uow:
        sub = _subscriber(uow.session, subscriber_id, lock=True)
        if domain.unsubscribe(SubscriberStatus(sub.status)):
            sub.status = SubscriberStatus.UNSUBSCRIBED.value
            sub.unsubscribed_at = utcnow()
            sub.nonce = _nonce()  # confirmation links sent before now stop working
            uow.record(SubscriberUnsubscribed(subscriber_id=sub.id, email=sub.email))
        answer = {"email": sub.email, "status": sub.status}
        uow.commit()
    return answer


# --- helpers -------------------------------------------------------------------------------


def _topic_names(db: Session) -> dict[str, str]:
    return {slug: name for slug, name in db.execute(select(Topic.slug, Topic.name))}


def _nonce() -> str:
    return secrets.token_hex(8)


def _insert_subscriber(db: Session, address: str, name: str | None) -> bool:
    statement = (
        insert_with_conflicts(db, Subscriber.__table__)
        .values(
            id=str(uuid.uuid4()),
            email=address,
            name=name,
            status=SubscriberStatus.PENDING.value,
            nonce=_nonce(),
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["email"])
    )
    return db.execute(statement).rowcount == 1


def _subscriber(db: Session, subscriber_id: str, *, lock: bool = False) -> Subscriber:
    sub = db.get(Subscriber, subscriber_id, with_for_update=lock)
    if sub is None:
        raise SubscriptionNotFound()
    return sub


def _set_topics(sub: Subscriber, slugs: list[str]) -> None:
    wanted = set(slugs)
    for row in list(sub.topics):
        if row.topic_slug not in wanted:
            sub.topics.remove(row)
    have = set(sub.topic_slugs)
    for slug in slugs:
        if slug not in have:
            sub.topics.append(SubscriberTopic(topic_slug=slug))


def _view(sub: Subscriber) -> Subscription:
    return Subscription(sub.id, sub.email, sorted(sub.topic_slugs), sub.status)
