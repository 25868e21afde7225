"""``automm report --compare``: the entropy of several runs overlaid (the paper's Figure 1b)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from automm.errors import AutommError
from automm.ir import load_architecture
from automm.report.build import read_jsonl
from automm.report.figures import entropy_compare_figures

METRICS = "metrics.jsonl"


def run_label(run: Path, strategy: Mapping[str, Any]) -> str:
    """``RUN_NAME (stgs split, M=15, λ=10)``: the run and the strategy settings it searched with."""
    name = strategy.get("name", "?")
    parts = [str(strategy["ensemble"])] if "ensemble" in strategy else []
    if "samples" in strategy:
        parts.append(f"M={strategy['samples']}")
    if "temperature" in strategy:
        parts.append(f"λ={strategy['temperature']:g}")
    detail = f"{name} {', '.join(parts)}" if parts else name
    return f"{run.name} ({detail})"


def compare_runs(run_dirs: Sequence[str | os.PathLike[str]], out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write ``entropy-compare.png`` and one ``entropy-compare-FAMILY.png`` per choice family
    into ``out_dir`` from the metrics.jsonl of each run (its arch.json names the strategy)."""
    return entropy_compare_figures(read_runs(run_dirs), out_dir)


def read_runs(run_dirs: Sequence[str | os.PathLike[str]]) -> dict[str, list[dict[str, Any]]]:
    """The metrics.jsonl records of each run (at least two), by :func:`run_label`, in order."""
    if len(run_dirs) < 2:
        raise AutommError("--compare needs at least two run directories")
    runs: dict[str, list[dict[str, Any]]] = {}
    for run_dir in run_dirs:
        run = Path(run_dir)
        if not (run / METRICS).is_file():
            raise AutommError(f"{run}: not a search run directory (no {METRICS})")
        arch = run / "arch.json"
        strategy = dict(load_architecture(arch).strategy) if arch.is_file() else {}
        label = run_label(run, strategy)
        runs[label if label not in runs else f"{label} [{len(runs) + 1}]"] = read_jsonl(run / METRICS)
    return runs
