"""``report.md`` of a run directory: architecture figure, search curves, ROC, metrics tables.

Reads the run directory of ``automm search`` (``arch.json``, ``metrics.jsonl``) and, when
given or found, the evaluation directory of ``automm evaluate`` (``metrics.json``,
``history.jsonl``, ``predictions.csv``, ``robustness.json``); every file it makes goes into the
run directory (with ``latex``, ``table.tex`` too).
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from automm.errors import AutommError, DotNotFoundError
from automm.fileio import optional_file, write_text
from automm.ir import Architecture, build_space_for, load_architecture
from automm.render import architecture_file, architecture_graph, write_graph
from automm.report.figures import (
    entropy_figure,
    robustness_figure,
    roc_figure,
    training_figure,
    variants,
)
from automm.report.latex import run_table
from automm.report.markdown import escape, join_and, table, table_cell
from automm.report.provenance import how_it_ran
from automm.report.source import describe_source
from automm.schema import Spec, check
from automm.train.bootstrap import chance_sentence
from automm.train.breakdown import GROUP_KEYS
from automm.train.evaluation_metrics import read_evaluation_metrics, read_robustness_file
from automm.train.records import EPOCH

REPORT = "report.md"
ENTROPY = "entropy.png"
TRAINING = "training.png"
EVAL_TRAINING = "eval-training.png"
ROC = "roc.png"
ROBUSTNESS = "robustness.png"
LATEX = "table.tex"
METRICS_EXPLAINED = (
    "AUC is the probability that the detector scores a randomly drawn fake video above a randomly "
    "drawn real one, accuracy the fraction of videos it classifies correctly, and EER (equal error "
    "rate) the error rate at the threshold where false positives and false negatives are equally "
    "frequent. A detector that guesses has AUC 0.5 and EER 0.5 (and the accuracy of always naming the "
    "larger class), so a result whose AUC interval includes 0.5 is not distinguishable from chance.")
SEARCH_EXPLAINED = (
    "**Search validation** (from arch.json): the derived architecture's scores on the validation split "
    "during the search, the split that also chose it, from weights inherited from the supernet: a guide "
    "to the search, optimistic, not a result.")
TEST_EXPLAINED = (
    "**Test** (from {file}): the architecture retrained from scratch, its epoch selected on the "
    "validation split, scored once on the test split that neither the search nor the selection saw.")
TEST_KEYS = ("test_auc", "test_acc", "test_eer")
"""Metrics with intervals, shown in their own table."""
OWN_SECTIONS = ("distinguishable_from_chance", "bootstrap", "provenance",
                *(f"{k}_ci" for k in TEST_KEYS), *(f"by_{k}" for k in GROUP_KEYS))
"""metrics.json keys shown apart from the table of other values."""


def read_jsonl(path: str | os.PathLike[str], schema: Spec | None = None) -> list[dict[str, Any]]:
    """One JSON object per non-empty line (each fitting ``schema`` when given); problems raise
    :class:`AutommError` naming file and line."""
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
        if schema is not None:
            check(record, schema, f"{p}:{number}")
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
        if not (eval_dir / "metrics.json").is_file():
            raise AutommError(f"{eval_dir}: not an evaluation directory (no metrics.json); --eval takes "
                              "the directory written by automm evaluate ARCH_JSON --out DIR")
        return eval_dir
    if (run_dir / "eval").is_dir():
        return run_dir / "eval"
    return run_dir if (run_dir / "predictions.csv").is_file() else None


def random_init_backbones(provenance: Mapping[str, Any]) -> list[str]:
    """Names of the randomly initialised backbones of the feature caches in ``provenance``
    (``data`` and ``search_data``, as their sources describe them), in order, each once; ``""``
    stands for a cache that says its features are random but names no backbone."""
    names: dict[str, None] = {}
    for key in ("data", "search_data"):
        names.update(dict.fromkeys(describe_source(_field(provenance, key, "source")).random_init))
    return list(names)


def _field(record: Any, *keys: str) -> Any:
    """``record[k1][k2]...``, or None where a level is missing or not a mapping."""
    for key in keys:
        record = record.get(key) if isinstance(record, Mapping) else None
    return record


def read_metrics(evaluation: Path | None) -> dict[str, Any] | None:
    """The metrics.json of an evaluation directory (None without one)."""
    path = evaluation / "metrics.json" if evaluation else None
    return read_evaluation_metrics(path) if path is not None and optional_file(path) else None


def read_robustness(evaluation: Path | None) -> dict[str, Any] | None:
    """The robustness.json of an evaluation directory (None without one)."""
    path = evaluation / "robustness.json" if evaluation else None
    return read_robustness_file(path) if path is not None and optional_file(path) else None


def write_report(
    run_dir: str | os.PathLike[str], eval_dir: str | os.PathLike[str] | None = None, *, latex: bool = False
) -> list[Path]:
    """Write the figures and ``report.md`` (with ``latex`` also ``table.tex``, the metrics as a
    LaTeX tabular) into ``run_dir``; return the files written."""
    run = Path(run_dir)
    if not run.is_dir():
        raise AutommError(f"{run}: no such run directory")
    arch = load_architecture(run / "arch.json")
    evaluation = find_eval_dir(run, Path(eval_dir) if eval_dir is not None else None)
    metrics = read_metrics(evaluation)
    written: list[Path] = []
    md = [f"# Report: {escape(run.name)}", "", _summary(arch), ""]
    eval_arch = evaluation / "arch.json" if evaluation else None
    provenance = [arch.provenance]
    if eval_arch is not None and eval_arch != run / "arch.json" and eval_arch.is_file():
        provenance.append(load_architecture(eval_arch).provenance)
    md += [*_data_sentences(provenance), ""]
    flagged = list(dict.fromkeys(n for p in provenance for n in random_init_backbones(p)))
    if flagged:
        md += [_random_init_warning(flagged), ""]
    md += ["## Architecture", "", *_architecture_section(arch, run, written), ""]
    md += ["## Metrics", "", *_metrics_section(arch, evaluation, metrics), ""]
    md += ["## Search", "", *_search_section(run, arch, written), ""]
    if evaluation is not None:
        md += ["## Evaluation", "", *_evaluation_section(evaluation, run, metrics, written), ""]
        robust = read_robustness(evaluation)
        if robust is not None:
            md += ["## Robustness", "", *_robustness_section(robust, run, written), ""]
    records = {"search": arch.provenance}
    if metrics is not None and isinstance(metrics.get("provenance"), Mapping):
        records["evaluation"] = metrics["provenance"]
    md += ["## How this was run", "", *how_it_ran(records), ""]
    if latex:
        written.append(run / LATEX)
        write_text(run / LATEX, run_table(arch.metrics, metrics))
        md += [f"The metrics as a LaTeX tabular: [{LATEX}]({LATEX}).", ""]
    report = run / REPORT
    write_text(report, "\n".join(md).rstrip() + "\n")
    return [*written, report]


def _summary(arch: Architecture) -> str:
    config = ", ".join(f"{escape(k)}={table_cell(v)}" for k, v in arch.config.items() if k != "tap_channels")
    text = f"Space `{arch.space}` ({config})"
    strategy = dict(arch.strategy)
    if strategy:
        name = strategy.pop("name", "?")
        params = ", ".join(f"{escape(k)}={table_cell(v)}" for k, v in strategy.items())
        text += f", strategy {escape(name)}" + (f" ({params})" if params else "")
    return text + "."


def _data_sentences(provenance: list[Mapping[str, Any]]) -> list[str]:
    """Which features the search (``provenance[0]``) and the evaluation (``provenance[1]``, if
    any) used, in words."""
    search = _field(provenance[0], "data")
    lines = [_data_sentence("Searched", search)]
    if len(provenance) > 1:
        evaluated = _field(provenance[1], "data")
        same = isinstance(evaluated, Mapping) and isinstance(search, Mapping) and all(
            evaluated.get(k) == search.get(k) for k in ("path", "fingerprint"))
        lines.append("Evaluated on the same features." if same else _data_sentence("Evaluated", evaluated))
    return [line for line in lines if line]


def _data_sentence(verb: str, data: Any) -> str:
    """``verb`` on which features (dataset, cache and extractors) as a sentence; "" when unknown."""
    if not isinstance(data, Mapping):
        return ""
    return describe_source(data.get("source")).describe(verb, data.get("path"))


def _random_init_warning(names: list[str]) -> str:
    """The warning of report.md about randomly initialised backbones (:func:`random_init_backbones`)."""
    named = [escape(n) for n in names if n]
    if len(named) == 1:
        who = f"The {named[0]} backbone was"
    else:
        who = f"The {join_and(named)} backbones were" if named else "The backbones were"
    return (f"> **{who} randomly initialised, not pretrained.** The features carry no pretrained "
            "knowledge, so these numbers are not comparable with results on pretrained backbones.")


def _architecture_section(arch: Architecture, run: Path, written: list[Path]) -> list[str]:
    """Draw the architecture into the file `automm render RUN/arch.json` writes (arch.svg, and
    arch.png for print) and show it."""
    graph = architecture_graph(arch)
    svg, png = (architecture_file(run / "arch.json", fmt) for fmt in ("svg", "png"))
    try:
        written.append(write_graph(graph, svg))
        written.append(write_graph(graph, png))
    except DotNotFoundError:
        dot = svg.with_suffix(".dot")
        written.append(dot)
        return [f"Graphviz `dot` was not found, so the architecture is only described in [{dot.name}]"
                f"({dot.name}); install Graphviz and report again, or run `dot -Tsvg` on it."]
    return [f"![architecture]({svg.name})", "",
            f"The same drawing at print resolution: [{png.name}]({png.name}). Left to right: the "
            "feature taps of each modality, each cell with its inputs, steps and chosen operations, "
            "then the classifier head. Taps and inputs that no step uses are faded."]


def _metrics_section(arch: Architecture, evaluation: Path | None, metrics: Mapping[str, Any] | None
                     ) -> list[str]:
    lines = [METRICS_EXPLAINED, "", SEARCH_EXPLAINED, "", *_table(arch.metrics)]
    if metrics is not None:
        lines += ["", TEST_EXPLAINED.format(file="metrics.json"), "", *_test_table(metrics), "",
                  *_table({k: v for k, v in metrics.items() if k not in (*TEST_KEYS, *OWN_SECTIONS)})]
        for key in GROUP_KEYS:
            lines += ["", f"### Per fake {key}", "", *_groups_table(key, metrics.get(f"by_{key}"))]
    elif evaluation is None:
        lines += ["", "No evaluation yet: run `automm evaluate` and report again for test metrics."]
    return lines


def _test_table(metrics: Mapping[str, Any]) -> list[str]:
    """The test metrics with their intervals, how the intervals were drawn and the verdict on chance."""
    rows = [[label, metrics.get(key), _interval(metrics.get(f"{key}_ci"))]
            for key, label in zip(TEST_KEYS, ("test AUC", "test accuracy", "test EER"), strict=True)]
    lines = [*table(["metric", "value", "95% interval"], rows), ""]
    boot = metrics.get("bootstrap")
    if isinstance(boot, Mapping):
        chance = chance_sentence(metrics.get("distinguishable_from_chance"))
        lines += [f"Intervals: {escape(boot.get('method'))}, {table_cell(boot.get('resamples'))} resamples, "
                  f"seed {table_cell(boot.get('seed'))}. {chance}"]
    else:
        lines += ["No intervals recorded (an evaluation by an older automm): evaluate again for them."]
    return lines


def _groups_table(key: str, record: Any) -> list[str]:
    """A ``by_category`` / ``by_method`` record of metrics.json as a table, or its note."""
    if not isinstance(record, Mapping):
        return ["Not recorded (an evaluation by an older automm)."]
    groups = record.get("groups")
    if not isinstance(groups, Mapping) or not groups:
        return [f"Not known: {escape(record.get('note') or 'no groups')}."]
    reals = table_cell(record.get("reals"))
    lines = [f"AUC of the fakes of each {escape(key)} against all {reals} real test videos:", "",
             *table([key, "fakes", "AUC", "95% interval"],
                    ([name, g.get("fakes"), g.get("auc"), _interval(g.get("auc_ci"))]
                     for name, g in groups.items() if isinstance(g, Mapping)))]
    if record.get("unknown_fakes"):
        lines += ["", f"{table_cell(record['unknown_fakes'])} fakes without a {escape(key)} are left out."]
    return lines


def _interval(value: Any) -> str:
    """``[0.61, 0.92]`` of a two-number list, ``n/a`` otherwise."""
    if isinstance(value, list | tuple) and len(value) == 2 and all(isinstance(v, int | float) for v in value):
        return f"[{value[0]:.4g}, {value[1]:.4g}]"
    return "n/a"


def _figure_links(name: str) -> str:
    """A sentence linking the vector and one-column variants of the figure ``name``."""
    _, pdf, column, column_pdf = variants(name)
    return (f"Vector: [{pdf.name}]({pdf.name}); one column wide: [{column.name}]({column.name}), "
            f"[{column_pdf.name}]({column_pdf.name}).")


def _search_section(run: Path, arch: Architecture, written: list[Path]) -> list[str]:
    metrics = run / "metrics.jsonl"
    if not optional_file(metrics):
        return ["No metrics.jsonl in the run directory: no search curves."]
    records = read_jsonl(metrics, EPOCH)
    if not records:
        return ["metrics.jsonl is empty: no search curves."]
    written += variants(entropy_figure(records, run / ENTROPY, _uniform_entropy(arch)))
    best = arch.metrics.get("best_epoch")
    written += variants(training_figure(records, run / TRAINING, title="search",
                                        best_epoch=best if isinstance(best, int) else None))
    return [f"{len(records)} epoch(s) logged.", "",
            "Entropy of each choice family per epoch (paper Figure 1b); dotted: the entropy of uniform "
            "distributions, where every family starts:", "", f"![entropy]({ENTROPY})", "",
            _figure_links(ENTROPY), "",
            "Loss, accuracy and AUC per epoch on the search's splits (derived = the architecture derived "
            "after the epoch; dashed: the epoch whose architecture was kept):", "",
            f"![training]({TRAINING})", "", _figure_links(TRAINING)]


def _uniform_entropy(arch: Architecture) -> dict[str, float] | None:
    """The uniform entropy of each choice family of ``arch``'s space (None when the space cannot
    be built, e.g. its plugin is not installed)."""
    try:
        return build_space_for(arch).uniform_entropy()
    except AutommError:
        return None


def _evaluation_section(evaluation: Path, run: Path, metrics: Mapping[str, Any] | None,
                        written: list[Path]) -> list[str]:
    lines: list[str] = []
    predictions = evaluation / "predictions.csv"
    if optional_file(predictions):
        labels, scores = read_predictions(predictions)
        if len(set(labels)) == 2:
            area = roc_figure(scores, labels, run / ROC)
            written += variants(run / ROC)
            lines += [f"ROC on the test split ({len(labels)} samples, AUC {area:.4f}; the dot marks the "
                      "equal error rate):", "", f"![roc]({ROC})", "", _figure_links(ROC), ""]
        else:
            lines += [f"{predictions}: the test split has a single class; no ROC curve.", ""]
    history = evaluation / "history.jsonl"
    if optional_file(history) and (records := read_jsonl(history, EPOCH)):
        best = (metrics or {}).get("best_epoch")
        written += variants(training_figure(records, run / EVAL_TRAINING, title="evaluation (retraining)",
                                            best_epoch=best if isinstance(best, int) else None))
        lines += ["Retraining curves (dashed: the epoch selected on validation, whose weights were tested):",
                  "", f"![retraining]({EVAL_TRAINING})", "", _figure_links(EVAL_TRAINING)]
    return lines or [f"{evaluation}: no predictions.csv or history.jsonl."]


def _robustness_section(record: Mapping[str, Any], run: Path, written: list[Path]) -> list[str]:
    """robustness.json as a table, the verdict and the figure."""
    written += variants(robustness_figure(record, run / ROBUSTNESS))
    lines = [f"The test split ({table_cell(record.get('samples'))} videos) with each modality removed (its "
             f"features zeroed, or replaced by their mean over the training split) or degraded (noise: "
             f"{escape(record.get('noise'))}, at levels {table_cell(record.get('noise_levels'))}).", "",
             *table(["condition", "AUC", "95% interval", "accuracy", "EER"],
                    ([c["condition"], c.get("auc"), _interval(c.get("auc_ci")), c.get("acc"), c.get("eer")]
                     for c in record["conditions"]))]
    return [*lines, "", f"**{escape(record.get('verdict'))}**", "", f"![robustness]({ROBUSTNESS})", "",
            _figure_links(ROBUSTNESS)]


def _table(metrics: Mapping[str, Any]) -> list[str]:
    """``metrics`` as Markdown tables, never JSON: one row per value (a nested record gives one
    row per field, ``data: path``), and a table of its own for each record of records (e.g.
    ``class_counts``: a row per split, a column per class)."""
    rows = [row for k, v in metrics.items() if not _is_grid(v) for row in _flat_rows(str(k), v)]
    tables = [table(["metric", "value"], rows)] if rows else []
    for key, value in metrics.items():
        if _is_grid(value):
            columns = list(dict.fromkeys(c for row in value.values() for c in row))
            tables.append(table([key, *columns], ([name, *(row.get(c) for c in columns)]
                                                  for name, row in value.items())))
    lines: list[str] = []
    for one in tables:
        lines += [""] * bool(lines) + one
    return lines or ["(none recorded)"]


def _is_grid(value: Any) -> bool:
    """Whether ``value`` is a non-empty record of non-empty records of plain values."""
    nested = Mapping | list | tuple
    return isinstance(value, Mapping) and bool(value) and all(
        isinstance(row, Mapping) and row and not any(isinstance(v, nested) for v in row.values())
        for row in value.values())


def _flat_rows(key: str, value: Any) -> list[tuple[str, Any]]:
    """(label, value) rows of ``value``: one per leaf of a nested record (``key: field``)."""
    if isinstance(value, Mapping) and value:
        return [row for k, v in value.items() for row in _flat_rows(f"{key}: {k}", v)]
    return [(key, value)]
