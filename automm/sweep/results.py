"""The files of a sweep directory: ``sweep.json`` (what was swept), ``results.jsonl`` and
``results.csv`` (one row per point, rewritten atomically after every point) and the rows
themselves, read from a point's run directory (its arch.json and eval/metrics.json).

Torch-free: the command line and ``automm report SWEEP_DIR`` read these without loading torch.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from automm.errors import AutommError, one_line
from automm.fileio import read_json, write_json, write_text
from automm.schema import check, list_of, nullable, obj, optional, string
from automm.sweep.grid import SEED, SPACE, STRATEGY, Axis, format_value, plain

FORMAT = "automm.sweep/1"
SWEEP = "sweep.json"
RESULTS_JSONL = "results.jsonl"
RESULTS_CSV = "results.csv"
POINTS = "points"
EVAL = "eval"
OK, FAILED = "ok", "failed"
METRIC_COLUMNS = ("status", "error", "test_auc", "test_acc", "test_eer", "val_auc", "val_acc",
                  "search_val_auc", "search_val_acc", "params", "stopped", "epochs", "best_epoch",
                  "search_seconds", "evaluate_seconds", "run_dir")
"""Columns of a row after the point's key and axis values (val_*: the selected epoch of the
evaluation; search_val_*: the searched architecture's score during search)."""
SCHEMA = obj({
    "format": string(FORMAT),
    "axes": list_of(obj({"name": string(), "kind": string(STRATEGY, SPACE, SEED), "values": list_of()})),
    "options": optional(obj()), "config": optional(obj()), "search": optional(obj()),
    "evaluate": optional(obj()),
})
"""Schema of sweep.json (:meth:`automm.sweep.runner.Sweep.record`)."""
ROW = obj({"key": string(), "status": optional(nullable(string()))})
"""Schema of a results.jsonl row (:func:`finished_row`, :func:`failed_row`)."""


def read_sweep_record(path: Path) -> dict[str, Any]:
    """The sweep.json at ``path``, checked against :data:`SCHEMA`."""
    record = read_json(path)
    check(record, SCHEMA, path)
    return record


def is_sweep_dir(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` holds a sweep (its sweep.json)."""
    return (Path(path) / SWEEP).is_file()


def point_dir(sweep_dir: str | os.PathLike[str], key: str) -> Path:
    """The run directory of the point ``key``."""
    return Path(sweep_dir) / POINTS / key


def base_row(key: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """A row with the point's key and axis values and every metric column empty."""
    return {"key": key, **{k: plain(v) for k, v in values.items()}, **dict.fromkeys(METRIC_COLUMNS),
            "run_dir": f"{POINTS}/{key}"}


def failed_row(key: str, values: Mapping[str, Any], error: str) -> dict[str, Any]:
    """The row of a point that failed with ``error`` (kept to one line)."""
    return {**base_row(key, values), "status": FAILED, "error": one_line(error)[:1000]}


def finished_row(sweep_dir: str | os.PathLike[str], key: str, values: Mapping[str, Any]
                 ) -> dict[str, Any] | None:
    """The row of a point whose search and evaluation are finished (None otherwise), from its
    arch.json and eval/metrics.json."""
    run = point_dir(sweep_dir, key)
    arch_path, metrics_path = run / "arch.json", run / EVAL / "metrics.json"
    if not arch_path.is_file() or not metrics_path.is_file():
        return None
    from automm.ir import load_architecture
    from automm.train.evaluation_metrics import read_evaluation_metrics

    found = read_evaluation_metrics(metrics_path)
    searched = load_architecture(arch_path).metrics
    return {**base_row(key, values), "status": OK,
            **{k: found.get(k) for k in ("test_auc", "test_acc", "test_eer", "val_auc", "val_acc", "params")},
            "search_val_auc": searched.get("val_auc"), "search_val_acc": searched.get("val_acc"),
            **{k: searched.get(k) for k in ("stopped", "epochs", "best_epoch", "search_seconds")},
            "evaluate_seconds": found.get("train_seconds")}


def record_sweep(sweep_dir: Path, record: Mapping[str, Any]) -> None:
    """Write sweep.json (``record`` holds :data:`FORMAT`, the axes and the settings), or check
    that the one there has the same settings and axis names (the axes' values may grow)."""
    path = sweep_dir / SWEEP
    record = json.loads(json.dumps(record))  # as read back: tuples are lists
    if path.is_file():
        old = read_sweep_record(path)
        mine = {k: v for k, v in record.items() if k != "axes"}
        theirs = {k: v for k, v in old.items() if k != "axes"}
        names = [a["name"] for a in record["axes"]]
        if mine != theirs or names != [a.get("name") for a in old.get("axes", [])]:
            differ = sorted(k for k in {*mine, *theirs} if mine.get(k) != theirs.get(k)) or ["axes"]
            raise AutommError(f"{sweep_dir}: holds a sweep with other settings ({', '.join(differ)} "
                              "differ); rerun it with its settings or choose another --out")
    write_json(path, record)


def read_sweep(sweep_dir: str | os.PathLike[str]) -> tuple[list[Axis], list[dict[str, Any]], dict[str, Any]]:
    """The axes (without seeds), the rows and the sweep.json record of a sweep directory."""
    root = Path(sweep_dir)
    if not is_sweep_dir(root):
        raise AutommError(f"{root}: not a sweep directory (no {SWEEP})")
    record = read_sweep_record(root / SWEEP)
    axes = [Axis(a["name"], a["kind"], tuple(a["values"])) for a in record.get("axes", [])]
    rows = []
    if (root / RESULTS_JSONL).is_file():
        for n, line in enumerate((root / RESULTS_JSONL).read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    row = json.loads(line)
                except ValueError:
                    raise AutommError(f"{root / RESULTS_JSONL}: line {n} is not JSON") from None
                check(row, ROW, f"{root / RESULTS_JSONL}: line {n}")
                rows.append(row)
    return [a for a in axes if a.kind != "seed"], rows, record


def write_results(sweep_dir: Path, axes: Sequence[Axis], rows: Iterable[Mapping[str, Any]]) -> None:
    """Write results.jsonl and results.csv (columns: key, the axes, :data:`METRIC_COLUMNS`)."""
    rows = list(rows)
    write_text(sweep_dir / RESULTS_JSONL, "".join(json.dumps(r) + "\n" for r in rows))
    columns = ["key", *(a.name for a in axes), *METRIC_COLUMNS]
    text = io.StringIO()
    writer = csv.DictWriter(text, columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row.get(k)) for k in columns})
    write_text(sweep_dir / RESULTS_CSV, text.getvalue())


def _cell(value: Any) -> Any:
    return "" if value is None else format_value(value) if isinstance(value, list) else value
