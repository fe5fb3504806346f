"""Rendering emails from the Jinja templates, and building the MIME message that is sent.

Every email is multipart/alternative (plain text first, then HTML). Marketing kinds carry
one-click unsubscribe per RFC 8058: the https URL first in ``List-Unsubscribe``, then a
mailto, and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``.

An email with attachments becomes multipart/mixed: the alternative body first, then each
attachment. A calendar attachment (``text/calendar; method=...``, e.g. ``invite.ics``) is
*also* put inside the alternative body as its last part, the layout Google Calendar itself
sends: Outlook and Gmail show Accept/Decline only for that inline ``text/calendar`` part
with its ``method`` parameter, while Apple Mail and others open the ``.ics`` attachment. A
client that understands neither shows the HTML. Both parts carry the same bytes, so they
describe one calendar entry (same UID and SEQUENCE), never two.
"""

from __future__ import annotations

import base64
import email.message
import email.utils
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from services.email.domain import MARKETING_KINDS, Kind
from shared import config
from shared.request_text import as_one_line

SUBJECTS = {
    Kind.WELCOME: "Welcome to Preceptor",
    Kind.INVITATION: "You're invited to Preceptor",
    Kind.PASSWORD_RESET: "Reset your Preceptor password",
    Kind.CONFIRM_SUBSCRIPTION: "Confirm your Preceptor subscription",
    Kind.SUBSCRIBED: "You're subscribed to Preceptor updates",
    Kind.ENROLLMENT_RECEIPT: "Your receipt for {course_title}",
    Kind.COURSE_WELCOME: "Welcome to {course_title}",
    Kind.SEAT_HOLD_EXPIRED: "Your seat hold for {course_title} expired",
    Kind.WAITLIST_OFFER: "A seat opened up in {course_title}",
    Kind.REFUND_CONFIRMATION: "Your refund for {course_title}",
    Kind.ACCESS_EXPIRING: "Your access to {course_title} ends on {access_ends_on}",
    Kind.ENROLLMENT_DEFERRED: "Your {course_title} seat moved to a new cycle",
    Kind.CONSULTATION_BOOKED_STUDENT: "Your initial consultation with {tutor_name} is booked",
    Kind.CONSULTATION_BOOKED_TUTOR: "New consultation: {student_name}",
    Kind.CONSULTATION_CANCELLED_STUDENT: "Your consultation with {tutor_name} is cancelled",
    Kind.CONSULTATION_CANCELLED_TUTOR: "Consultation cancelled: {student_name}",
    Kind.CONSULTATION_COMPLETED: "Thanks for your consultation",
    Kind.STUDY_PLAN_PUBLISHED: "Your study plan is ready",
    Kind.PACKAGE_RECEIPT: "Your receipt: {hours_label} of tutoring with {tutor_name}",
    Kind.SESSION_BOOKED_STUDENT: "Your tutoring session with {tutor_name} {change}",
    Kind.SESSION_BOOKED_TUTOR: "Session {change}: {student_name}",
    Kind.SESSION_CANCELLED_STUDENT: "Your tutoring session with {tutor_name} is cancelled",
    Kind.SESSION_CANCELLED_TUTOR: "Session cancelled: {student_name}",
    Kind.SESSION_LESSON_NOTE: "Your lesson note from {tutor_name}",
    Kind.SESSION_REMINDER_STUDENT: "Your session is tomorrow at {start_time}",
    Kind.SESSION_REMINDER_TUTOR: "Your session with {student_name} is tomorrow at {start_time}",
    Kind.TESTIMONIAL_REQUEST: "How was {program_label}? Tell us in a few lines",
    Kind.TESTIMONIAL_THANKS: "Thank you: your story is on our wall",
}
"""Subjects may name values of the email's context, e.g. ``{course_title}``."""

ZERO_DECIMAL_CURRENCIES = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV"}
    | {"XAF", "XOF", "XPF"}
)
"""Currencies whose minor unit is the major unit (Stripe's list), so 500 JPY is ¥500."""

