"""Figures of a search run and of an evaluation, drawn with matplotlib's Agg canvas (no display).

Every figure ``NAME.png`` is written at print resolution (:data:`DPI`) beside its vector form
``NAME.pdf`` and a one-column variant (:data:`COLUMN_WIDTH` inches wide, panels stacked)
``NAME-column.png`` and ``NAME-column.pdf`` (:func:`variants`), all atomically; legends sit below
the panels, outside the axes, so they never cover data; axes never use offset notation and
epoch axes have integer ticks.
"""

from __future__ import annotations

import math
import os
import textwrap
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from automm.errors import AutommError
from automm.fileio import atomic_path
from automm.ir import CELL_INPUT, OP_FAMILY, STEP_INPUT
from automm.train.metrics import equal_error_rate, roc_auc, roc_curve

DPI = 300
"""Resolution of every PNG (print quality; recorded in the file's pHYs chunk)."""
COLUMN_WIDTH = 3.5
"""Inches: one column of a two-column paper."""
COLUMN = "-column"
"""Suffix of the one-column variant's file name."""
VECTOR = ".pdf"
STYLE = {"axes.formatter.useoffset": False}
"""matplotlib settings of every figure (no ``+1e3`` offsets on the axes)."""
COLUMN_STYLE = {**STYLE, "font.size": 7.0, "lines.markersize": 4.0}

FAMILY_SYMBOLS = {CELL_INPUT: "α", STEP_INPUT: "β", OP_FAMILY: "γ"}
"""The paper's symbol of each built-in choice family (legend labels)."""

TRAINING_PANELS: tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...] = (
    ("loss", (("train_loss", "train", "C0-"), ("val_loss", "validation", "C1-"))),
    ("accuracy", (("train_acc", "train", "C0-"), ("val_acc", "validation", "C1-"),
                  ("derived_val_acc", "derived, validation", "C2--"))),
    ("AUC", (("val_auc", "validation", "C1-"), ("derived_val_auc", "derived, validation", "C2--"))),
)
"""Panels of :func:`training_figure`: title, then (record key, legend label, matplotlib format)."""

UNIFORM = "uniform distribution (maximum entropy)"
"""Legend label of the dotted lines at the entropy of uniform architecture distributions."""

Draw = Callable[[bool], Figure]
"""Draws a figure: wide (False) or one column wide (True)."""


def variants(out: str | os.PathLike[str]) -> list[Path]:
    """The files of the figure ``out``: for ``NAME.png``, ``NAME.png``, ``NAME.pdf``,
    ``NAME-column.png``, ``NAME-column.pdf``; for ``NAME.svg`` (the HTML report's) that file alone."""
    path = Path(out)
    if path.suffix == ".svg":
        return [path]
    column = path.with_name(path.stem + COLUMN + path.suffix)
    return [path, path.with_suffix(VECTOR), column, column.with_suffix(VECTOR)]


def entropy_figure(records: Sequence[Mapping[str, Any]], out: str | os.PathLike[str],
                   uniform: Mapping[str, float] | None = None) -> Path:
    """Entropy of each choice family per epoch (the paper's Figure 1b) from metrics.jsonl records,
    with a dotted line at each family's entropy under uniform distributions (``uniform``)."""
    families: dict[str, None] = {}
    for r in records:
        families.update(dict.fromkeys(r.get("entropy") or {}))

    def draw(column: bool) -> Figure:
        fig = _figure(1, column=column)
        ax = fig.axes[0]
        epochs = _epochs(records)
        for family in families:
            values = [_number((r.get("entropy") or {}).get(family)) for r in records]
            symbol = FAMILY_SYMBOLS.get(family)
            (line,) = ax.plot(epochs, values, marker=".", label=f"{family} ({symbol})" if symbol else family)
            if uniform and family in uniform:
                ax.axhline(uniform[family], color=line.get_color(), linestyle=":", linewidth=1)
        _epoch_axis(ax)
        ax.set(ylabel="entropy (nats)", title="Entropy of the architecture distributions")
        _uniform_legend(fig, bool(uniform))
        return fig

    return _publish(draw, out)


