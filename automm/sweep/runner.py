"""A sweep from start to end: the points of the grid, sweep.json, the points already finished
(skipped), the rest handed to an executor, and results.jsonl/results.csv rewritten as each
point ends. Running the same sweep again continues it: finished points are skipped,
interrupted ones resume from their checkpoints, failed ones run again."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from automm.locking import owned
from automm.sweep.grid import SEED, SPACE, STRATEGY, Axis, point_key, points
from automm.sweep.point import PointSpec
from automm.sweep.results import FAILED, FORMAT, finished_row, record_sweep, write_results

Executor = Callable[[Sequence[PointSpec], Callable[[dict[str, Any]], None]], None]
"""Runs the given points and hands each row to the callback (see :mod:`automm.sweep.executors`)."""
LOCAL_ONLY = ("device",)
"""Settings that may change between runs of the same sweep."""


@dataclass(frozen=True)
class Sweep:
    """What a sweep runs: its axes (seeds last) and what every point shares."""

    out: Path
    data: str
    strategy: str
    space: str
    axes: tuple[Axis, ...]
    options: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    search: dict[str, Any] = field(default_factory=dict)
    evaluate: dict[str, Any] = field(default_factory=dict)
    verify: bool = True
    loggers: tuple[str, ...] = ()
    """Loggers of every point (not recorded: they follow the runs, they do not change them)."""

    def record(self) -> dict[str, Any]:
        """sweep.json: the axes and the shared settings (not the device)."""
        def shared(settings: dict[str, Any]) -> dict[str, Any]:
            return {k: v for k, v in settings.items() if k not in LOCAL_ONLY}

        return {"format": FORMAT, "strategy": self.strategy, "space": self.space, "data": self.data,
                "axes": [a.to_dict() for a in self.axes], "options": self.options, "config": self.config,
                "search": shared(self.search), "evaluate": shared(self.evaluate)}

    def specs(self, threads: int = 1) -> list[PointSpec]:
        """One :class:`PointSpec` per point, in grid order."""
        kinds = {a.name: a.kind for a in self.axes}
        out = []
        for values in points(self.axes):
            def of(kind: str, values: dict[str, Any] = values) -> dict[str, Any]:
                return {k: v for k, v in values.items() if kinds[k] == kind}

            seed = {SEED: values[SEED]} if SEED in values else {}
            out.append(PointSpec(
                point_key(values), values, str(self.out.absolute()), self.data, self.strategy, self.space,
                {**self.options, **of(STRATEGY)}, {**self.config, **of(SPACE)}, {**self.search, **seed},
                {**self.evaluate, **seed}, self.verify, threads, self.loggers))
        return out


def run_sweep(sweep: Sweep, executor: Executor, *, threads: int = 1, progress: bool = False,
              echo: Callable[[str], None] = print) -> tuple[list[dict[str, Any]], int]:
    """Run the unfinished points of ``sweep`` with ``executor``; return every point's row (grid
    order) and how many were already finished. ``echo`` gets one line per point that ends."""
    out = sweep.out
    with owned(out):
        record_sweep(out, sweep.record())
        specs = sweep.specs(threads)
        rows: dict[str, dict[str, Any]] = {}
        for spec in specs:
            row = finished_row(out, spec.key, spec.values)
            if row is not None:
                rows[spec.key] = row
        skipped = len(rows)

        def ordered() -> list[dict[str, Any]]:
            return [rows[s.key] for s in specs if s.key in rows]

        write_results(out, sweep.axes, ordered())
        with tqdm(total=len(specs), initial=skipped, disable=not progress, unit="point", desc="sweep") as bar:
            def on_row(row: dict[str, Any]) -> None:
                rows[row["key"]] = row
                write_results(out, sweep.axes, ordered())
                bar.update(1)
                echo(_summary(row))

            pending = [s for s in specs if s.key not in rows]
            if pending:
                executor(pending, on_row)
        return ordered(), skipped


def _summary(row: dict[str, Any]) -> str:
    if row["status"] == FAILED:
        return f"{row['key']}: failed: {row['error']}"
    seconds = sum(row.get(k) or 0 for k in ("search_seconds", "evaluate_seconds"))
    auc = "n/a" if row["test_auc"] is None else f"{row['test_auc']:.4f}"
    return f"{row['key']}: test AUC {auc}, params {row['params']}, {seconds:.1f}s"
