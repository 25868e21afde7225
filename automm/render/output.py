"""Writing Graphviz drawings to files: DOT source without Graphviz, other formats through ``dot``."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import graphviz

from automm.errors import DotNotFoundError, RenderError
from automm.fileio import atomic_path

FORMATS = ("svg", "png", "pdf", "dot")
"""Output formats of :func:`write_graph`."""

PNG_DPI = 300
"""Resolution of PNG drawings (print quality; SVG and PDF are vector and keep Graphviz's size)."""

SUFFIX_FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}


def format_for(path: str | os.PathLike[str]) -> str:
    """The output format named by the suffix of ``path``."""
    suffix = Path(path).suffix.lower()
    try:
        return SUFFIX_FORMATS[suffix]
    except KeyError:
        raise RenderError(f"{path}: cannot tell the format from the suffix {suffix or '(none)'!r}; "
                          f"use one of {', '.join(SUFFIX_FORMATS)} or give --format") from None


def architecture_file(arch_json: str | os.PathLike[str], fmt: str = "svg") -> Path:
    """The drawing of ``arch_json`` in ``fmt``: beside it, same name (``RUN/arch.json`` ->
    ``RUN/arch.svg``). ``automm render`` and ``automm report`` both draw the architecture there."""
    return Path(arch_json).with_suffix(f".{fmt}")


STDOUT = Path("-")
"""``out`` that means standard output (``automm render ARCH -o - --format svg``)."""


def write_graph(graph: graphviz.Digraph, out: str | os.PathLike[str], fmt: str | None = None) -> Path:
    """Write ``graph`` to ``out`` atomically as ``fmt`` (default: from the suffix of ``out``;
    svg for :data:`STDOUT`).

    PNGs are drawn at :data:`PNG_DPI`. ``dot`` needs no Graphviz binary. For the other formats,
    when the ``dot`` executable is missing, the DOT source is written beside ``out`` (suffix
    ``.dot``) and :class:`~automm.errors.DotNotFoundError` says so; any other failure of ``dot``
    (an error, a signal, a broken pipe) is a :class:`~automm.errors.RenderError` and writes nothing.
    """
    path = Path(out)
    fmt = fmt or ("svg" if path == STDOUT else format_for(path))
    if fmt not in FORMATS:
        raise RenderError(f"{path}: unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    if fmt == "dot":
        _write(path, graph.source.encode("utf-8"))
        return path
    try:
        data = _png(graph) if fmt == "png" else graph.pipe(format=fmt, quiet=True)
    except graphviz.ExecutableNotFound:
        if path == STDOUT:
            raise DotNotFoundError("the Graphviz 'dot' executable was not found (install graphviz, "
                                   "or use --format dot)") from None
        fallback = path.with_suffix(".dot")
        _write(fallback, graph.source.encode("utf-8"))
        raise DotNotFoundError(f"{path}: the Graphviz 'dot' executable was not found (install graphviz); "
                               f"wrote {fallback} instead") from None
    except graphviz.CalledProcessError as exc:
        raise RenderError(f"{path}: dot failed: {_dot_failure(exc)}") from None
    except OSError as exc:  # dot exited before reading its input (BrokenPipeError), cannot start
        raise RenderError(f"{path}: dot failed: {exc.strerror or exc}") from None
    _write(path, data)
    return path


def _dot_failure(exc: graphviz.CalledProcessError) -> str:
    """The last line ``dot`` wrote to stderr, else how it ended (an exit status or a signal)."""
    stderr = exc.stderr or b""
    text = stderr.decode(errors="replace") if isinstance(stderr, bytes) else str(stderr)
    lines = text.strip().splitlines()
    if lines:
        return lines[-1]
    return f"killed by signal {-exc.returncode}" if exc.returncode < 0 else f"exit status {exc.returncode}"


def _png(graph: graphviz.Digraph) -> bytes:
    """``graph`` as a PNG of :data:`PNG_DPI`, recorded in its pHYs chunk (Graphviz writes none)."""
    from PIL import Image  # a dependency of matplotlib

    hires = graph.copy()
    hires.attr(dpi=str(PNG_DPI))
    out = io.BytesIO()
    drawn = hires.pipe(format="png", quiet=True)
    Image.open(io.BytesIO(drawn)).save(out, format="png", dpi=(PNG_DPI, PNG_DPI))
    return out.getvalue()


def _write(path: Path, data: bytes) -> None:
    if path == STDOUT:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    if path.is_dir():
        raise RenderError(f"{path}: cannot write: is a directory")
    try:
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
    except OSError as exc:
        raise RenderError(f"{path}: cannot write: {exc.strerror or exc}") from None
