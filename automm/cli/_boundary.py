"""The CLI boundary: what escapes a command becomes one error line when it is the user's
(an :class:`OSError` naming a path, a dependency that cannot load, a hostile input)."""

from __future__ import annotations

import os
import sys


def path_error_message(exc: BaseException) -> str | None:
    """``PATH: reason`` for an :class:`OSError` that names a path (else None)."""
    if not isinstance(exc, OSError) or exc.filename is None:
        return None
    reason = exc.strerror or type(exc).__name__
    other = f" -> {exc.filename2}" if exc.filename2 is not None else ""
    return f"{exc.filename}{other}: {reason}"


def boundary_message(exc: BaseException) -> str | None:
    """The one line for an exception that escaped a command, or None for a programming error
    (which keeps its traceback)."""
    if isinstance(exc, BrokenPipeError) and exc.filename is None:
        _silence_stdout()
        return "standard output was closed before everything was written (broken pipe)"
    if isinstance(exc, RecursionError | MemoryError):
        return f"input too large or too deeply nested ({type(exc).__name__})"
    from automm.diagnostics import dependency_message

    return dependency_message(exc) or path_error_message(exc)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so flushing it at exit does not fail again on the closed pipe
    (Python would print an "Exception ignored" note after the error line)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (a test runner's buffer)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)
