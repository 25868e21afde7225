"""Table and figures of a sweep (``automm sweep``, ``automm report SWEEP_DIR``) from its
sweep.json and results.jsonl: ``table.md`` in the layout of the paper's Table 3 (rows: the first
axis, columns: the second, cells: mean +- sd over seeds of test AUC and of parameters; one table
per value of any further axis), ``heatmap-auc.png``, ``heatmap-params.png`` and
``entropy-overlay.png`` (the entropy per epoch of every point, coloured by the first axis)."""

from __future__ import annotations

import itertools
import math
import os
import statistics
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from automm.fileio import write_text
from automm.ir import load_architecture
from automm.report.build import read_jsonl
from automm.report.figures import FAMILY_SYMBOLS, _epoch_axis, _epochs, _figure, _number, _publish, variants
from automm.report.latex import PREAMBLE, tabular
from automm.report.latex import escape as latex_escape
from automm.report.markdown import escape, table
from automm.report.provenance import how_it_ran
from automm.sweep.grid import Axis, format_value, plain
from automm.sweep.results import OK, read_sweep
from automm.train.evaluation_metrics import read_evaluation_metrics
from automm.train.records import EPOCH

TABLE = "table.md"
LATEX = "table.tex"
HEATMAPS = (("test_auc", "test AUC", "heatmap-auc.png"), ("params", "params", "heatmap-params.png"))
"""Column, label and file of each heatmap."""
OVERLAY = "entropy-overlay.png"

Group = tuple[tuple[Axis, Any], ...]
"""Values of the axes after the first two: one table (and heatmap panel) each."""


