"""The one-line rule against every code point Unicode has, and the email package as judge."""

from __future__ import annotations

import email.message
import sys
import unicodedata

import pytest
from marshmallow import ValidationError

from shared.request_text import LINE_BREAKS, as_one_line, one_line

SPLITLINES = tuple(
    chr(cp) for cp in range(sys.maxunicode + 1) if len(f"a{chr(cp)}b".splitlines()) > 1
)
"""Every character ``str.splitlines`` splits on: \\n \\r \\v \\f \\x1c \\x1d \\x1e \\x85 \\u2028 \\u2029."""


def test_the_characters_that_split_a_line_are_the_ones_python_documents():
    assert set(SPLITLINES) == set("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")


def test_every_line_break_control_and_separator_of_unicode_is_refused():
    refused = {chr(cp) for cp in range(sys.maxunicode + 1) if LINE_BREAKS.search(chr(cp))}
    expected = {
        chr(cp)
        for cp in range(sys.maxunicode + 1)
        if unicodedata.category(chr(cp)) in ("Cc", "Zl", "Zp")
    } | set(SPLITLINES)
    assert refused == expected
    for character in expected:
        with pytest.raises(ValidationError):
            one_line(f"Ada{character}Lovelace")


@pytest.mark.parametrize(
    "text",
    ["Ada Lovelace", "\u202eAda\u200d Lovelace \U0001f469\u200d\U0001f52c", "e\u0301\u00a0x"],
)
def test_odd_but_one_line_text_passes(text):
    assert one_line(text) == text
    assert as_one_line(text) == text


@pytest.mark.parametrize("character", [*SPLITLINES, "\x00", "\x7f", "\x9f", "\t"])
def test_as_one_line_makes_a_header_the_email_package_accepts(character):
    name = f"Ada{character}{character}Lovelace"
    message = email.message.EmailMessage()
    if character in SPLITLINES:
        with pytest.raises(ValueError):
            message["Subject"] = f"Welcome, {name}"  # what every such email did before
    message["Subject"] = f"Welcome, {as_one_line(name)}"
    message["To"] = f"{as_one_line(name)} <ada@example.com>"
    message.set_content("Hello")
    sent = message.as_bytes()
    assert b"Subject: Welcome, Ada Lovelace" in sent
