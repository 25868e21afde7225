"""``automm report --compare``: several runs side by side: ``comparison.md`` (test metrics per
strategy setting, mean and spread over seeds, paired differences where two settings ran on the
same seeds) and the entropy of the runs overlaid (the paper's Figure 1b)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from automm.errors import AutommError
from automm.fileio import write_text
from automm.ir import Architecture, build_space_for, load_architecture
from automm.report.build import find_eval_dir, read_jsonl, read_metrics
from automm.report.figures import entropy_compare_figures
from automm.report.latex import PREAMBLE, tabular
from automm.report.latex import escape as latex_escape
from automm.report.latex import number as latex_number
from automm.report.markdown import escape, table
from automm.report.paired import paired, spread
from automm.report.provenance import how_it_ran
from automm.train.records import EPOCH

METRICS = "metrics.jsonl"
COMPARISON = "comparison.md"
LATEX = "table.tex"
COLUMNS = (("test_auc", "test AUC"), ("test_acc", "test accuracy"), ("test_eer", "test EER"),
           ("search_val_auc", "search validation AUC"))
"""Metrics of the comparison table: key (test_*: eval/metrics.json; search_*: arch.json) and label."""


def strategy_label(strategy: Mapping[str, Any]) -> str:
    """``stgs split, M=15, λ=10``: the strategy settings a run searched with."""
    name = strategy.get("name", "?")
    parts = [str(strategy["ensemble"])] if "ensemble" in strategy else []
    if "samples" in strategy:
        parts.append(f"M={strategy['samples']}")
    if "temperature" in strategy:
        parts.append(f"λ={strategy['temperature']:g}")
    return f"{name} {', '.join(parts)}" if parts else str(name)


def run_label(run: Path, strategy: Mapping[str, Any]) -> str:
    """``RUN_NAME (stgs split, M=15, λ=10)``: the run and the strategy settings it searched with."""
    return f"{run.name} ({strategy_label(strategy)})"


def compare_runs(run_dirs: Sequence[str | os.PathLike[str]], out_dir: str | os.PathLike[str], *,
                 latex: bool = False) -> list[Path]:
    """Write ``comparison.md`` (with ``latex`` also ``table.tex``), ``entropy-compare.png`` and one
    ``entropy-compare-FAMILY.png`` per choice family into ``out_dir`` from each run's
    metrics.jsonl, arch.json (the strategy, its seed and search validation metrics) and, where
    evaluated, eval/metrics.json; return the files written."""
    out = Path(out_dir)
    runs = read_runs(run_dirs)
    archs = {Path(r): load_architecture(Path(r) / "arch.json") if (Path(r) / "arch.json").is_file() else None
             for r in run_dirs}
    written = entropy_compare_figures(runs, out, _uniform(archs.values()))
    groups = _groups(archs)
    figures = [p.name for p in written if p.suffix == ".png" and "-column" not in p.stem]
    lines = _comparison(groups, archs, figures)
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / COMPARISON, "\n".join(lines) + "\n")
    written.append(out / COMPARISON)
    if latex:
        write_text(out / LATEX, comparison_latex(groups))
        written.append(out / LATEX)
    return written


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
        runs[label if label not in runs else f"{label} [{len(runs) + 1}]"] = read_jsonl(run / METRICS, EPOCH)
    return runs


Groups = dict[str, dict[int | None, dict[str, Any]]]
"""Strategy label -> seed -> the run's metrics (``COLUMNS`` keys) and its directory (``run``)."""


def _groups(archs: Mapping[Path, Architecture | None]) -> Groups:
    groups: Groups = {}
    for run, arch in archs.items():
        strategy = dict(arch.strategy) if arch else {}
        test = read_metrics(find_eval_dir(run)) or {}
        row = {key: test.get(key) for key, _ in COLUMNS if key.startswith("test_")}
        row["search_val_auc"] = arch.metrics.get("val_auc") if arch else None
        seed = strategy.get("seed")
        by_seed = groups.setdefault(strategy_label(strategy), {})
        by_seed[seed if seed not in by_seed else None] = {**row, "run": run}
    return groups


def _uniform(archs: Sequence[Architecture | None] | Any) -> dict[str, float] | None:
    """The uniform entropy per family when every run's space agrees on it (else None)."""
    values = []
    for arch in archs:
        try:
            values.append(build_space_for(arch).uniform_entropy() if arch else None)
        except AutommError:
            values.append(None)
    return values[0] if values and all(v == values[0] for v in values) else None


def _comparison(groups: Groups, archs: Mapping[Path, Architecture | None], figures: Sequence[str]
                ) -> list[str]:
    lines = ["# Comparison", "",
             "Per strategy setting, each metric's mean ± sd over its runs (one per seed), with the range "
             "[min, max]; test metrics from each run's evaluation (runs without one have none).", "",
             *table(["strategy", "seeds", *(label for _, label in COLUMNS)],
                    ([label, ", ".join("?" if s is None else str(s) for s in by_seed),
                      *(_spread_text([r.get(key) for r in by_seed.values()]) for key, _ in COLUMNS)]
                     for label, by_seed in groups.items()))]
    pairs = [(a, b, paired(*(_by_seed(groups[g], "test_auc") for g in (a, b))))
             for a, b in itertools.combinations(groups, 2)]
    pairs = [(a, b, p) for a, b, p in pairs if p is not None]
    lines += ["", "## Paired on shared seeds", ""]
    if pairs:
        lines += ["Test AUC of A minus B on the seeds both ran (the same data split and initial weights); p: "
                  "two-sided sign-flip permutation test of a zero mean difference.", "",
                  *table(["A", "B", "seeds", "mean A − B", "sd", "A higher / tie / B higher", "p"],
                         ([a, b, ",".join(map(str, p["seeds"])), f"{p['mean_difference']:+.4f}",
                           f"{p['sd']:.4f}", f"{p['a_higher']} / {p['ties']} / {p['b_higher']}",
                           f"{p['p']:.3g}"] for a, b, p in pairs))]
    else:
        lines += ["No two strategy settings were evaluated on two or more shared seeds: no paired "
                  "comparison."]
    lines += ["", *(f"![{escape(name)}]({name})" for name in figures), "", "## How this was run", "",
              *how_it_ran({run.name: arch.provenance for run, arch in archs.items() if arch is not None})]
    return lines


def _by_seed(by_seed: Mapping[int | None, Mapping[str, Any]], key: str) -> dict[int, float]:
    return {s: float(r[key]) for s, r in by_seed.items()
            if s is not None and isinstance(r.get(key), int | float)}


def _spread_text(values: Sequence[Any]) -> str:
    s = spread(values)
    if not s["n"]:
        return "n/a"
    if s["n"] == 1:
        return f"{s['mean']:.4f}"
    return f"{s['mean']:.4f} ± {s['sd']:.4f} [{s['min']:.4f}, {s['max']:.4f}]"


def comparison_latex(groups: Groups) -> str:
    """The comparison table (mean ± sd over seeds per strategy setting) as a LaTeX tabular."""
    rows = []
    for label, by_seed in groups.items():
        cells = []
        for key, _ in COLUMNS:
            s = spread([r.get(key) for r in by_seed.values()])
            sd = f" $\\pm$ {latex_number(s['sd'])}" if s["sd"] is not None else ""
            cells.append(latex_number(s["mean"]) + sd)
        rows.append([latex_escape(label), str(len(by_seed)), *cells])
    return PREAMBLE + tabular(["strategy", "runs", *(label for _, label in COLUMNS)], rows)
