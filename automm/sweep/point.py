"""One point of a sweep: a normal search followed by a normal evaluation, in its own run
directory, through :mod:`automm.api` (new) or :func:`automm.run.search.resume` and
``evaluate(resume=True)`` (interrupted). Runs in a worker process or a Ray trial; never raises:
a failure becomes the point's failed row."""

from __future__ import annotations

import os
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automm.errors import AutommError
from automm.sweep.results import EVAL, failed_row, finished_row, point_dir

if TYPE_CHECKING:
    from automm.loggers import Loggers


@dataclass(frozen=True)
class PointSpec:
    """Everything a worker needs to run one point (picklable, paths absolute)."""

    key: str
    values: dict[str, Any]
    sweep_dir: str
    data: str
    strategy: str
    space: str
    options: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    search: dict[str, Any] = field(default_factory=dict)
    """Fields of :class:`automm.train.SearchSettings`."""
    evaluate: dict[str, Any] = field(default_factory=dict)
    """Fields of :class:`automm.train.RetrainSettings`."""
    verify: bool = True
    threads: int = 1
    loggers: tuple[str, ...] = ()
    """Names of the loggers following the point's search and evaluation (``--logger``)."""

    @property
    def run_dir(self) -> Path:
        """The point's run directory."""
        return point_dir(self.sweep_dir, self.key)


_OPENED: dict[Path, Any] = {}
"""The feature caches this process opened, kept for its next points
(:func:`automm.data.cache.reusing_opened`)."""


def run_point(spec: PointSpec) -> dict[str, Any]:
    """Search and evaluate ``spec`` (or continue it) and return its row. A process may run many
    points: each starts from the same process-wide torch state as in a fresh process, and the
    feature cache is opened (and verified) once."""
    try:
        from automm.data.cache import reusing_opened

        _reset_torch(spec)
        with reusing_opened(_OPENED):
            _search(spec)
            _evaluate(spec)
        row = finished_row(spec.sweep_dir, spec.key, spec.values)
        if row is None:
            raise AutommError(f"{spec.run_dir}: finished without arch.json and eval/metrics.json")
        return row
    except Exception as exc:  # a failed point is a row, the sweep goes on
        return failed_row(spec.key, spec.values, error_line(exc))


def _reset_torch(spec: PointSpec) -> None:
    """The torch state a point may find changed by the points before it in this process: the
    thread count, and torch.compile's caches (a process that compiled a network for every
    point would reach its recompile limit and fall back to eager mode). The random generators
    are seeded by the search and the evaluation themselves."""
    import torch

    torch.set_num_threads(spec.threads)
    if "torch._dynamo" in sys.modules:
        torch._dynamo.reset()


def error_line(exc: BaseException) -> str:
    """An exception as one line: the message of an expected error, else the type, message and
    the innermost frame (where it was raised)."""
    if isinstance(exc, AutommError):
        return str(exc)
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {os.path.basename(frames[-1].filename)}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


def _loggers(spec: PointSpec, job: str, out: Path) -> Loggers:
    """The point's loggers for ``job``: one tracker run per point and job, named by its key."""
    from automm.loggers import LoggerContext, open_loggers

    return open_loggers(spec.loggers, LoggerContext(job, out, spec.key, Path(spec.sweep_dir)))


def _search(spec: PointSpec) -> None:
    from automm import api
    from automm.locking import owned
    from automm.run import search as search_run
    from automm.run.layout import ARCH, CHECKPOINT

    run = spec.run_dir
    with owned(run):
        if (run / ARCH).is_file():
            return
        if (run / CHECKPOINT).is_file():
            search_run.resume(run, device=spec.search.get("device"), progress=False,
                              loggers=_loggers(spec, "search", run))
        else:
            api.search(spec.data, out=run, strategy=spec.strategy, space=spec.space, config=spec.config,
                       options=spec.options, verify=spec.verify, progress=False,
                       loggers=_loggers(spec, "search", run), **spec.search)


def _evaluate(spec: PointSpec) -> None:
    from automm import api
    from automm.run.layout import CHECKPOINT

    out = spec.run_dir / EVAL
    if (out / "metrics.json").is_file():
        return
    api.evaluate(spec.run_dir / "arch.json", out=out, verify=spec.verify, progress=False,
                 resume=(out / CHECKPOINT).is_file(), loggers=_loggers(spec, "evaluate", out),
                 **spec.evaluate)
