"""``report.html`` of a run directory: the content of report.md on one self-contained page, with
the figures inline as SVG, the per-epoch histories as tables, provenance and links to the files.

Reads what the files hold and shows what exists: intervals (``test_auc_ci``, ...), metrics per
fake category or method (``by_category``, ``by_method``) and ``robustness.json`` appear where the
evaluation recorded them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import graphviz

from automm.errors import AutommError
from automm.ir import Architecture, load_architecture
from automm.render import architecture_graph
from automm.report.build import (
    _data_sentences,
    _flat_rows,
    _random_init_warning,
    _summary,
    find_eval_dir,
    random_init_backbones,
    read_jsonl,
    read_predictions,
)
from automm.report.figures import entropy_figure, roc_figure, training_figure
from automm.report.html import (
    Markup,
    drawn_svg,
    esc,
    figure,
    inline_markdown,
    link,
    relative,
    table,
    write_page,
)
from automm.train.bootstrap import chance_sentence
from automm.train.evaluation_metrics import read_evaluation_metrics, read_robustness_file
from automm.train.records import EPOCH

REPORT_HTML = "report.html"
TEST_KEYS = (("test_auc", "test AUC"), ("test_acc", "test accuracy"), ("test_eer", "test EER"),
             ("test_loss", "test loss"))
"""The test metrics of the first table, with their intervals (``KEY_ci``) where recorded."""
APART = ("provenance", "bootstrap", "distinguishable_from_chance", "by_category", "by_method")
"""metrics.json keys shown in sections of their own."""
HISTORY_KEYS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "val_auc", "derived_val_acc",
                "derived_val_auc", "temperature", "lr", "seconds")


def write_run_html(run_dir: str | os.PathLike[str], eval_dir: str | os.PathLike[str] | None = None) -> Path:
    """Write ``RUN_DIR/report.html`` (the evaluation found as by :func:`find_eval_dir`); return it."""
    run = Path(run_dir)
    if not run.is_dir():
        raise AutommError(f"{run}: no such run directory")
    arch = load_architecture(run / "arch.json")
    evaluation = find_eval_dir(run, Path(eval_dir) if eval_dir is not None else None)
    metrics = read_evaluation_metrics(evaluation / "metrics.json") if evaluation else None
    eval_arch = evaluation / "arch.json" if evaluation else None
    provenance = [arch.provenance]
    if eval_arch is not None and eval_arch != run / "arch.json" and eval_arch.is_file():
        provenance.append(load_architecture(eval_arch).provenance)
    body = [f"<h1>Report: {esc(run.name)}</h1>", f"<p>{inline_markdown(_summary(arch))}</p>"]
    body += [f"<p>{inline_markdown(s)}</p>" for s in _data_sentences(provenance)]
    flagged = list(dict.fromkeys(n for p in provenance for n in random_init_backbones(p)))
    if flagged:
        body.append(f'<p class="warning">{inline_markdown(_random_init_warning(flagged))}</p>')
    body += ["<h2>Architecture</h2>", _architecture(arch)]
    body += ["<h2>Metrics</h2>", *_metrics(arch, metrics, evaluation)]
    body += ["<h2>Search</h2>", *_search(run)]
    if evaluation is not None:
        body += ["<h2>Evaluation</h2>", *_evaluation(evaluation)]
        robustness = evaluation / "robustness.json"
        if robustness.is_file():
            body += ["<h2>Robustness</h2>", _robustness(read_robustness_file(robustness))]
    body += ["<h2>Provenance</h2>", _provenance(arch, metrics)]
    body += ["<h2>Files</h2>", _files(run, evaluation)]
    return write_page(run / REPORT_HTML, f"automm report: {run.name}", body)



def _architecture(arch: Architecture) -> str:
    try:
        svg = architecture_graph(arch).pipe(format="svg").decode("utf-8")
    except graphviz.ExecutableNotFound:
        return ("<p>Graphviz <code>dot</code> was not found, so the architecture is not drawn; install "
                "Graphviz and report again.</p>")
    return figure(svg, "arch-", "Left to right: the feature taps of each modality, each cell with its "
                  "inputs, steps and chosen operations, then the classifier head.", "fig-architecture")


def _interval(value: Any) -> Any:
    if isinstance(value, list | tuple) and len(value) == 2 and all(isinstance(v, int | float) for v in value):
        return Markup(f"[{value[0]:.4g}, {value[1]:.4g}]")
    return None


def _metrics(arch: Architecture, metrics: Mapping[str, Any] | None, evaluation: Path | None) -> list[str]:
    """Two columns: the test metrics (metrics.json) and the search's validation metrics."""
    out = []
    if metrics is not None:
        with_ci = any(f"{key}_ci" in metrics for key, _ in TEST_KEYS)
        rows = [[label, metrics[key], *([_interval(metrics.get(f"{key}_ci"))] if with_ci else [])]
                for key, label in TEST_KEYS if key in metrics]
        out += ["<p><strong>Test</strong> (metrics.json): the architecture retrained from scratch, scored "
                "once on the test split.</p>",
                table(["metric", "value", *(["95% interval"] if with_ci else [])], rows,
                      table_id="test-metrics")]
        boot = metrics.get("bootstrap")
        if isinstance(boot, Mapping):
            chance = chance_sentence(metrics.get("distinguishable_from_chance"))
            out.append(f"<p class=\"muted\">Intervals: {esc(boot.get('method'))}, "
                       f"{esc(boot.get('resamples'))} resamples, seed {esc(boot.get('seed'))}. "
                       f"<strong>{esc(chance)}</strong></p>")
    elif evaluation is None:
        out.append("<p>No evaluation yet: run <code>automm evaluate</code> and report again for test "
                   "metrics.</p>")
    search = ["<p><strong>Search validation</strong> (arch.json): the derived architecture on the "
              "validation split that also chose it; a guide to the search, not a result.</p>",
              table(["metric", "value"], _flat_rows_of(arch.metrics), table_id="search-metrics")]
    columns = ['<div class="columns"><div>', *out, "</div><div>", *search, "</div></div>"]
    if metrics is None:
        return columns
    groups = [line for key in ("by_category", "by_method") for line in _groups(key[3:], metrics.get(key))]
    shown = {key for key, _ in TEST_KEYS} | {f"{key}_ci" for key, _ in TEST_KEYS} | set(APART)
    rest = _flat_rows_of({k: v for k, v in metrics.items() if k not in shown})
    return [*columns, *groups, "<details><summary>Every other value of metrics.json</summary>",
            table(["metric", "value"], rest, table_id="eval-values"), "</details>"]


