"""Escaping of text from user files (arch.json, metrics, paths) for generated Markdown."""

from __future__ import annotations

import re

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
