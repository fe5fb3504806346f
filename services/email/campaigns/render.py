"""A campaign's Markdown rendered to HTML and plain text once, then personalised per person.

Markdown goes through markdown-it-py's CommonMark preset with raw HTML off, so anything that
looks like HTML in the body is escaped, and unsafe link schemes (``javascript:``) are refused.
Merge fields are swapped for inert placeholders before rendering and for each person's values
(HTML-escaped in the HTML part) afterwards: rendering 10,000 emails is then 10,000 string
replacements, not 10,000 Markdown parses.

Every campaign email carries RFC 8058 one-click unsubscribe headers and an unsubscribe link in
its body, both to ``PUBLIC_URL/unsubscribe/<recipient token>``.
"""

from __future__ import annotations

import email.message
import email.utils
import html as html_lib
import uuid
from dataclasses import dataclass
from functools import cache

from markdown_it import MarkdownIt
from markdown_it.token import Token

from services.email import tokens
from services.email.campaigns import domain as campaign_domain
from services.email.messages import (
    _templates,
    build_message,
    links,
    message_id,
    unsubscribe_headers,
    wire_message,
)
from shared import config

PLACEHOLDERS = {
    "first_name": "MergeFieldFirstName7c1e",
    "course": "MergeFieldCourse7c1e",
}
UNSUBSCRIBE_PLACEHOLDER = "UnsubscribeUrl7c1e"


@cache
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False})


def _with_placeholders(text: str) -> str:
    return campaign_domain.MERGE_FIELD.sub(lambda m: PLACEHOLDERS[m.group(1)], text)


def markdown_to_html(markdown: str) -> str:
    return _markdown().render(markdown)


def markdown_to_text(markdown: str) -> str:
    """Plain text a person reads as easily as the HTML: links become ``text (url)``."""
    out: list[str] = []
    lists: list[list[int]] = []  # for each open list: [next number] or [] for bullets
    for token in _markdown().parse(markdown):
        if token.type in ("bullet_list_open", "ordered_list_open"):
            start = int(token.attrGet("start") or 1)
            lists.append([start] if token.type == "ordered_list_open" else [])
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
            if not lists:
                out.append("\n")
        elif token.type == "list_item_open":
            indent = "  " * (len(lists) - 1)
            marker = "-"
            if lists[-1]:
                marker = f"{lists[-1][0]}."
                lists[-1][0] += 1
            out.append(f"{indent}{marker} ")
        elif token.type == "inline":
            out.append(_inline_text(token.children or []))
        elif token.type in ("paragraph_close", "heading_close"):
            out.append("\n" if lists else "\n\n")
        elif token.type in ("fence", "code_block"):
            out.append("".join(f"    {line}\n" for line in token.content.splitlines()) + "\n")
        elif token.type == "hr":
            out.append("----------\n\n")
    return "".join(out).strip() + "\n"


def _inline_text(children: list[Token]) -> str:
    parts: list[str] = []
    hrefs: list[tuple[str, int]] = []
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif child.type == "image":
            parts.append(child.content or str(child.attrGet("alt") or ""))
        elif child.type == "link_open":
            hrefs.append((str(child.attrGet("href") or ""), len(parts)))
        elif child.type == "link_close" and hrefs:
            href, at = hrefs.pop()
            label = "".join(parts[at:])
            if href and href != label:
                parts.append(f" ({href})")
    return "".join(parts)


@dataclass(frozen=True)
class CampaignTemplate:
    """A campaign rendered once with placeholders; ``personalise`` fills them per person."""

    subject: str
    text: str
    html: str

    def personalise(self, values: dict[str, str], unsubscribe_url: str) -> tuple[str, str, str]:
        subject, text, html = self.subject, self.text, self.html
        for name, placeholder in PLACEHOLDERS.items():
            subject = subject.replace(placeholder, values[name])
            text = text.replace(placeholder, values[name])
            html = html.replace(placeholder, html_lib.escape(values[name]))
        text = text.replace(UNSUBSCRIBE_PLACEHOLDER, unsubscribe_url)
        html = html.replace(UNSUBSCRIBE_PLACEHOLDER, html_lib.escape(unsubscribe_url))
        return subject, text, html


def template(subject: str, body_markdown: str) -> CampaignTemplate:
    body = _with_placeholders(body_markdown)
    subject_template = _with_placeholders(subject)
    values = {**links(), "unsubscribe_url": UNSUBSCRIBE_PLACEHOLDER, "subject": subject_template}
    text = _templates.get_template("campaign.txt").render(
        {**values, "body_text": markdown_to_text(body)}
    )
    html = _templates.get_template("campaign.html").render(
        {**values, "body_html": markdown_to_html(body)}
    )
    return CampaignTemplate(subject_template, text, html)


def unsubscribe_url(campaign_id: str, address: str) -> str:
    return f"{config.public_url()}/unsubscribe/{tokens.recipient_token(campaign_id, address)}"


@dataclass(frozen=True)
class Personal:
    subject: str
    text: str
    html: str
    headers: dict[str, str]


def personal(
    compiled: CampaignTemplate,
    campaign_id: str,
    address: str,
    name: str | None,
    course: str | None,
) -> Personal:
    """One person's email: their merge values and their own unsubscribe link and headers."""
    url = unsubscribe_url(campaign_id, address)
    subject, text, html = compiled.personalise(campaign_domain.merge_values(name, course), url)
    return Personal(subject, text, html, unsubscribe_headers(url))


def message_key(recipient_id: int) -> str:
    """What stands for a delivery id in a campaign email's Message-ID: ``<cr-42@domain>``."""
    return f"cr-{recipient_id}"


def recipient_id_of(message_id: str | None) -> int | None:
    """The recipient a Message-ID (from a bounce report) names, if it is a campaign email's."""
    local = (message_id or "").strip().strip("<>").partition("@")[0]
    if local.startswith("cr-") and local[3:].isdigit():
        return int(local[3:])
    return None


def build(
    compiled: CampaignTemplate,
    *,
    campaign_id: str,
    recipient_id: int,
    address: str,
    name: str | None,
    course: str | None,
    mail_from: str,
) -> email.message.EmailMessage:
    mail = personal(compiled, campaign_id, address, name, course)
    return build_message(
        delivery_id=message_key(recipient_id),
        to=address,
        subject=mail.subject,
        text=mail.text,
        html=mail.html,
        headers=mail.headers,
        mail_from=mail_from,
    )


class WireMessages:
    """Campaign emails straight to the bytes SMTP carries (``messages.wire_message``), one
    boundary for the whole campaign."""

    def __init__(self, compiled: CampaignTemplate, campaign_id: str, mail_from: str) -> None:
        self.compiled = compiled
        self.campaign_id = campaign_id
        self.mail_from = mail_from
        self.boundary = f"==preceptor-{uuid.uuid4().hex}=="
        self.message_id = message_id("{}").format
        """``<key@domain>`` for a key: the sender's domain read once, not per recipient."""

    def message(self, recipient_id: int, address: str, name: str | None, course: str | None):
        mail = personal(self.compiled, self.campaign_id, address, name, course)
        return wire_message(
            message_id=self.message_id(message_key(recipient_id)),
            to=address,
            subject=mail.subject,
            text=mail.text,
            html=mail.html,
            headers=mail.headers,
            mail_from=self.mail_from,
            boundary=self.boundary,
        )
