"""Escaping of text from user files (arch.json, metrics, paths) for generated Markdown."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

_SPECIAL = re.compile(r"([\\`*\[\]|~!]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")
"""Markdown punctuation that can start emphasis, code, links, images or table cells mid-line
(newlines are removed, so line-start syntax such as headings cannot occur)."""
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def escape(text: object, limit: int = 500) -> str:
    """``text`` as inert inline Markdown: one line (control characters become spaces), HTML
    and Markdown punctuation escaped (no heading, link, image, table cell or ``<script>`` can
    be injected), cut to ``limit`` characters."""
    s = "".join(ch if ch.isprintable() else " " for ch in str(text))
    if len(s) > limit:
        s = s[:limit] + "..."
    s = "".join(_HTML.get(ch, ch) for ch in s)
    return _SPECIAL.sub(r"\\\1", s)


def join_and(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return " and ".join([", ".join(items[:-1]), items[-1]] if len(items) > 1 else items)


def table(head: Sequence[Any], rows: Iterable[Sequence[Any]]) -> list[str]:
    """The lines of a Markdown table: the ``head`` row, the separator, then ``rows`` (every cell as
    :func:`table_cell` text)."""
    return [table_row(head), table_row(["---"] * len(head)), *(table_row(row) for row in rows)]


def table_row(cells: Sequence[Any]) -> str:
    """A Markdown table row of ``cells`` (as :func:`table_cell` text)."""
    return "| " + " | ".join(table_cell(c) for c in cells) + " |"


def table_cell(value: Any) -> str:
    """``value`` as escaped Markdown text (:func:`escape`), never JSON."""
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10_000:
        return f"{value:,}"
    if isinstance(value, Mapping):
        return ", ".join(f"{escape(k)}={table_cell(v)}" for k, v in value.items()) or "none"
    if isinstance(value, list | tuple):
        plain = all(isinstance(v, str | int | float) for v in value)
        return ("," if plain else "; ").join(table_cell(v) for v in value) or "none"
    return escape(value)
