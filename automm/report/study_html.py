"""``report.html`` of a sweep directory and of ``automm report --compare``: the figures inline as
SVG and a sortable table with a row per point or run, linking each one's own report.html."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from automm.ir import load_architecture
from automm.report.compare import read_runs
from automm.report.figures import entropy_compare_figures
from automm.report.html import Markup, drawn_svg, esc, figure, link, relative, table, write_page
from automm.report.run_html import REPORT_HTML
from automm.report.sweep import HEATMAPS, entropy_overlay, heatmap
from automm.sweep.results import FAILED, OK, read_sweep
from automm.train.evaluation_metrics import read_evaluation_metrics

POINT_COLUMNS = ("status", "test_auc", "test_acc", "test_eer", "search_val_auc", "params", "epochs",
                 "search_seconds", "evaluate_seconds", "error")
"""Columns of the sweep's table of points, after the key and the axis values."""


def run_link(run: Path, page_dir: Path) -> Any:
    """A link to the run's report.html when it exists, else to the run directory."""
    target = run / REPORT_HTML if (run / REPORT_HTML).is_file() else run
    return link(relative(target, page_dir), run.name)


def write_sweep_html(sweep_dir: str | os.PathLike[str]) -> Path:
    """Write ``SWEEP_DIR/report.html``: the heatmaps, the entropy overlay and every point."""
    root = Path(sweep_dir)
    axes, rows, record = read_sweep(root)
    failed = sum(r.get("status") == FAILED for r in rows)
    title = f"Sweep: {record.get('strategy')} on {record.get('space')}"
    body = [f"<h1>{esc(title)}</h1>",
            f"<p>{len(rows)} points ({len(rows) - failed} finished, {failed} failed); axes "
            f"{esc(', '.join(a.name for a in axes) or 'seed only')}; data {esc(record.get('data'))}.</p>"]
    if any(r.get("status") == OK for r in rows):
        body.append("<h2>Test AUC and parameters over the grid</h2>")
        for column, label, _ in HEATMAPS:
            svg = drawn_svg(lambda p, c=column, lab=label: heatmap(axes, rows, c, lab, p))
            body.append(figure(svg, f"{column}-", f"{esc(label)}: mean over seeds per grid cell.",
                               f"fig-heatmap-{column}"))
        overlay = drawn_svg(lambda p: entropy_overlay(root, axes, rows, p))  # None: no entropy recorded
        body.append(figure(overlay, "overlay-", "Entropy per epoch of every point.", "fig-entropy-overlay"))
    names = [a.name for a in axes]
    table_rows = [[run_link(root / r["run_dir"], root) if r.get("run_dir") else r.get("key"),
                   *(r.get(n) for n in names),
                   *(r.get(c) for c in POINT_COLUMNS)] for r in rows]
    body += ["<h2>Points</h2>", "<p>Click a column's header to sort by it.</p>",
             table(["point", *names, *POINT_COLUMNS], table_rows, sortable=True, table_id="points")]
    return write_page(root / REPORT_HTML, title, body)


def write_compare_html(run_dirs: Sequence[str | os.PathLike[str]], out_dir: str | os.PathLike[str]) -> Path:
    """Write ``OUT_DIR/report.html``: the entropy of the runs overlaid and a table of the runs."""
    out = Path(out_dir)
    runs = read_runs(run_dirs)
    svg = drawn_svg(lambda p: entropy_compare_figures(runs, p.parent, suffix=".svg"), "entropy-compare.svg")
    rows = [_compare_row(Path(run), label, out) for run, label in zip(run_dirs, runs, strict=True)]
    body = ["<h1>Comparison of runs</h1>",
            figure(svg, "compare-", "Entropy of each choice family per epoch, one line per run (the paper's "
                   "Figure 1b).", "fig-entropy-compare"),
            table(["run", "strategy", "epochs", "search val AUC", "test AUC", "params"], rows, sortable=True,
                  table_id="runs")]
    return write_page(out / REPORT_HTML, "automm: comparison of runs", body)


def _compare_row(run: Path, label: str, page_dir: Path) -> list[Any]:
    arch = load_architecture(run / "arch.json") if (run / "arch.json").is_file() else None
    metrics: Mapping[str, Any] = arch.metrics if arch is not None else {}
    test = run / "eval" / "metrics.json"
    test_auc = read_evaluation_metrics(test).get("test_auc") if test.is_file() else None
    return [run_link(run, page_dir), label.removeprefix(f"{run.name} "), metrics.get("epochs"),
            metrics.get("val_auc"), test_auc, metrics.get("params")]


INDEX_HTML = "index.html"
INDEX_HEADERS = ("run", "kind", "strategy", "settings", "search val AUC", "test AUC", "params", "epochs",
                 "duration (s)", "status")


def write_index_html(root: str | os.PathLike[str], rows: Sequence[Mapping[str, Any]]) -> Path:
    """Write ``ROOT/index.html``: the leaderboard ``rows`` (of :func:`automm.leaderboard.find_runs`)
    as a table sortable in the browser, each run linking its report.html (else its directory)."""
    from automm.leaderboard import settings_text

    base = Path(root)
    table_rows = []
    for r in rows:
        target = base / ((r["report"] and relative(Path(r["report"]), base)) or r["run"])
        table_rows.append([link(relative(target, base), r["run"]), r["kind"], r["strategy"],
                           settings_text(r["settings"]), r["search_val_auc"], r["test_auc"], r["params"],
                           r["epochs"], r["seconds"], Markup(f'<span class="status-{esc(r["status"])}">'
                                                              f'{esc(r["status"])}</span>')])
    body = [f"<h1>Runs in {esc(base.resolve().name)}</h1>",
            f"<p>{len(rows)} searches and evaluations. Click a column's header to sort by it; a run's name "
            "opens its report (<code>automm report RUN</code> writes it).</p>",
            table(INDEX_HEADERS, table_rows, sortable=True, table_id="runs")]
    return write_page(base / INDEX_HTML, f"automm runs: {base.resolve().name}", body)