_templates = Environment(
    loader=PackageLoader("services.email", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class Attachment:
    """A file sent with an email, kept with its delivery so a restarted loop can still send it."""

    filename: str
    content_type: str
    """The full MIME type with parameters, e.g. ``text/calendar; charset=utf-8; method=REQUEST``."""
    content: bytes

    def as_json(self) -> dict[str, str]:
        return {
            "filename": self.filename,
            "content_type": self.content_type,
            "content": base64.b64encode(self.content).decode("ascii"),
        }

    @classmethod
    def from_json(cls, data: dict[str, str]) -> Attachment:
        return cls(data["filename"], data["content_type"], base64.b64decode(data["content"]))

    @property
    def is_calendar(self) -> bool:
        return _content_type(self.content_type)[0] == "text/calendar"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    headers: dict[str, str] = field(default_factory=dict)
    attachments: tuple[Attachment, ...] = ()

    def headers_json(self) -> str:
        return json.dumps(self.headers)

    def attachments_json(self) -> str:
        return json.dumps([a.as_json() for a in self.attachments])


def attachments_from_json(stored: str | None) -> list[Attachment]:
    return [Attachment.from_json(item) for item in json.loads(stored or "[]")]


def links() -> dict[str, str]:
    return {"public_url": config.public_url()}


def unsubscribe_headers(unsubscribe_url: str) -> dict[str, str]:
    """RFC 8058 headers: a POST to the https URL unsubscribes without any further step."""
    _, sender = email.utils.parseaddr(config.smtp_settings().mail_from)
    return {
        "List-Unsubscribe": f"<{unsubscribe_url}>, <mailto:{sender}?subject=unsubscribe>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def format_money(amount_minor: int, currency: str) -> str:
    """Money travels as integer minor units; people read ``$1,499.00`` or ``1,299.00 EUR``.

    Only dollars get a symbol: ``$`` alone is ambiguous for other currencies, the code is not.
    """
    code = currency.upper()
    places = 0 if code in ZERO_DECIMAL_CURRENCIES else 2
    amount = f"{Decimal(amount_minor).scaleb(-places):,.{places}f}"
    return f"${amount}" if code == "USD" else f"{amount} {code}"


def render(
    kind: Kind, context: dict[str, Any], attachments: tuple[Attachment, ...] = ()
) -> Rendered:
    subject = SUBJECTS[kind].format_map(context)
    values = {**links(), **context, "subject": subject}
    text = _templates.get_template(f"{kind.value}.txt").render(values)
    html = _templates.get_template(f"{kind.value}.html").render(values)
    headers = {}
    if kind in MARKETING_KINDS:
        headers = unsubscribe_headers(context["unsubscribe_url"])
    return Rendered(subject, text, html, headers, attachments)


def message_id(delivery_id: str) -> str:
    """Stable per delivery, so a retried send is recognisably the same email."""
    _, sender = email.utils.parseaddr(config.smtp_settings().mail_from)
    domain = sender.rpartition("@")[2] or "preceptor.localhost"
    return f"<{delivery_id}@{domain}>"


def build_message(
    *,
    delivery_id: str,
    to: str,
    subject: str,
    text: str,
    html: str,
    headers: dict[str, str],
    mail_from: str,
    attachments: list[Attachment] | tuple[Attachment, ...] = (),
) -> email.message.EmailMessage:
    msg = email.message.EmailMessage()
    msg["From"] = mail_from
    msg["To"] = as_one_line(to)
    msg["Subject"] = as_one_line(subject)
    msg["Date"] = email.utils.formatdate(localtime=False)
    msg["Message-ID"] = message_id(delivery_id)
    for name, value in headers.items():
        msg[name] = as_one_line(value)
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    for attachment in attachments:
        if attachment.is_calendar:
            _, params = _content_type(attachment.content_type)
            msg.add_alternative(
                attachment.content.decode("utf-8"), subtype="calendar", params=params
            )
    for attachment in attachments:
        mime, params = _content_type(attachment.content_type)
        maintype, _, subtype = mime.partition("/")
        msg.add_attachment(
            attachment.content,
            maintype=maintype,
            subtype=subtype,
            filename=attachment.filename,
            params=params,
        )
    return msg


def _content_type(value: str) -> tuple[str, dict[str, str]]:
    """``text/calendar; charset=utf-8; method=REQUEST`` → the type and its parameters."""
    header = email.message.EmailMessage()
    header["Content-Type"] = value
    params = {k: v for k, v in header.get_params()[1:]}
    return header.get_content_type(), params