def best_row(rows: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The finished point with the highest test AUC (None when none has one)."""
    scored = [r for r in rows if r.get("status") == OK and isinstance(r.get("test_auc"), int | float)]
    return max(scored, key=lambda r: r["test_auc"]) if scored else None


def write_sweep_report(sweep_dir: str | os.PathLike[str], *, latex: bool = False) -> list[Path]:
    """Write table.md (with ``latex`` also table.tex), the heatmaps and the entropy overlay
    into ``sweep_dir``; return them."""
    root = Path(sweep_dir)
    axes, rows, record = read_sweep(root)
    figures = []
    if any(r.get("status") == OK for r in rows):
        figures += [heatmap(axes, rows, column, label, root / name) for column, label, name in HEATMAPS]
        overlay = entropy_overlay(root, axes, rows, root / OVERLAY)
        figures += [overlay] if overlay is not None else []
    lines = table_markdown(axes, rows, record, [p.name for p in figures])
    first = next((r for r in rows if r.get("status") == OK), None)
    if first is not None:
        lines += ["", "## How this was run", "", f"The first finished point ({escape(first['key'])}); every "
                  "point's arch.json and eval/metrics.json record their own.", "",
                  *how_it_ran(_point_records(root / first["run_dir"]))]
    write_text(root / TABLE, "\n".join(lines) + "\n")
    written = [root / TABLE, *(v for p in figures for v in variants(p))]
    if latex:
        seeds = next((a["values"] for a in record.get("axes", []) if a.get("kind") == "seed"), [])
        write_text(root / LATEX, sweep_latex(axes, rows, len(seeds)))
        written.append(root / LATEX)
    return written


def _point_records(run: Path) -> dict[str, Any]:
    """The provenance of a point's search and evaluation (what they record)."""
    records = {}
    for name, path in (("search", run / "arch.json"), ("evaluation", run / "eval" / "metrics.json")):
        if path.is_file():
            doc = read_evaluation_metrics(path) if name == "evaluation" else load_architecture(path).to_dict()
            if doc.get("provenance"):
                records[name] = doc["provenance"]
    return records


def sweep_latex(axes: Sequence[Axis], rows: Sequence[Mapping[str, Any]], seeds: int) -> str:
    """The Table 3 layout of table.md as LaTeX tabulars (one per group of further axes)."""
    parts = [PREAMBLE]
    (row_axis, row_values), (col_axis, col_values) = _side(axes, 0), _side(axes, 1)
    for group in _groups(axes):
        if group:
            parts.append("% " + ", ".join(f"{a.name}={format_value(v)}" for a, v in group) + "\n")
        grids = {column: _grid(axes, rows, group, column) for column, _, _ in TABLE_METRICS}
        body = []
        for i, rv in enumerate(row_values):
            for n, (column, label, fmt) in enumerate(TABLE_METRICS):
                first = f"{row_axis.name}={format_value(rv)}" if row_axis and n == 0 else ""
                cells = [_cell(values, fmt.format, seeds) for values in grids[column][i]]
                body.append([latex_escape(c).replace("±", "$\\pm$") for c in (first, label, *cells)])
        corner = " / ".join(a.name for a in (row_axis, col_axis) if a is not None)
        columns = [f"{col_axis.name}={format_value(v)}" if col_axis else "all" for v in col_values]
        head = [corner, "", *columns]
        parts.append(tabular(head, body, "ll" + "r" * len(col_values)))
    return "".join(parts)


def table_markdown(axes: Sequence[Axis], rows: Sequence[Mapping[str, Any]], record: Mapping[str, Any],
                   figures: Sequence[str] = ()) -> list[str]:
    """table.md's lines: the settings, the Table 3 layout (one table per group), the figures
    and the failed points with their errors."""
    failed = [r for r in rows if r.get("status") != OK]
    seeds = next((a["values"] for a in record.get("axes", []) if a.get("kind") == "seed"), [])
    search, evaluate = record.get("search", {}), record.get("evaluate", {})
    lines = [f"# Sweep: {escape(record.get('strategy'))} on {escape(record.get('space'))}", "",
             f"{len(rows)} points ({len(rows) - len(failed)} finished, {len(failed)} failed); seeds "
             f"{escape(', '.join(map(str, seeds)))}; search at most {escape(search.get('epochs'))} epochs "
             f"(batch {escape(search.get('batch_size'))}), evaluation {escape(evaluate.get('epochs'))} "
             f"epochs (batch {escape(evaluate.get('batch_size'))}); data {escape(record.get('data'))}.", "",
             "Cells: mean ± sd over the finished seeds (n when fewer than all) of the test AUC and of the "
             "derived network's fusion parameters.", ""]
    for group in _groups(axes):
        if group:
            lines += [f"## {escape(', '.join(f'{a.name}={format_value(v)}' for a, v in group))}", ""]
        lines += [*_table(axes, rows, group, len(seeds)), ""]
    lines += [f"![{name}]({name})" for name in figures]
    if failed:
        lines += ["", "## Failed points", ""]
        lines += [f"- {escape(r.get('key'))}: {escape(r.get('error'))}" for r in failed]
    return lines


def _groups(axes: Sequence[Axis]) -> list[Group]:
    rest = axes[2:]
    return [tuple(zip(rest, combo, strict=True)) for combo in itertools.product(*(a.values for a in rest))]


def _select(rows: Sequence[Mapping[str, Any]], fixed: Sequence[tuple[Axis, Any]]) -> list[Mapping[str, Any]]:
    return [r for r in rows if r.get("status") == OK and all(r.get(a.name) == plain(v) for a, v in fixed)]


def _side(axes: Sequence[Axis], index: int) -> tuple[Axis | None, tuple[Any, ...]]:
    """The axis of rows (0) or columns (1) and its values (one ``None`` without such an axis)."""
    axis = axes[index] if len(axes) > index else None
    return axis, axis.values if axis else (None,)


def _grid(axes: Sequence[Axis], rows: Sequence[Mapping[str, Any]], group: Group, column: str
          ) -> list[list[list[float]]]:
    """Per (row value, column value) of ``group``, the finished points' numbers in ``column``."""
    (row_axis, row_values), (col_axis, col_values) = _side(axes, 0), _side(axes, 1)
    out = []
    for rv in row_values:
        line = []
        for cv in col_values:
            fixed = [*group, *((a, v) for a, v in ((row_axis, rv), (col_axis, cv)) if a is not None)]
            numbers = [_number(r.get(column)) for r in _select(rows, fixed)]
            line.append([v for v in numbers if v == v])
        out.append(line)
    return out


TABLE_METRICS = (("test_auc", "test AUC", "{:.3f}"), ("params", "params", "{:,.0f}"))
"""Column, label and number format of the two lines per row of table.md."""


def _table(axes: Sequence[Axis], rows: Sequence[Mapping[str, Any]], group: Group, seeds: int) -> list[str]:
    (row_axis, row_values), (col_axis, col_values) = _side(axes, 0), _side(axes, 1)
    corner = " \\ ".join(a.name for a in (row_axis, col_axis) if a is not None)
    head = [corner, "", *(f"{col_axis.name}={format_value(v)}" if col_axis else "all" for v in col_values)]
    grids = {column: _grid(axes, rows, group, column) for column, _, _ in TABLE_METRICS}
    body = []
    for i, rv in enumerate(row_values):
        for n, (column, label, fmt) in enumerate(TABLE_METRICS):
            first = f"{row_axis.name}={format_value(rv)}" if row_axis and n == 0 else ""
            body.append([first, label, *(_cell(values, fmt.format, seeds) for values in grids[column][i])])
    return table(head, body)


def _cell(numbers: Sequence[float], fmt: Callable[[float], str], seeds: int) -> str:
    if not numbers:
        return "n/a"
    text = fmt(statistics.fmean(numbers))
    if len(numbers) > 1:
        text += f" ± {fmt(statistics.stdev(numbers))}"
    return text + (f" (n={len(numbers)})" if len(numbers) < seeds else "")


def heatmap(axes: Sequence[Axis], rows: Sequence[Mapping[str, Any]], column: str, label: str,
            out: str | os.PathLike[str]) -> Path:
    """Mean of ``column`` over seeds per (first axis, second axis) cell, one panel per group."""
    return _publish(lambda narrow: _heatmap(axes, rows, column, label, narrow), out)


def _heatmap(axes: Sequence[Axis], rows: Sequence[Mapping[str, Any]], column: str, label: str,
             narrow: bool) -> Figure:
    groups = _groups(axes)
    (row_axis, row_values), (col_axis, col_values) = _side(axes, 0), _side(axes, 1)
    fig = _figure(len(groups), width=1.2 + 1.1 * len(col_values), column=narrow)
    for ax, group in zip(fig.axes, groups, strict=True):
        means = [[statistics.fmean(v) if v else math.nan for v in line]
                 for line in _grid(axes, rows, group, column)]
        image = ax.imshow(means, cmap="viridis", aspect="auto")
        ax.grid(False)
        for i, line in enumerate(means):
            for j, value in enumerate(line):
                if value == value:
                    text = f"{value:,.0f}" if column == "params" else f"{value:.3f}"
                    ax.text(j, i, text, ha="center", va="center", fontsize="small",
                            color="black" if image.norm(value) > 0.6 else "white")  # on yellow: black
        ax.set_xticks(range(len(col_values)), [format_value(v) if col_axis else "" for v in col_values])
        ax.set_yticks(range(len(row_values)), [format_value(v) if row_axis else "" for v in row_values])
        title = [f"{label} (mean over seeds)", *(f"{a.name}={format_value(v)}" for a, v in group)]
        ax.set(xlabel=col_axis.name if col_axis else "", ylabel=row_axis.name if row_axis else "",
               title=", ".join(title))
        fig.colorbar(image, ax=ax)
    return fig


def entropy_overlay(sweep_dir: Path, axes: Sequence[Axis], rows: Sequence[Mapping[str, Any]],
                    out: str | os.PathLike[str]) -> Path | None:
    """The entropy per epoch of every finished point, one panel per choice family, coloured by
    the value of the first axis (None when no point has recorded any)."""
    runs = [(r, read_jsonl(sweep_dir / r["run_dir"] / "metrics.jsonl", EPOCH)) for r in rows
            if r.get("status") == OK and (sweep_dir / r["run_dir"] / "metrics.jsonl").is_file()]
    families: dict[str, None] = {}
    for _, records in runs:
        for record in records:
            families.update(dict.fromkeys(record.get("entropy") or {}))
    if not families:
        return None
    colour_axis = axes[0].name if axes else "seed"
    values = list(dict.fromkeys(format_value(r.get(colour_axis)) for r, _ in runs))
    colours = colormaps["viridis"].resampled(max(len(values), 2))

    def draw(column: bool) -> Figure:
        fig = _figure(len(families), column=column)
        for ax, family in zip(fig.axes, families, strict=True):
            for row, records in runs:
                series = [_number((rec.get("entropy") or {}).get(family)) for rec in records]
                colour = colours(values.index(format_value(row.get(colour_axis))))
                ax.plot(_epochs(records), series, color=colour, alpha=0.6, linewidth=1)
            symbol = FAMILY_SYMBOLS.get(family)
            _epoch_axis(ax)
            ax.set(ylabel="entropy (nats)", title=f"{family} ({symbol})" if symbol else family)
        handles = [Line2D([], [], color=colours(i), label=f"{colour_axis}={v}") for i, v in enumerate(values)]
        fig.axes[-1].legend(handles=handles, fontsize="small")
        return fig

    return _publish(draw, out)