def entropy_compare_figures(runs: Mapping[str, Sequence[Mapping[str, Any]]],
                            out_dir: str | os.PathLike[str],
                            uniform: Mapping[str, float] | None = None, suffix: str = ".png") -> list[Path]:
    """Entropy per epoch of several runs overlaid (the paper's Figure 1b: STGS against softmax):
    ``entropy-compare.png`` with one panel per choice family, and ``entropy-compare-FAMILY.png``
    for each family alone (each with :func:`variants`; ``suffix`` ``.svg``: as one SVG each).
    ``runs`` maps a legend label to a run's metrics.jsonl records; ``uniform`` gives a family's
    entropy under uniform distributions."""
    families: dict[str, None] = {}
    for records in runs.values():
        for r in records:
            families.update(dict.fromkeys(r.get("entropy") or {}))
    if not families:
        raise AutommError("no entropy recorded in the runs to compare")
    out = Path(out_dir)

    def draw(selected: Sequence[str]) -> Draw:
        def figure(column: bool) -> Figure:
            fig = _figure(len(selected), column=column)
            for ax, family in zip(fig.axes, selected, strict=True):
                for label, records in runs.items():
                    values = [_number((r.get("entropy") or {}).get(family)) for r in records]
                    ax.plot(_epochs(records), values, marker=".", label=label)
                if uniform and family in uniform:
                    ax.axhline(uniform[family], color="grey", linestyle=":", linewidth=1)
                symbol = FAMILY_SYMBOLS.get(family)
                _epoch_axis(ax)
                ax.set(ylabel="entropy (nats)", title=f"{family} ({symbol})" if symbol else family)
            _uniform_legend(fig, bool(uniform))
            return fig

        return figure

    written = variants(_publish(draw(list(families)), out / f"entropy-compare{suffix}"))
    for family in families:
        written += variants(_publish(draw([family]), out / f"entropy-compare-{family}{suffix}"))
    return written


def training_figure(records: Sequence[Mapping[str, Any]], out: str | os.PathLike[str],
                    title: str = "", best_epoch: int | None = None) -> Path:
    """Loss, accuracy and AUC per epoch: one panel each among :data:`TRAINING_PANELS` with data;
    a dashed line marks ``best_epoch`` (the selected epoch)."""
    panels = [(name, [s for s in series if any(_present(r.get(s[0])) for r in records)])
              for name, series in TRAINING_PANELS]
    panels = [(name, series) for name, series in panels if series]

    def draw(column: bool) -> Figure:
        fig = _figure(max(len(panels), 1), column=column)
        epochs = _epochs(records)
        for ax, (name, series) in zip(fig.axes, panels, strict=False):
            for key, label, style in series:
                ax.plot(epochs, _series(records, key), style, marker=".", label=label)
            if best_epoch is not None:
                ax.axvline(best_epoch, color="black", linestyle="--", linewidth=0.8,
                           label=f"selected epoch ({best_epoch})")
            _epoch_axis(ax)
            ax.set(title=name)
        if title:
            fig.suptitle(title)
        return fig

    return _publish(draw, out)


def roc_figure(scores: Sequence[float], labels: Sequence[int], out: str | os.PathLike[str]) -> float:
    """ROC curve with its AUC in the legend and its equal-error-rate point marked; returns the
    AUC (both classes must occur)."""
    fpr, tpr = roc_curve(scores, labels)
    area = roc_auc(scores, labels)
    eer = equal_error_rate(scores, labels)

    def draw(column: bool) -> Figure:
        fig = _figure(1, width=4.5, column=column, height=COLUMN_WIDTH if column else None)
        ax = fig.axes[0]
        ax.plot(fpr, tpr, label=f"AUC = {area:.4f}")
        ax.plot([0, 1], [0, 1], ":", color="grey", label="chance")
        ax.plot([eer], [1 - eer], "o", color="C3", label=f"EER = {eer:.4f}")
        ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC (test split)",
               xlim=(0, 1), ylim=(0, 1.01), aspect="equal")
        return fig

    _publish(draw, out)
    return area


def robustness_figure(record: Mapping[str, Any], out: str | os.PathLike[str]) -> Path:
    """Test AUC with its interval under each condition of a robustness.json ``record``, against
    the clean AUC and chance."""
    rows = list(record["conditions"])

    def draw(column: bool) -> Figure:
        height = 0.8 + 0.22 * len(rows) if column else 1.2 + 0.3 * len(rows)
        fig = _figure(1, width=6.0, column=column, height=height)
        ax = fig.axes[0]
        y = list(range(len(rows)))[::-1]
        auc = [_number(r.get("auc")) for r in rows]
        ci = [r.get("auc_ci") or [math.nan, math.nan] for r in rows]
        errors = [[max(a - lo, 0) for a, (lo, _) in zip(auc, ci, strict=True)],
                  [max(hi - a, 0) for a, (_, hi) in zip(auc, ci, strict=True)]]
        ax.errorbar(auc, y, xerr=errors, fmt="o", color="C0", capsize=2, label="test AUC (95% interval)")
        if not math.isnan(auc[0]):
            ax.axvline(auc[0], color="C0", linestyle="--", linewidth=0.8, label="clean inputs")
        ax.axvline(0.5, color="grey", linestyle=":", label="chance")
        ax.set_yticks(y, [str(r["condition"]) for r in rows])
        ax.set(xlabel="test AUC", xlim=(0, 1.02), title="Missing and degraded modalities")
        return fig

    return _publish(draw, out)


