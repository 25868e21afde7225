"""Loggers: experiment trackers that follow a search or an evaluation live (``--logger NAME``).

A logger is a plugin component (hook ``automm_register_loggers``): ``register(name, factory)``
with ``factory(context: LoggerContext) -> Logger``. The training loops hand every logger of the
job the same events through :class:`Loggers`: the job's settings once, then each epoch's record
(the line written to metrics.jsonl or history.jsonl) split into scalars, architecture
probabilities and the derived architecture, and finally the job's status.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from automm import plugins
from automm.errors import AutommError
from automm.ir.architecture import Architecture

FINISHED, INTERRUPTED, FAILED = "finished", "interrupted", "failed"
"""The status :meth:`Logger.finalize` receives."""
NOT_SCALARS = ("epoch", "choices", "probabilities")
"""Keys of an epoch record that :meth:`Logger.log_metrics` does not receive."""


@dataclass(frozen=True)
class LoggerContext:
    """What a logger factory is told about the job it follows."""

    job: str
    """``search`` or ``evaluate``."""
    run_dir: Path
    """The directory the job writes (the run directory of a search, ``--out`` of an evaluation)."""
    name: str
    """The run's name for trackers: the run directory's name, or a sweep point's key (its grid values)."""
    sweep_dir: Path | None = None
    """The sweep directory when the job is one point of ``automm sweep``."""


class Logger:
    """Base class of loggers: every method does nothing; a logger overrides what its tracker records.

    Steps are epochs (1-based). ``finalize`` is called once, with :data:`FINISHED`,
    :data:`INTERRUPTED` (Ctrl-C; ``--resume`` continues) or :data:`FAILED`.
    """

    def log_hyperparams(self, params: Mapping[str, Any]) -> None:
        """The job's settings, nested records flattened to ``a/b`` keys (strategy, space, data, settings)."""

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        """Every number of the epoch's record; nested records flattened, e.g. ``entropy/cell-input``."""

    def log_probabilities(self, probabilities: Mapping[str, Mapping[str, float]], step: int) -> None:
        """Search only: per choice, the probability of each candidate after the epoch."""

    def log_architecture(self, architecture: Architecture, step: int) -> None:
        """Search only: the architecture derived after the epoch."""

    def finalize(self, status: str) -> None:
        """The job ended with ``status``; flush and close."""


def flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a/b": 1}`` (lists and other values stay as they are)."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{name}/"))
        else:
            out[name] = value
    return out


def scalars(record: Mapping[str, Any]) -> dict[str, float]:
    """The numbers of an epoch record (:func:`flatten`ed; not the epoch, choices, probabilities;
    ``null`` values, booleans and text left out)."""
    flat = flatten({k: v for k, v in record.items() if k not in NOT_SCALARS})
    return {k: float(v) for k, v in flat.items() if isinstance(v, int | float) and not isinstance(v, bool)}


class Loggers:
    """The loggers of one job, called by the training loops; each event goes to every logger. A logger
    that raises is switched off with a warning: a tracker's failure never stops a search."""

    def __init__(self, loggers: Sequence[Logger] = ()) -> None:
        self.loggers = list(loggers)
        self.space: Mapping[str, Any] | None = None

    def __bool__(self) -> bool:
        return bool(self.loggers)

    @contextlib.contextmanager
    def running(self, setup: Mapping[str, Any]) -> Iterator[None]:
        """Around a job whose recorded setup is ``setup``: its hyperparameters on entry, the
        status on exit."""
        space = setup.get("space")
        self.space = space if isinstance(space, Mapping) and "name" in space else None
        self._each("log_hyperparams", flatten(setup))
        status = FAILED
        try:
            yield
            status = FINISHED
        except KeyboardInterrupt:
            status = INTERRUPTED
            raise
        finally:
            self._each("finalize", status)

    def log_epoch(self, record: Mapping[str, Any]) -> None:
        """One epoch's record, as written to metrics.jsonl or history.jsonl."""
        if not self.loggers:
            return
        step = int(record["epoch"])
        self._each("log_metrics", scalars(record), step)
        if isinstance(record.get("probabilities"), Mapping):
            self._each("log_probabilities", record["probabilities"], step)
        if self.space is not None and isinstance(record.get("choices"), Mapping):
            config = dict(self.space.get("config", {}))
            arch = Architecture(self.space["name"], config, dict(record["choices"]))
            self._each("log_architecture", arch, step)

    def log_result(self, metrics: Mapping[str, Any], step: int) -> None:
        """The job's result (arch.json's metrics, or metrics.json), as scalars under ``result/``."""
        if self.loggers:
            self._each("log_metrics", {f"result/{k}": v for k, v in scalars(metrics).items()}, step)

    def _each(self, method: str, *args: Any) -> None:
        for logger in list(self.loggers):
            try:
                getattr(logger, method)(*args)
            except Exception as exc:
                self.loggers.remove(logger)
                warnings.warn(f"logger {type(logger).__name__} failed in {method} ({type(exc).__name__}: "
                              f"{exc}); it is switched off for the rest of the run", stacklevel=2)


def check_logger_names(names: Sequence[str]) -> None:
    """Raise a one-line error for a name that is not a usable logger (before any work starts): a
    logger whose plugin is not loaded says why (e.g. ``needs automm[tensorboard]``)."""
    for name in names:
        if name not in plugins.loggers:
            if any(p.name == name for p in plugins.plugin_infos()):
                plugins.require_plugin(name, f"--logger {name}")
            plugins.loggers.get(name)  # unknown: lists the known loggers


def open_loggers(names: Sequence[str], context: LoggerContext) -> Loggers:
    """The loggers ``names`` (registered names), each made for ``context``."""
    check_logger_names(names)
    made = []
    for name in dict.fromkeys(names):
        try:
            made.append(plugins.loggers.get(name)(context))
        except AutommError:
            raise
        except Exception as exc:
            raise AutommError(f"--logger {name}: cannot start: {type(exc).__name__}: {exc}") from None
    return Loggers(made)


__all__ = ["FAILED", "FINISHED", "INTERRUPTED", "Logger", "LoggerContext", "Loggers", "check_logger_names",
           "flatten", "open_loggers", "scalars"]
