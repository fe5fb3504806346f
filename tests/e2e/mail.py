"""Reading what the suite mailed: links and headers out of messages in the SMTP server."""

from __future__ import annotations

import re
from email.message import EmailMessage

from shared.testing.fixtures import wait_for


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",)) if message.is_multipart() else message
    return part.get_content()


def html_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def wait_for_mail(smtp, to: str, subject_contains: str, timeout: float = 20.0) -> EmailMessage:
    def find():
        for message in smtp.messages():
            if (
                to.lower() in str(message["To"]).lower()
                and subject_contains.lower() in str(message["Subject"]).lower()
            ):
                return message
        return None

    return wait_for(find, timeout=timeout, message=f"an email to {to} about {subject_contains!r}")


def mails_to(smtp, to: str) -> list[EmailMessage]:
    return [m for m in smtp.messages() if to.lower() in str(m["To"]).lower()]


def link(message: EmailMessage, path_fragment: str) -> str:
    found = re.findall(r"https?://[^\s\"'<>]+", text_of(message))
    for url in found:
        if path_fragment in url:
            return url
    raise AssertionError(f"no link containing {path_fragment!r} in: {found}")


def one_click_url(message: EmailMessage) -> str:
    header = str(message["List-Unsubscribe"])
    urls = re.findall(r"<(https?://[^>]+)>", header)
    assert urls, f"no http(s) URL in List-Unsubscribe: {header!r}"
    return urls[0]
