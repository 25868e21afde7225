"""``report.md`` of a run directory: architecture figure, search curves, ROC, metrics tables.

Reads the run directory of ``automm search`` (``arch.json``, ``metrics.jsonl``) and, when
given or found, the evaluation directory of ``automm evaluate`` (``metrics.json``,
``history.jsonl``, ``predictions.csv``); every file it makes goes into the run directory.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from automm.errors import AutommError, DotNotFoundError
from automm.fileio import read_json, write_text
from automm.ir import Architecture, load_architecture
from automm.render import architecture_graph, write_graph
from automm.report.figures import entropy_figure, roc_figure, training_figure
from automm.report.markdown import escape

REPORT = "report.md"
ENTROPY = "entropy.png"
TRAINING = "training.png"
EVAL_TRAINING = "eval-training.png"
ROC = "roc.png"
ARCHITECTURE = "architecture"  # .svg and .png, or .dot without Graphviz
RANDOM_INIT = "random-init"


def read_jsonl(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """One JSON object per non-empty line; problems raise :class:`AutommError` naming file and line."""
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise AutommError(f"{p}: cannot read: {exc}") from None
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise AutommError(f"{p}:{number}: invalid JSON: {exc.msg}") from None
        if not isinstance(record, dict):
            raise AutommError(f"{p}:{number}: expected a JSON object")
        records.append(record)
    return records


def read_predictions(path: str | os.PathLike[str]) -> tuple[list[int], list[float]]:
    """Labels and scores of ``predictions.csv`` (columns ``id,label,score``)."""
    p = Path(path)
    labels: list[int] = []
    scores: list[float] = []
    try:
        with p.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = {"label", "score"} - set(reader.fieldnames or ())
            if missing:
                raise AutommError(f"{p}: missing column(s) {', '.join(sorted(missing))}")
            for row in reader:
                try:
                    labels.append(int(row["label"]))
                    scores.append(float(row["score"]))
                except (TypeError, ValueError):
                    raise AutommError(f"{p}:{reader.line_num}: label must be an integer and score "
                                      f"a number") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AutommError(f"{p}: cannot read: {exc}") from None
    return labels, scores


def find_eval_dir(run_dir: Path, eval_dir: Path | None = None) -> Path | None:
    """The evaluation directory: ``eval_dir`` if given, else ``RUN_DIR/eval``, else ``RUN_DIR``
    itself when it holds ``predictions.csv``, else None."""
    if eval_dir is not None:
        if not eval_dir.is_dir():
            raise AutommError(f"{eval_dir}: no such evaluation directory")
        return eval_dir
    if (run_dir / "eval").is_dir():
        return run_dir / "eval"
    return run_dir if (run_dir / "predictions.csv").is_file() else None


def random_init_keys(provenance: Any, prefix: str = "") -> list[str]:
    """Dotted keys of ``provenance`` whose value says ``random-init`` (randomly initialised backbones)."""
    if isinstance(provenance, Mapping):
        items = [(f"{prefix}{k}", v) for k, v in provenance.items()]
    elif isinstance(provenance, list | tuple):
        items = [(f"{prefix}{i}", v) for i, v in enumerate(provenance)]
    else:
        return [prefix.rstrip(".") or "provenance"] if RANDOM_INIT in str(provenance) else []
    return [key for k, v in items for key in random_init_keys(v, f"{k}.")]


def write_report(
    run_dir: str | os.PathLike[str], eval_dir: str | os.PathLike[str] | None = None
) -> list[Path]:
    """Write the figures and ``report.md`` into ``run_dir``; return the files written."""
    run = Path(run_dir)
    if not run.is_dir():
        raise AutommError(f"{run}: no such run directory")
    arch = load_architecture(run / "arch.json")
    evaluation = find_eval_dir(run, Path(eval_dir) if eval_dir is not None else None)
    written: list[Path] = []
    md = [f"# Report: {escape(run.name)}", "", _summary(arch), ""]
    eval_arch = evaluation / "arch.json" if evaluation else None
    provenance = [arch.provenance]
    if eval_arch is not None and eval_arch != run / "arch.json" and eval_arch.is_file():
        provenance.append(load_architecture(eval_arch).provenance)
    flagged = sorted({k for p in provenance for k in random_init_keys(p)})
    if flagged:
        md += [f"> **Backbones were randomly initialised** (provenance: {escape(', '.join(flagged))}): the "
               "features carry no pretrained knowledge, so these numbers are not comparable with "
               "results on pretrained backbones.", ""]
    md += ["## Architecture", "", *_architecture_section(arch, run, written), ""]
    md += ["## Metrics", "", *_metrics_section(arch, evaluation), ""]
    md += ["## Search", "", *_search_section(run, written), ""]
    if evaluation is not None:
        md += ["## Evaluation", "", *_evaluation_section(evaluation, run, written), ""]
    report = run / REPORT
    write_text(report, "\n".join(md).rstrip() + "\n")
    return [*written, report]


def _summary(arch: Architecture) -> str:
    config = ", ".join(f"{escape(k)}={_cell(v)}" for k, v in arch.config.items() if k != "tap_channels")
    text = f"Space `{arch.space}` ({config})"
    strategy = dict(arch.strategy)
    if strategy:
        name = strategy.pop("name", "?")
        params = ", ".join(f"{escape(k)}={_cell(v)}" for k, v in strategy.items())
        text += f", strategy {escape(name)}" + (f" ({params})" if params else "")
    return text + "."


def _architecture_section(arch: Architecture, run: Path, written: list[Path]) -> list[str]:
    graph = architecture_graph(arch)
    try:
        written.append(write_graph(graph, run / f"{ARCHITECTURE}.svg"))
        written.append(write_graph(graph, run / f"{ARCHITECTURE}.png"))
    except DotNotFoundError:
        written.append(run / f"{ARCHITECTURE}.dot")
        return [f"Graphviz `dot` was not found: the figure's source is [{ARCHITECTURE}.dot]"
                f"({ARCHITECTURE}.dot) (render it with `dot -Tsvg`)."]
    return [f"![architecture]({ARCHITECTURE}.svg)", "",
            "Unused feature taps are faded; see docs/formats.md for the drawing conventions."]


def _metrics_section(arch: Architecture, evaluation: Path | None) -> list[str]:
    lines = ["Search (validation, from arch.json):", "", *_table(arch.metrics)]
    metrics_file = evaluation / "metrics.json" if evaluation else None
    if metrics_file is not None and metrics_file.is_file():
        metrics = read_json(metrics_file)
        if not isinstance(metrics, dict):
            raise AutommError(f"{metrics_file}: expected a JSON object")
        lines += ["", f"Evaluation (test, from {metrics_file.name}):", "", *_table(metrics)]
    elif evaluation is None:
        lines += ["", "No evaluation yet: run `automm evaluate` and report again for test metrics."]
    return lines


def _search_section(run: Path, written: list[Path]) -> list[str]:
    metrics = run / "metrics.jsonl"
    if not metrics.is_file():
        return ["No metrics.jsonl in the run directory: no search curves."]
    records = read_jsonl(metrics)
    if not records:
        return ["metrics.jsonl is empty: no search curves."]
    written.append(entropy_figure(records, run / ENTROPY))
    written.append(training_figure(records, run / TRAINING, title="search"))
    return [f"{len(records)} epoch(s) logged.", "",
            "Entropy of each choice family per epoch (paper Figure 1b):", "", f"![entropy]({ENTROPY})", "",
            "Loss, accuracy and AUC per epoch (derived = the architecture derived after the epoch):", "",
            f"![training]({TRAINING})"]


def _evaluation_section(evaluation: Path, run: Path, written: list[Path]) -> list[str]:
    lines: list[str] = []
    predictions = evaluation / "predictions.csv"
    if predictions.is_file():
        labels, scores = read_predictions(predictions)
        if len(set(labels)) == 2:
            area = roc_figure(scores, labels, run / ROC)
            written.append(run / ROC)
            lines += [f"ROC on the test split ({len(labels)} samples, AUC {area:.4f}):", "",
                      f"![roc]({ROC})", ""]
        else:
            lines += [f"{predictions}: the test split has a single class; no ROC curve.", ""]
    history = evaluation / "history.jsonl"
    if history.is_file() and (records := read_jsonl(history)):
        written.append(training_figure(records, run / EVAL_TRAINING, title="evaluation (retraining)"))
        lines += ["Retraining curves:", "", f"![retraining]({EVAL_TRAINING})"]
    return lines or [f"{evaluation}: no predictions.csv or history.jsonl."]


def _table(metrics: Mapping[str, Any]) -> list[str]:
    if not metrics:
        return ["(none recorded)"]
    return ["| metric | value |", "| --- | --- |",
            *(f"| {escape(k)} | {_cell(v)} |" for k, v in metrics.items())]


def _cell(value: Any) -> str:
    """``value`` as escaped Markdown text (:func:`automm.report.markdown.escape`)."""
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10_000:
        return f"{value:,}"
    if isinstance(value, list | tuple) and all(isinstance(v, str | int | float) for v in value):
        return escape(",".join(map(str, value)))
    if isinstance(value, list | tuple | Mapping):
        return escape(json.dumps(value, separators=(",", ":")))
    return escape(value)
