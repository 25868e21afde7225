"""Stopping on Ctrl-C (SIGINT) or SIGTERM (what SLURM and Kubernetes send) at a safe point.

While the handlers are installed (:func:`handling`, or :func:`handled` around the long
commands: search, evaluate, sweep, extract, demo-data), the first signal only requests a stop; long loops call
:func:`check` at their safe points (after a training step, a video, ...), which then raises
:class:`Interrupted`; what they have written so far (checkpoints, per-video results) is what
a resumed run continues from. A second signal
raises :class:`Interrupted` at once, wherever the program is (``at_once``). The command's hint
(:func:`resumable`) says how to continue; the CLI prints it in one line and exits with 128 + the signal number
(130 for SIGINT, 143 for SIGTERM). A command that finishes before reaching a safe point ends
as usual. Without the handlers (the Python API, the other commands) nothing changes: Ctrl-C
raises :class:`KeyboardInterrupt` and :func:`check` never raises.
"""

from __future__ import annotations

import functools
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

SIGNALS = (signal.SIGINT, signal.SIGTERM)

_requested: list[int] = []
"""The signal of the pending stop request (empty: none)."""
_depth: list[int] = [0]
"""How many :func:`handling` blocks are open."""


class Interrupted(KeyboardInterrupt):
    """A stop on signal ``signum``: at a safe point, or ``at_once`` on a second signal. ``hint``
    says what can be resumed and how (set by :func:`resumable`)."""

    def __init__(self, signum: int, at_once: bool = False) -> None:
        super().__init__(signum, at_once)
        self.signum, self.at_once = signum, at_once
        self.hint: str | None = None

    @property
    def exit_code(self) -> int:
        """128 + the signal number, as a shell reports a process killed by it."""
        return 128 + self.signum

    def line(self) -> str:
        """The one line the CLI prints."""
        name = signal.Signals(self.signum).name
        how = f"stopped at once on a second signal ({name})" if self.at_once else f"interrupted ({name})"
        return f"{how}; {self.hint or 'nothing to resume'}"


def _handler(signum: int, frame: FrameType | None) -> None:
    if _requested:
        raise Interrupted(signum, at_once=True)
    _requested.append(signum)


def install() -> None:
    """Handle SIGINT and SIGTERM as stop requests from now on (a no-op off the main thread,
    where handlers cannot be set)."""
    if threading.current_thread() is threading.main_thread():
        for signum in SIGNALS:
            signal.signal(signum, _handler)


@contextmanager
def handling() -> Iterator[None]:
    """Handle SIGINT and SIGTERM as stop requests inside the block (nested blocks share the
    outer one's; a no-op off the main thread); the previous handlers come back after it."""
    if _depth[0] or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.getsignal(signum) for signum in SIGNALS}
    _requested.clear()
    install()
    _depth[0] += 1
    try:
        yield
    finally:
        _depth[0] -= 1
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _requested.clear()


def handled(function: Callable[P, R]) -> Callable[P, R]:
    """``function`` run inside :func:`handling` (a decorator of the long commands)."""
    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with handling():
            return function(*args, **kwargs)

    return wrapper


def request(signum: int = signal.SIGTERM) -> None:
    """Request a stop at the next safe point, as a first signal does (e.g. from a thread that
    learnt that the parent process stops)."""
    if not _requested:
        _requested.append(signum)


def requested() -> int | None:
    """The signal of the pending stop request, or None."""
    return _requested[0] if _requested else None


def check() -> None:
    """A safe point: raise :class:`Interrupted` when a stop was requested."""
    if _requested:
        raise Interrupted(_requested[0])


@contextmanager
def resumable(hint: Callable[[], str]) -> Iterator[None]:
    """Give an :class:`Interrupted` leaving the block ``hint()``: what can be resumed and how,
    computed when the stop happens (from what is then on disk)."""
    try:
        yield
    except Interrupted as exc:
        if exc.hint is None:
            exc.hint = hint()
        raise
