"""Fault injection for the reliability tests and ``benchmarks/reliability.py``: running the CLI
in-process under a time limit, classifying its outcome, and writing malformed user files.

An outcome is ``clean`` (non-zero exit, no traceback, the error on the last stderr line, one
line), ``traceback``, ``unclean`` (non-zero exit without a traceback, but no single error line:
nothing, or other lines such as a library's warnings), ``hang`` (over the time limit), ``wrong``
(exit 0 on a bad input) or ``accepted`` (exit 0 on an input that is merely unusual, when the
case allows it).
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from automm.fileio import write_json

CLEAN, TRACEBACK, HANG, WRONG, ACCEPTED, LOST = "clean", "traceback", "hang", "wrong", "accepted", "lost"
UNCLEAN = "unclean"


# -- where to inject --------------------------------------------------------------------

ARCH_KEYS = [(), ("format",), ("space",), ("space", "name"), ("space", "config"), ("choices",), ("metrics",),
             *(("space", "config", k) for k in ("C", "L", "cells", "steps", "ops", "image_taps", "audio_taps",
                                                 "num_classes", "tap_channels", "other")),
             ("space", "config", "tap_channels", "image/1"), ("choices", "cell/1/in/1"),
             ("strategy", "name")]
MANIFEST_KEYS = [(), ("format",), ("taps",), ("classes",), ("samples",), ("fingerprint",), ("source",),
                 ("skipped",), ("taps", "image/1"), ("taps", "image/1", "shape"), ("taps", "image/1", "file"),
                 ("taps", "image/1", "dtype"), ("samples", 0), ("samples", 3, "id"), ("samples", 5, "label"),
                 ("samples", 1, "split"), ("samples", 2, "identity"), ("classes", 1)]
CHECKPOINT_KEYS = ["epoch", "network", "optimizer", "scheduler", "rng", "best", "best_network", "history",
                   "seconds", "setup", "kind"]
OPTIONS = ["--seed", "--epochs", "--batch-size", "--entropy-tol", "--patience", "--temperature", "--C",
           "--cells"]


@dataclass(frozen=True)
class Outcome:
    """How one case ended: a kind (see the module docstring), the exit code and stderr."""

    kind: str
    exit_code: int | None
    stderr: str


class _Hang(BaseException):
    """Raised by the alarm: not an Exception, so nothing under test swallows it."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`_Hang` in the main thread after ``seconds`` (SIGALRM)."""
    def alarm(signum: int, frame: Any) -> None:
        raise _Hang()

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_cli(args: Sequence[Any], *, allow_success: bool = False, timeout: float = 30.0) -> Outcome:
    """Run ``automm ARGS`` in-process and classify the outcome."""
    from click.testing import CliRunner

    from automm.cli import cli

    try:
        with time_limit(timeout):
            result = CliRunner().invoke(cli, [str(a) for a in args])
    except _Hang:
        return Outcome(HANG, None, "")
    stderr = result.stderr
    if (result.exception is not None and not isinstance(result.exception, SystemExit)) \
            or "Traceback (most recent call last)" in result.output:
        return Outcome(TRACEBACK, result.exit_code, f"{type(result.exception).__name__}: {result.exception}")
    if result.exit_code == 0:
        return Outcome(ACCEPTED if allow_success else WRONG, 0, stderr)
    return Outcome(CLEAN if is_clean_error(stderr) else UNCLEAN, result.exit_code, stderr)


def expect_clean(args: Sequence[Any], *fragments: str, timeout: float = 30.0) -> str:
    """Run ``automm ARGS`` and raise AssertionError unless the outcome is :data:`CLEAN` with every
    fragment in stderr; return stderr."""
    outcome = run_cli(args, timeout=timeout)
    if outcome.kind != CLEAN or not all(f in outcome.stderr for f in fragments):
        raise AssertionError(f"automm {' '.join(map(str, args))}: {outcome} (wanted {fragments})")
    return outcome.stderr


def is_clean_error(stderr: str) -> bool:
    """Whether ``stderr`` ends in one error line (``automm: error: ...``, or click's usage error
    ``Error: ...`` after its usage lines) and holds no traceback."""
    lines = [line for line in stderr.splitlines() if line and not line.startswith("automm: warning:")
             and not line.startswith("automm: note:")]
    if not lines or "Traceback" in stderr:
        return False
    if lines[0].startswith("automm: error: "):
        return len(lines) == 1
    return lines[-1].startswith("Error: ") and lines[0].startswith("Usage: ")


# -- malformed files ----------------------------------------------------------------------

def make_fifo(path: Path) -> Path:
    """Replace ``path`` by a FIFO nobody writes to (a reader that opens it blocking hangs)."""
    path.unlink(missing_ok=True)
    os.mkfifo(path)
    return path


def nested_json(depth: int) -> str:
    """``[[[...]]]`` nested ``depth`` deep."""
    return "[" * depth + "]" * depth


def set_at(doc: Any, keys: Sequence[Any], value: Any) -> Any:
    """A copy of JSON ``doc`` with the item at ``keys`` set to ``value`` (``keys=()``: the whole
    document); a missing container along the way is created."""
    if not keys:
        return value
    doc = json.loads(json.dumps(doc))
    node = doc
    for key in keys[:-1]:
        node = node[key] if (isinstance(node, dict) and key in node) or isinstance(node, list) else \
            node.setdefault(key, {})
    if isinstance(node, list):
        node[keys[-1] % max(1, len(node))] = value
    else:
        node[keys[-1]] = value
    return doc


def rewrite_json(path: Path, change: Callable[[Any], Any]) -> None:
    """Replace the JSON document at ``path`` by ``change(document)``."""
    write_json(path, change(json.loads(path.read_text())))


def rewrite_tap(cache: Path, tap_file: str, change: Callable[[np.ndarray], np.ndarray]) -> None:
    """Replace a tap array of ``cache`` by ``change(array)`` (the manifest is left alone)."""
    path = cache / tap_file
    arr = np.load(path)
    np.save(path, change(arr))


def rewrite_checkpoint(path: Path, change: Callable[[dict[str, Any]], Any]) -> None:
    """Replace a checkpoint by ``change(state)`` (saved with torch.save, as automm does)."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    torch.save(change(state), path)
