"""SIGKILL at a write point: ``python crash.py N automm ARGS...`` runs ``automm ARGS`` and kills
itself just before its Nth write point, or runs to the end when it makes fewer (exit as usual).

A write point is a call of :func:`os.replace`: every file and directory automm writes is
committed through it (:func:`automm.fileio.atomic_path`, cache and evaluation replacements,
extraction's partial results), so a kill before each one, and a run to the end, cover every
state a killed process can leave (a half-written temporary file is one not yet renamed).
:func:`crash_matrix` drives it for the tests.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any


def crash_matrix(args: Sequence[Any], *, setup: Callable[[], Any] = lambda: None, limit: int = 100
                 ) -> Iterator[int]:
    """Run ``automm ARGS`` killed at write point 1, 2, ... in turn (each after ``setup()``), yielding
    each N after the kill (the caller checks and repairs the state, e.g. by resuming, and cleans
    up); stop when a run completes (after asserting it exited 0)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for n in range(1, limit + 1):
        setup()
        proc = subprocess.run([sys.executable, __file__, str(n), *map(str, args)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=600)
        if proc.returncode != -signal.SIGKILL:
            assert proc.returncode == 0, f"write point {n}: {proc.stderr}"
            assert n > 1, "no write point was reached"
            return
        yield n
    raise AssertionError(f"more than {limit} write points")


def _kill_before(n: int) -> Callable[..., None]:
    real, count = os.replace, 0

    def replace(*args: Any, **kwargs: Any) -> None:
        nonlocal count
        count += 1
        if count == n:
            os.kill(os.getpid(), signal.SIGKILL)
        real(*args, **kwargs)

    return replace


if __name__ == "__main__":
    os.replace = _kill_before(int(sys.argv[1]))
    from automm.cli import main

    main(sys.argv[2:])
