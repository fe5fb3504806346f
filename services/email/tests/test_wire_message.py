"""The wire bytes of a plain email read back as the same email ``build_message`` makes."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest

from services.email.messages import build_message, message_id, wire_message

MAIL_FROM = "Preceptor Admissions <hello@preceptor.localhost>"


def both(**fields):
    built = build_message(delivery_id="d-1", mail_from=MAIL_FROM, **fields)
    wire = wire_message(message_id=message_id("d-1"), mail_from=MAIL_FROM, **fields)
    # Read back as a mailbox stores it (Unix line ends), like the SMTP sink does.
    parsed = message_from_bytes(wire.replace(b"\r\n", b"\n"), policy=policy.default)
    return built, parsed, wire


@pytest.mark.parametrize(
    ("subject", "text", "html"),
    [
        ("Your receipt for USMLE Step 1", "Paid $499.00.\n", "<p>Paid $499.00.</p>"),
        (
            "Bienvenue — Étape 1 ✓ " + "long subject words " * 10,
            "Ünïcode text, a line = with an equals sign, and\n.a line that starts with a dot\n"
            + "x" * 300,
            "<p>Ünïcode</p>\n<p>" + "y " * 200 + "</p>",
        ),
        ("No newline at the end", "last line", "<p>last</p>"),
    ],
)
def test_wire_bytes_carry_the_same_headers_and_parts_as_the_built_message(subject, text, html):
    built, parsed, wire = both(
        to="ada@example.com",
        subject=subject,
        text=text,
        html=html,
        headers={"List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    )
    for name in ("From", "To", "Subject", "Message-ID", "List-Unsubscribe-Post"):
        assert str(parsed[name]) == str(built[name])
    assert parsed.get_content_type() == "multipart/alternative"
    plain, rich = parsed.iter_parts()
    assert plain.get_content_type() == "text/plain" and rich.get_content_type() == "text/html"
    assert plain.get_content() == built.get_body(("plain",)).get_content()
    assert rich.get_content() == built.get_body(("html",)).get_content()
    assert all(len(line) <= 998 for line in wire.split(b"\r\n"))
    assert b"\n" not in wire.replace(b"\r\n", b"")  # CRLF line ends only


def test_a_header_value_with_line_breaks_stays_one_header():
    _, parsed, wire = both(
        to="ada@example.com",
        subject="Hello\r\nBcc: victim@example.com",
        text="t",
        html="<p>h</p>",
        headers={},
    )
    assert parsed["Bcc"] is None
    assert str(parsed["Subject"]) == "Hello Bcc: victim@example.com"
    assert b"\r\nBcc:" not in wire
