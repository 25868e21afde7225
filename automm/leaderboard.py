"""The leaderboard of ``automm runs [DIR]``: every search and evaluation under a directory, one row
each, read from the files they wrote (imports neither torch nor matplotlib).

Status: ``running`` (a live process owns the directory), ``finished`` (arch.json of a search,
metrics.json of an evaluation), ``failed`` (a sweep point recorded as failed, or a last epoch
whose training loss was not finite) or ``interrupted`` (stopped before the end; ``--resume``
continues it).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from automm.errors import AutommError
from automm.ir import load_architecture
from automm.locking import in_use
from automm.sweep.results import EVAL, FAILED, RESULTS_JSONL, SWEEP
from automm.train.evaluation_metrics import read_evaluation_metrics
from automm.train.records import EPOCH

COLUMNS = ("run", "kind", "strategy", "settings", "search_val_auc", "test_auc", "params", "epochs", "seconds",
           "status")
"""The columns of the table (and keys of ``--json``'s records, with ``report``)."""
RUNNING, FINISHED, FAILED_STATUS, INTERRUPTED = "running", "finished", "failed", "interrupted"
SKIP = ("tensorboard",)
"""Directories never searched for runs (logger output)."""


def find_runs(root: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """A row per search run and per evaluation directory under ``root`` (``run``: its path
    relative to ``root``), in path order."""
    base = Path(root)
    if not base.is_dir():
        raise AutommError(f"{base}: no such directory")
    failed: dict[Path, str] = {}
    rows = []
    for folder, dirs, names in sorted(os.walk(base)):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIP)
        here = Path(folder)
        files = set(names)
        if SWEEP in files and RESULTS_JSONL in files:
            failed.update(_failed_points(here))
        evaluation = bool(files & {"metrics.json", "history.jsonl"})
        if "metrics.jsonl" in files or ("arch.json" in files and not evaluation):
            rows.append(_search_row(here, base, failed))
        if evaluation:
            rows.append(_evaluation_row(here, base, failed))
    return rows


def sort_rows(rows: list[dict[str, Any]], column: str, reverse: bool = False) -> list[dict[str, Any]]:
    """``rows`` sorted by ``column`` (numbers as numbers, text as text); rows without a value last."""
    if column not in COLUMNS:
        raise AutommError(f"unknown column {column!r}; columns: {', '.join(COLUMNS)}")
    present = [r for r in rows if r.get(column) is not None]
    missing = [r for r in rows if r.get(column) is None]
    numeric = all(isinstance(r[column], int | float) for r in present)
    present.sort(key=lambda r: r[column] if numeric else str(r[column]), reverse=reverse)
    return present + missing


def settings_text(settings: Mapping[str, Any] | None) -> str:
    """``temperature=10, samples=15``."""
    return ", ".join(f"{k}={v}" for k, v in (settings or {}).items())


def _failed_points(sweep: Path) -> dict[Path, str]:
    """The run directories of a sweep's failed points, with their errors."""
    from automm.report.build import read_jsonl

    try:
        rows = read_jsonl(sweep / RESULTS_JSONL)
    except AutommError:
        return {}
    return {(sweep / r["run_dir"]).resolve(): str(r.get("error")) for r in rows
            if r.get("status") == FAILED and isinstance(r.get("run_dir"), str)}


def _architecture(path: Path) -> Any:
    try:
        return load_architecture(path) if path.is_file() else None
    except AutommError:
        return None


def _object(path: Path) -> dict[str, Any] | None:
    try:
        return read_evaluation_metrics(path) if path.is_file() else None
    except AutommError:
        return None


def _records(path: Path) -> list[dict[str, Any]]:
    from automm.report.build import read_jsonl

    try:
        return read_jsonl(path, EPOCH) if path.is_file() else []
    except AutommError:
        return []


def _base(run: Path, root: Path, kind: str, arch: Any) -> dict[str, Any]:
    strategy = dict(arch.strategy) if arch is not None else {}
    name = strategy.pop("name", None)
    report = run / "report.html"
    return {"run": Path(os.path.relpath(run, root)).as_posix(), "kind": kind, "strategy": name,
            "settings": strategy or None, "report": report.as_posix() if report.is_file() else None}


def _status(run: Path, done: bool, failed: dict[Path, str], last: Mapping[str, Any] | None) -> str:
    if in_use(run):
        return RUNNING
    if done:
        return FINISHED
    if run.resolve() in failed or (last is not None and last.get("train_loss") is None):
        return FAILED_STATUS
    return INTERRUPTED


def _number(value: Any) -> float | int | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    return value if ok else None


def _search_row(run: Path, root: Path, failed: dict[Path, str]) -> dict[str, Any]:
    arch = _architecture(run / "arch.json")
    records = _records(run / "metrics.jsonl")
    metrics = arch.metrics if arch is not None else {}
    test = _object(run / EVAL / "metrics.json") or {}
    seconds = metrics.get("search_seconds")
    if seconds is None and records:
        seconds = sum(_number(r.get("seconds")) or 0 for r in records)
    return {**_base(run, root, "search", arch), "search_val_auc": _number(metrics.get("val_auc")),
            "test_auc": _number(test.get("test_auc")), "params": _number(metrics.get("params")),
            "epochs": _number(metrics.get("epochs", len(records))), "seconds": _number(seconds),
            "status": _status(run, arch is not None, failed, records[-1] if records else None)}


def _evaluation_row(run: Path, root: Path, failed: dict[Path, str]) -> dict[str, Any]:
    arch = _architecture(run / "arch.json")
    metrics = _object(run / "metrics.json")
    history = _records(run / "history.jsonl")
    done = metrics is not None
    metrics = metrics or {}
    searched = arch.metrics if arch is not None else {}
    return {**_base(run, root, "evaluation", arch), "search_val_auc": _number(searched.get("val_auc")),
            "test_auc": _number(metrics.get("test_auc")), "params": _number(metrics.get("params")),
            "epochs": _number(metrics.get("epochs", len(history))),
            "seconds": _number(metrics.get("train_seconds")),
            "status": _status(run, done, {p / EVAL: e for p, e in failed.items()} | failed,
                              history[-1] if history else None)}