def _figure(panels: int, width: float = 4.8, *, column: bool = False, height: float | None = None) -> Figure:
    """An empty figure of ``panels`` axes side by side (``width`` inches each), or, for a
    one-column variant, :data:`COLUMN_WIDTH` wide with the panels stacked."""
    if column:
        size = (COLUMN_WIDTH, height if height is not None else 2.4 * panels)
    else:
        size = (width * panels, height if height is not None else 3.6)
    fig = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(fig)
    for i in range(panels):
        ax = fig.add_subplot(panels, 1, i + 1) if column else fig.add_subplot(1, panels, i + 1)
        ax.grid(alpha=0.3)
    return fig


def _epoch_axis(ax: Axes) -> None:
    """Label the x axis ``epoch`` with integer ticks."""
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")


def _uniform_legend(fig: Figure, uniform: bool) -> None:
    """The legend below the panels, with an entry for the dotted uniform-entropy lines if drawn."""
    proxy = [Line2D([], [], color="grey", linestyle=":", label=UNIFORM)] if uniform else []
    legend_below(fig, proxy)


def legend_below(fig: Figure, handles: Sequence[Artist] = ()) -> Legend | None:
    """One legend for all panels of ``fig`` (each label once; or of ``handles``, e.g. proxy
    lines), outside the axes below them, in as many columns as fit the figure's width (labels
    wrapped when one column is too wide); None when nothing has a label."""
    entries: dict[str, Artist] = {}
    for ax in fig.axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            entries.setdefault(label, handle)
    entries.update((h.get_label(), h) for h in handles)
    if not entries:
        return None
    renderer = fig.canvas.get_renderer()
    layouts = [(columns, 0) for columns in range(len(entries), 0, -1)] + [(1, 48), (1, 32), (1, 20)]
    for columns, wrap in layouts:
        labels = [textwrap.fill(label, wrap) if wrap else label for label in entries]
        legend = fig.legend(list(entries.values()), labels, loc="outside lower center", ncols=columns,
                            frameon=False)
        if legend.get_window_extent(renderer).width <= fig.bbox.width or (columns, wrap) == layouts[-1]:
            break
        legend.remove()
    return legend


def _publish(draw: Draw, out: str | os.PathLike[str]) -> Path:
    """Write ``draw(False)`` to ``out`` and ``draw(True)`` to its one-column name, each as PNG
    and PDF (:func:`variants`; an SVG ``out``: ``draw(False)`` alone), in the style of
    :data:`STYLE` or :data:`COLUMN_STYLE`; return ``out``."""
    files = variants(out)
    for narrow, target in [(False, files[0]), *([(True, files[2])] if len(files) > 1 else [])]:
        with matplotlib.rc_context(COLUMN_STYLE if narrow else STYLE):
            _save(draw(narrow), target)
    return files[0]


def _save(fig: Figure, out: str | os.PathLike[str]) -> Path:
    """Add the legend (:func:`legend_below`) unless ``fig`` has one, and write ``fig`` to ``out``
    as a PNG of :data:`DPI` and beside it as a PDF (as SVG alone when ``out`` ends in ``.svg``: the
    HTML report's figures)."""
    path = Path(out)
    if not fig.legends:
        legend_below(fig)
    try:
        if path.suffix == ".svg":
            with atomic_path(path) as tmp:
                fig.savefig(tmp, format="svg", metadata={"Date": None})
        pairs = () if path.suffix == ".svg" else ((path, "png"), (path.with_suffix(VECTOR), "pdf"))
        for target, fmt in pairs:
            with atomic_path(target) as tmp:
                fig.savefig(tmp, format=fmt, dpi=DPI)
    except OSError as exc:
        raise AutommError(f"{path}: cannot write: {exc.strerror or exc}") from None
    return path


def _present(value: Any) -> bool:
    return not math.isnan(_number(value))


def _number(value: Any) -> float:
    """A finite-or-NaN float (missing, null and non-numbers become NaN: a gap in the line)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return math.nan
    return float(value)


def _series(records: Sequence[Mapping[str, Any]], key: str) -> list[float]:
    return [_number(r.get(key)) for r in records]


def _epochs(records: Sequence[Mapping[str, Any]]) -> list[float]:
    """The ``epoch`` of each record (its 1-based position when missing)."""
    return [_number(r.get("epoch", i + 1)) for i, r in enumerate(records)]
