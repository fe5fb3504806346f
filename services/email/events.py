"""Email's events: subscribers confirmed and gone, campaigns sent.

Changing a class changes the wire (shared/bus/events.py): add optional fields first, and never
rename a routing key.
"""

from __future__ import annotations

from datetime import datetime

from shared.bus.events import (
    Email,
    NonNegative,
    event,
)


@event(
    "subscriber.confirmed",
    producer="email",
    description="""
An address confirmed its subscription to email updates (double opt-in completed).
""",
)
class SubscriberConfirmed:
    subscriber_id: str
    email: Email
    topics: list[str]


@event(
    "subscriber.unsubscribed",
    producer="email",
    description="""
An address unsubscribed from every email update (one click, or from the preference page).
""",
)
class SubscriberUnsubscribed:
    subscriber_id: str
    email: Email


@event(
    "campaign.sent",
    producer="email",
    description="""
A campaign finished: every recipient it had when sending started was mailed once, skipped by
the suppression list, or failed for good. The figures are final.
""",
)
class CampaignSent:
    campaign_id: str
    subject: str
    audience: str
    recipients: NonNegative
    sent: NonNegative
    failed: NonNegative
    suppressed: NonNegative
    finished_at: datetime
