"""Building blocks of automm's HTML pages: one self-contained file each (figures inline as SVG, the
style and a small sorting script inlined from ``page.html``), every user string escaped."""

from __future__ import annotations

import html
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib.resources import files
from pathlib import Path
from string import Template
from typing import Any

from automm import __version__
from automm.fileio import write_text

_MD_ESCAPED = re.compile(r"\\([\\`*\[\]|~!_])")
_MD_CODE = re.compile(r"`([^`]*)`")
_MD_STRONG = re.compile(r"\*\*(.+?)\*\*")
_SVG_START = re.compile(r"<svg[\s>]")
_SVG_ID = re.compile(r'\bid="([^"]+)"')


def esc(value: Any) -> str:
    """``value`` as HTML text (``None`` as ``n/a``)."""
    return "n/a" if value is None else html.escape(str(value))


def inline_markdown(text: str) -> str:
    """HTML of one line of report.md's generated Markdown (text escaped by
    :func:`automm.report.markdown.escape`: ``&<>`` already entities): its ``**strong**``,
    ``code`` and backslash escapes; a leading ``> `` (a note) is dropped."""
    text = text.removeprefix("> ")
    parts = _MD_CODE.split(text)
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append("<code>" + _MD_ESCAPED.sub(r"\1", part) + "</code>")
        else:
            out.append(_MD_ESCAPED.sub(r"\1", _MD_STRONG.sub(r"<strong>\1</strong>", part)))
    return "".join(out).replace('"', "&quot;")


def page(title: str, body: Iterable[str]) -> str:
    """A whole page: ``title`` (plain text) and the HTML fragments of ``body``."""
    template = Template((files("automm.report") / "page.html").read_text(encoding="utf-8"))
    return template.substitute(title=esc(title), body="\n".join(body), version=esc(__version__))


def write_page(path: Path, title: str, body: Iterable[str]) -> Path:
    """Write :func:`page` to ``path`` atomically; return ``path``."""
    write_text(path, page(title, body))
    return path


def number_text(value: Any) -> str:
    """How tables show a value: 4 significant digits for floats, thousands separators for large
    ints, lists and records joined by commas."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10_000:
        return f"{value:,}"
    if isinstance(value, list | tuple):
        return ", ".join(number_text(v) for v in value) or "none"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={number_text(v)}" for k, v in value.items()) or "none"
    return "n/a" if value is None else str(value)


def cell(value: Any, tag: str = "td") -> str:
    """A table cell of ``value``: numbers right-aligned with their exact value in ``data-sort``
    (what the sorting script orders by); a ``Markup`` value is inserted as it is."""
    if isinstance(value, Markup):
        return f"<{tag}>{value}</{tag}>"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f'<{tag} class="num" data-sort="{value!r}">{esc(number_text(value))}</{tag}>'
    if value is None:
        return f'<{tag} class="num" data-sort="">n/a</{tag}>'
    return f"<{tag}>{esc(number_text(value))}</{tag}>"


class Markup(str):
    """HTML that :func:`cell` inserts without escaping (links, formatted numbers)."""


def link(href: str, text: Any) -> Markup:
    """A link to the relative path ``href``."""
    return Markup(f'<a href="{html.escape(href, quote=True)}">{esc(text)}</a>')


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, sortable: bool = False,
          table_id: str | None = None) -> str:
    """A table; ``sortable`` ones sort by a column when its header is clicked."""
    attrs = (' class="sortable"' if sortable else "") + (f' id="{esc(table_id)}"' if table_id else "")
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "\n".join("<tr>" + "".join(cell(v) for v in row) + "</tr>" for row in rows)
    return f"<table{attrs}><thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody></table>"


def svg_markup(svg: str, prefix: str) -> str:
    """An SVG document as markup to inline in a page: from its ``<svg`` element on (no XML
    prolog or doctype), every ``id`` and reference to it prefixed with ``prefix`` so that the
    figures of one page cannot clash."""
    start = _SVG_START.search(svg)
    if start is None:
        raise ValueError("not an SVG document")
    svg = svg[start.start():]
    ids = set(_SVG_ID.findall(svg))
    if ids:
        names = "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True))
        svg = re.sub(rf'\bid="({names})"', rf'id="{prefix}\1"', svg)
        svg = re.sub(rf'#({names})(?=[")])', rf"#{prefix}\1", svg)
    return svg


def drawn_svg(draw: Callable[[Path], Any], name: str = "figure.svg") -> str | None:
    """The SVG that ``draw(path)`` (a figure function of :mod:`automm.report.figures`) writes to
    a temporary path named ``name``; None when it writes nothing there (nothing to draw)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        draw(path)
        return path.read_text(encoding="utf-8") if path.is_file() else None


def figure(svg: str | None, prefix: str, caption: str = "", figure_id: str | None = None) -> str:
    """A ``<figure>`` holding the inline SVG ``svg`` and an optional caption (HTML); "" without ``svg``."""
    if svg is None:
        return ""
    attrs = f' id="{esc(figure_id)}"' if figure_id else ""
    caption = f"<figcaption>{caption}</figcaption>" if caption else ""
    return f'<figure class="plot"{attrs}>{svg_markup(svg, prefix)}{caption}</figure>'


def relative(path: Path, start: Path) -> str:
    """``path`` relative to the directory ``start``, with ``/`` separators (a link's href)."""
    return Path(os.path.relpath(path, start)).as_posix()

