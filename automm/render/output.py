"""Writing Graphviz drawings to files: DOT source without Graphviz, other formats through ``dot``."""

from __future__ import annotations

import os
from pathlib import Path

import graphviz

from automm.errors import DotNotFoundError, RenderError
from automm.fileio import atomic_path

FORMATS = ("svg", "png", "pdf", "dot")
"""Output formats of :func:`write_graph`."""

SUFFIX_FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}


def format_for(path: str | os.PathLike[str]) -> str:
    """The output format named by the suffix of ``path``."""
    suffix = Path(path).suffix.lower()
    try:
        return SUFFIX_FORMATS[suffix]
    except KeyError:
        raise RenderError(f"{path}: cannot tell the format from the suffix {suffix or '(none)'!r}; "
                          f"use one of {', '.join(SUFFIX_FORMATS)} or give --format") from None


def write_graph(graph: graphviz.Digraph, out: str | os.PathLike[str], fmt: str | None = None) -> Path:
    """Write ``graph`` to ``out`` atomically as ``fmt`` (default: from the suffix of ``out``).

    ``dot`` needs no Graphviz binary. For the other formats, when the ``dot`` executable is
    missing, the DOT source is written beside ``out`` (suffix ``.dot``) and
    :class:`~automm.errors.DotNotFoundError` says so.
    """
    path = Path(out)
    fmt = fmt or format_for(path)
    if fmt not in FORMATS:
        raise RenderError(f"{path}: unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    if fmt == "dot":
        _write(path, graph.source.encode("utf-8"))
        return path
    try:
        data = graph.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        fallback = path.with_suffix(".dot")
        _write(fallback, graph.source.encode("utf-8"))
        raise DotNotFoundError(f"{path}: the Graphviz 'dot' executable was not found (install graphviz); "
                               f"wrote {fallback} instead") from None
    except graphviz.CalledProcessError as exc:
        stderr = exc.stderr or b""
        text = stderr.decode(errors="replace") if isinstance(stderr, bytes) else str(stderr)
        lines = text.strip().splitlines()
        detail = lines[-1] if lines else f"exit status {exc.returncode}"
        raise RenderError(f"{path}: dot failed: {detail}") from None
    _write(path, data)
    return path


def _write(path: Path, data: bytes) -> None:
    if path.is_dir():
        raise RenderError(f"{path}: cannot write: is a directory")
    try:
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
    except OSError as exc:
        raise RenderError(f"{path}: cannot write: {exc.strerror or exc}") from None
