"""``{% skippable "courses", course %}...{% endskippable %}``: one item of a listing that
cannot be rendered is left out (and logged), never a 500 for the whole page.

A listing (the catalogue, the tutors, the wall, an admin table) is one page for many people:
an item a service answered but the page cannot render (a missing field, a value of an
unexpected kind) must not take it down. The block renders its body in the loop's own scope,
so a template keeps its shape: the loop body is only wrapped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.parser import Parser
from markupsafe import Markup

from shared.listing import build_each


class SkippableExtension(Extension):
    tags = {"skippable"}

    def parse(self, parser: Parser) -> nodes.Node:
        lineno = next(parser.stream).lineno
        what = parser.parse_expression()
        parser.stream.expect("comma")
        item = parser.parse_expression()
        body = parser.parse_statements(("name:endskippable",), drop_needle=True)
        call = self.call_method("_render", [what, item])
        return nodes.CallBlock(call, [], [], body).set_lineno(lineno)

    @staticmethod
    def _render(what: str, item: Any, caller: Callable[[], str]) -> Markup:
        """The block's body for this item, or nothing (logged) if it cannot be rendered."""
        name = (item.get("slug") or item.get("id")) if isinstance(item, dict) else None
        rendered = build_each([caller], lambda render: render(), what=what, name=lambda _: name)
        return Markup("".join(rendered))