def _groups(kind: str, record: Any) -> list[str]:
    groups = record.get("groups") if isinstance(record, Mapping) else None
    if not isinstance(groups, Mapping) or not groups:
        return []
    rows = [[name, g.get("fakes"), g.get("auc"), _interval(g.get("auc_ci"))]
            for name, g in groups.items() if isinstance(g, Mapping)]
    return [f"<p>AUC of the fakes of each {esc(kind)} against all {esc(record.get('reals'))} real test "
            "videos:</p>", table([kind, "fakes", "AUC", "95% interval"], rows, sortable=True)]


def _history_table(records: Sequence[Mapping[str, Any]], table_id: str) -> str:
    families = list(dict.fromkeys(f for r in records for f in (r.get("entropy") or {})))
    keys = [k for k in HISTORY_KEYS if any(k in r for r in records)]
    rows = [[*(r.get(k) for k in keys), *((r.get("entropy") or {}).get(f) for f in families)]
            for r in records]
    headers = [*keys, *(f"entropy {f}" for f in families)]
    return (f"<details><summary>Per-epoch history ({len(records)} epochs)</summary>"
            f"{table(headers, rows, sortable=True, table_id=table_id)}</details>")


def _search(run: Path) -> list[str]:
    path = run / "metrics.jsonl"
    records = read_jsonl(path, EPOCH) if path.is_file() else []
    if not records:
        return ["<p>No search epochs logged (metrics.jsonl is missing or empty).</p>"]
    return [figure(drawn_svg(lambda p: entropy_figure(records, p)), "entropy-",
                   "Entropy of each choice family per epoch (the paper's Figure 1b).", "fig-entropy"),
            figure(drawn_svg(lambda p: training_figure(records, p, title="search")), "training-",
                   "Loss, accuracy and AUC per epoch (derived: the architecture derived after the epoch).",
                   "fig-training"),
            _history_table(records, "search-history")]


def _evaluation(evaluation: Path) -> list[str]:
    out = []
    predictions = evaluation / "predictions.csv"
    if predictions.is_file():
        labels, scores = read_predictions(predictions)
        if len(set(labels)) == 2:
            area: list[float] = []
            svg = drawn_svg(lambda p: area.append(roc_figure(scores, labels, p)))
            caption = f"ROC on the test split ({len(labels)} samples, AUC {area[0]:.4f})."
            out.append(figure(svg, "roc-", caption, "fig-roc"))
        else:
            out.append("<p>The test split has a single class: no ROC curve.</p>")
    history = evaluation / "history.jsonl"
    records = read_jsonl(history, EPOCH) if history.is_file() else []
    if records:
        out += [figure(drawn_svg(lambda p: training_figure(records, p, title="evaluation (retraining)")),
                       "retraining-", "Retraining curves.", "fig-retraining"),
                _history_table(records, "eval-history")]
    return out or [f"<p>{esc(evaluation)}: no predictions.csv or history.jsonl.</p>"]


def _robustness(record: Mapping[str, Any]) -> str:
    conditions = [c for c in record.get("conditions") or () if isinstance(c, Mapping)]
    rows = [[c.get("condition"), c.get("auc"), _interval(c.get("auc_ci")), c.get("acc"), c.get("eer")]
            for c in conditions]
    verdict = f"<p><strong>{esc(record['verdict'])}</strong></p>" if record.get("verdict") else ""
    return (f"<p>The test split with each modality removed or degraded (robustness.json).</p>"
            f"{table(['condition', 'AUC', '95% interval', 'accuracy', 'EER'], rows, table_id='robustness')}"
            f"{verdict}")


def _provenance(arch: Architecture, metrics: Mapping[str, Any] | None) -> str:
    rows = [(f"search: {k}", v) for k, v in _flat_rows_of(arch.provenance)]
    if metrics is not None and isinstance(metrics.get("provenance"), Mapping):
        rows += [(f"evaluation: {k}", v) for k, v in _flat_rows_of(metrics["provenance"])]
    return table(["field", "value"], rows, table_id="provenance")


def _flat_rows_of(record: Mapping[str, Any]) -> list[tuple[str, Any]]:
    return [row for k, v in record.items() for row in _flat_rows(str(k), v)]


def _files(run: Path, evaluation: Path | None) -> str:
    """Links to the files of the run and of its evaluation (relative, so they work where the page is)."""
    folders = [run, *([evaluation] if evaluation is not None and evaluation != run else [])]
    items = []
    for folder in folders:
        for path in sorted(folder.iterdir()):
            if path.is_file() and not path.name.startswith("."):
                items.append(f"<li>{link(relative(path, run), relative(path, run))}</li>")
    return f"<ul>{''.join(items)}</ul>"
