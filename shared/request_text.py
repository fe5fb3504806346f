"""Text a service cannot store or parse safely, refused before any endpoint sees it.

PostgreSQL refuses NUL in ``text``; a lone UTF-16 surrogate (``"\\ud800"`` is valid JSON) cannot
be encoded to UTF-8 for the database, argon2 or an email; Python's JSON parser raises
``RecursionError`` on a body like ``[[[[...]]]]``, and ``ValueError`` on an integer of more than
4,300 digits (the interpreter's guard against quadratic int conversion). Each would surface as a
500 from deep inside a use case. Checking once, at the edge, turns them into a 4xx naming the field, for every
endpoint at once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from marshmallow import ValidationError, validate

MAX_JSON_DEPTH = 32
"""Deepest nesting of arrays and objects a request body may have (the schemas need about 4)."""

NUL_MESSAGE = "Must not contain NUL characters."
SURROGATE_MESSAGE = "Must be valid Unicode text (no lone surrogate code points)."


MAX_INTEGER_DIGITS = 30
"""The most digits a JSON integer may have: every bounded field's maximum has far fewer, and
Python would refuse to convert one of more than 4,300 (as a 500)."""


class Unparseable(ValueError):
    """A JSON document that is JSON, but that no endpoint can take (answered with a 400)."""


class TooDeep(Unparseable):
    """A JSON document nested deeper than ``MAX_JSON_DEPTH``."""


class TooManyDigits(Unparseable):
    """A JSON integer longer than ``MAX_INTEGER_DIGITS``."""


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise TooManyDigits(f"has an integer of more than {MAX_INTEGER_DIGITS} digits")
    return int(text)


def load_json(raw: bytes | str) -> Any:
    """Parse a JSON body, refusing it if it nests too deeply or holds an absurdly long integer.

    Raises ``ValueError`` for anything that is not JSON (the caller lets the endpoint's own
    parser answer that) and ``Unparseable`` (``TooDeep``, ``TooManyDigits``) for a document
    no endpoint can take.
    """
    try:
        value = json.loads(raw, parse_int=_integer)
    except RecursionError as exc:
        raise TooDeep(f"is nested deeper than {MAX_JSON_DEPTH} levels") from exc
    if _depth_exceeds(value, MAX_JSON_DEPTH):
        raise TooDeep(f"is nested deeper than {MAX_JSON_DEPTH} levels")
    return value


def _depth_exceeds(value: Any, limit: int) -> bool:
    stack = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth >= limit:
                return True
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return False


def unstorable(value: Any, prefix: str = "") -> dict[str, list[str]]:
    """Fields (dotted paths, as the API's 422 names them) whose text cannot be stored."""
    errors: dict[str, list[str]] = {}
    for path, text in _strings(value, prefix):
        message = problem_with(text)
        if message:
            errors.setdefault(path or "body", []).append(message)
    return errors


def problem_with(text: str) -> str | None:
    """Why ``text`` cannot be stored, or None when it can."""
    if "\x00" in text:
        return NUL_MESSAGE
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return SURROGATE_MESSAGE
    return None


def _strings(value: Any, prefix: str) -> Iterator[tuple[str, str]]:
    stack = [(prefix, value)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, str):
            yield path, node
        elif isinstance(node, dict):
            for key, child in node.items():
                child_path = f"{path}.{key}" if path else str(key)
                yield child_path, str(key)
                stack.append((child_path, child))
        elif isinstance(node, list):
            stack.extend((f"{path}[{i}]", child) for i, child in enumerate(node))


LINE_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
"""Every character that ends a line somewhere, and every other control character: nothing a
one-line value (a name, a subject, a title) has.

That is Unicode's control characters (category Cc: C0, DEL and C1, which holds NEL, U+0085),
the line and paragraph separators (Zl, Zp: U+2028, U+2029), and so every character
``str.splitlines`` splits on (``\\n \\r \\v \\f \\x1c \\x1d \\x1e \\x85 \\u2028 \\u2029``).
Python's ``email`` package refuses a header value that ``splitlines`` would split, so one of
these in a name made every email naming that person fail; a browser or a terminal may start a
new line at any of them. ``shared/tests/test_request_text.py`` checks the class against every
code point Unicode has.
"""


class OneLine(validate.Validator):
    """Refuses line breaks and control characters: a name, a subject or a title is one line.

    Such values end up in email headers and headings, where a line break would start a new
    header (``Bcc: ...``), make the ``email`` package refuse the whole message, or break the
    layout.
    """

    error = "Must be one line of text (no line breaks or control characters)."

    def __call__(self, value: str) -> str:
        if LINE_BREAKS.search(value):
            raise ValidationError(self.error)
        return value


one_line = OneLine()


def as_one_line(text: str) -> str:
    """``text`` with every run of line breaks or control characters turned into one space.

    The last guard before a value goes into an email header, for rows stored before
    ``one_line`` refused them (or text from an event): a header can never be split into two,
    and the ``email`` package always accepts it.
    """
    return LINE_BREAKS.sub(" ", text)
