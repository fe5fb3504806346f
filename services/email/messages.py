"""Rendering emails from the Jinja templates, and building the MIME message that is sent.

Every email is multipart/alternative (plain text first, then HTML). Marketing kinds and the
opt-out kinds (the weekly progress digests) carry one-click unsubscribe per RFC 8058: the
https URL first in ``List-Unsubscribe``, then a mailto, and ``List-Unsubscribe-Post:
List-Unsubscribe=One-Click``.

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
import binascii
import email.message
import email.utils
import json
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from email.header import Header
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from services.email.domain import MARKETING_KINDS, OPT_OUT_KINDS, Kind
from shared import config
from shared.request_text import as_one_line

SUBJECTS = {
    Kind.WELCOME: "Welcome to Preceptor",
    Kind.INVITATION: "You're invited to Preceptor",
    Kind.PASSWORD_RESET: "Reset your Preceptor password",
    Kind.REGISTRATION_ATTEMPTED: "You already have a Preceptor account",
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
    Kind.PROGRESS_DIGEST: "Your study week: {headline}",
    Kind.TUTOR_PROGRESS_DIGEST: "Your students' study week, {week_start} to {week_end}",
    Kind.RESULT_MISSING: "How did your practice test on {checkpoint_day} go?",
    Kind.REVISION_PROPOSED_STUDENT: "A {proposal_name} of your study plan is proposed",
    Kind.REVISION_PROPOSED_TUTOR: "{student_name}'s study plan: a {proposal_name} to review",
    Kind.READINESS_WARNING_STUDENT: "Your {exam} on {exam_date}: let's look at your options",
    Kind.READINESS_WARNING_TUTOR: "Readiness warning: {student_name}, {exam} on {exam_date}",
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
    # The templates ship with the code and change only with a deploy: checking each file's
    # modification time on every email was a system call per template per email.
    auto_reload=False,
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
    if kind in MARKETING_KINDS or kind in OPT_OUT_KINDS:
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
    msg["From"] = as_one_line(mail_from)
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


def wire_message(
    *,
    message_id: str,
    to: str,
    subject: str,
    text: str,
    html: str,
    headers: dict[str, str],
    mail_from: str,
    boundary: str | None = None,
) -> bytes:
    """The email ``build_message`` makes without attachments, straight to the bytes SMTP
    carries (CRLF line ends, before dot-stuffing): about fifty times faster, because the
    ``email`` package parses and folds every header again for each message, and on a burst of
    receipts that was most of the delivery loop's time (docs/benchmarks.md).

    The shape is multipart/alternative, plain text then HTML, both UTF-8 and quoted-printable:
    no line is longer than 76 characters, and ``=`` in the text is ``=3D``, which is why the
    boundary (``==preceptor-...==``) can never appear in a part. Header values are put on one
    line (no header injection) and RFC 2047-encoded when they are not plain ASCII.
    """
    boundary = (boundary or f"==preceptor-{uuid.uuid4().hex}==").encode()
    lines = [
        _from_header(mail_from),
        b"To: " + _header(to),
        b"Subject: " + _header(subject),
        f"Date: {email.utils.formatdate(localtime=False)}".encode(),
        f"Message-ID: {message_id}".encode(),
        *(name.encode() + b": " + _header(value) for name, value in headers.items()),
        b"MIME-Version: 1.0",
        b'Content-Type: multipart/alternative; boundary="' + boundary + b'"',
        b"",
        b"--" + boundary,
        *_text_part("plain", text),
        b"--" + boundary,
        *_text_part("html", html),
        b"--" + boundary + b"--",
        b"",
    ]
    return b"\r\n".join(lines)


def needs_smtputf8(*addresses: str) -> bool:
    """An address outside ASCII can only be sent with SMTPUTF8, which ``smtplib``'s
    ``send_message`` negotiates: such emails take the ``build_message`` path."""
    return not all(address.isascii() for address in addresses)


@cache
def _from_header(mail_from: str) -> bytes:
    """The From line as the ``email`` package writes it (the sender is the same every time)."""
    head = email.message.EmailMessage()
    head["From"] = as_one_line(mail_from)
    return head.as_bytes(policy=head.policy.clone(linesep="\r\n")).split(b"\r\n\r\n")[0]


def _header(value: str) -> bytes:
    """A header value on the wire: one line whatever the text holds (no header injection)."""
    value = as_one_line(value)
    if value.isascii() and len(value) < 900:
        return value.encode()
    return Header(value, "utf-8").encode(linesep="\r\n").encode("ascii")


def _text_part(subtype: str, content: str) -> list[bytes]:
    if not content.endswith("\n"):
        content += "\n"
    return [
        f'Content-Type: text/{subtype}; charset="utf-8"'.encode(),
        b"Content-Transfer-Encoding: quoted-printable",
        b"",
        # Ends in a line break of its own: the CRLF before the next boundary belongs to the
        # boundary (RFC 2046), so the text keeps its last newline, as build_message's does.
        binascii.b2a_qp(content.encode("utf-8"), istext=True).replace(b"\n", b"\r\n"),
    ]


def _content_type(value: str) -> tuple[str, dict[str, str]]:
    """``text/calendar; charset=utf-8; method=REQUEST`` → the type and its parameters."""
    header = email.message.EmailMessage()
    header["Content-Type"] = value
    params = {k: v for k, v in header.get_params()[1:]}
    return header.get_content_type(), params
