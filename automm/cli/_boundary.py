"""The CLI boundary: what escapes a command becomes one error line when it is the user's
(an :class:`OSError` naming a path, a dependency that cannot load, a hostile input)."""

from __future__ import annotations


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
    if isinstance(exc, RecursionError | MemoryError):
        return f"input too large or too deeply nested ({type(exc).__name__})"
    from automm.diagnostics import dependency_message

    return dependency_message(exc) or path_error_message(exc)
