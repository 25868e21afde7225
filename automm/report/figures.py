"""Figures of a search run and of an evaluation, drawn with matplotlib's Agg canvas (no display).

Every figure is a PNG at print resolution (:data:`DPI`) written atomically; legends sit below
the panels, outside the axes, so they never cover data.
"""

from __future__ import annotations

import math
import os
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend

from automm.errors import AutommError
from automm.fileio import atomic_path
from automm.ir import CELL_INPUT, OP_FAMILY, STEP_INPUT
from automm.train.metrics import roc_auc, roc_curve

DPI = 300
"""Resolution of every PNG (print quality; recorded in the file's pHYs chunk)."""

FAMILY_SYMBOLS = {CELL_INPUT: "α", STEP_INPUT: "β", OP_FAMILY: "γ"}
"""The paper's symbol of each built-in choice family (legend labels)."""

TRAINING_PANELS: tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...] = (
    ("loss", (("train_loss", "train", "C0-"), ("val_loss", "validation", "C1-"))),
    ("accuracy", (("train_acc", "train", "C0-"), ("val_acc", "validation", "C1-"),
                  ("derived_val_acc", "derived, validation", "C2--"))),
    ("AUC", (("val_auc", "validation", "C1-"), ("derived_val_auc", "derived, validation", "C2--"))),
)
"""Panels of :func:`training_figure`: title, then (record key, legend label, matplotlib format)."""


def entropy_figure(records: Sequence[Mapping[str, Any]], out: str | os.PathLike[str]) -> Path:
    """Entropy of each choice family per epoch (the paper's Figure 1b) from metrics.jsonl records."""
    families: dict[str, None] = {}
    for r in records:
        families.update(dict.fromkeys(r.get("entropy") or {}))
    fig = _figure(1)
    ax = fig.axes[0]
    epochs = _epochs(records)
    for family in families:
        values = [_number((r.get("entropy") or {}).get(family)) for r in records]
        symbol = FAMILY_SYMBOLS.get(family)
        ax.plot(epochs, values, marker=".", label=f"{family} ({symbol})" if symbol else family)
    ax.set(xlabel="epoch", ylabel="entropy (nats)", title="Entropy of the architecture distributions")
    return _save(fig, out)


def entropy_compare_figures(runs: Mapping[str, Sequence[Mapping[str, Any]]],
                            out_dir: str | os.PathLike[str], suffix: str = ".png") -> list[Path]:
    """Entropy per epoch of several runs overlaid (the paper's Figure 1b: STGS against softmax):
    ``entropy-compare.png`` with one panel per choice family, and ``entropy-compare-FAMILY.png``
    for each family alone (``suffix`` ``.svg``: as SVG). ``runs`` maps a legend label to a run's
    metrics.jsonl records."""
    families: dict[str, None] = {}
    for records in runs.values():
        for r in records:
            families.update(dict.fromkeys(r.get("entropy") or {}))
    if not families:
        raise AutommError("no entropy recorded in the runs to compare")
    out = Path(out_dir)
    fig = _figure(len(families))
    panels = [(fig, ax, family) for ax, family in zip(fig.axes, families, strict=True)]
    singles = []
    for family in families:
        single = _figure(1)
        singles.append((single, family))
        panels.append((single, single.axes[0], family))
    for _, ax, family in panels:
        for label, records in runs.items():
            values = [_number((r.get("entropy") or {}).get(family)) for r in records]
            ax.plot(_epochs(records), values, marker=".", label=label)
        symbol = FAMILY_SYMBOLS.get(family)
        ax.set(xlabel="epoch", ylabel="entropy (nats)",
               title=f"{family} ({symbol})" if symbol else family)
    written = [_save(fig, out / f"entropy-compare{suffix}")]
    written += [_save(single, out / f"entropy-compare-{family}{suffix}") for single, family in singles]
    return written


def training_figure(records: Sequence[Mapping[str, Any]], out: str | os.PathLike[str],
                    title: str = "") -> Path:
    """Loss, accuracy and AUC per epoch: one panel each among :data:`TRAINING_PANELS` with data."""
    panels = [(name, [s for s in series if any(_present(r.get(s[0])) for r in records)])
              for name, series in TRAINING_PANELS]
    panels = [(name, series) for name, series in panels if series]
    fig = _figure(max(len(panels), 1))
    epochs = _epochs(records)
    for ax, (name, series) in zip(fig.axes, panels, strict=False):
        for key, label, style in series:
            ax.plot(epochs, _series(records, key), style, marker=".", label=label)
        ax.set(xlabel="epoch", title=name)
    if title:
        fig.suptitle(title)
    return _save(fig, out)


def roc_figure(scores: Sequence[float], labels: Sequence[int], out: str | os.PathLike[str]) -> float:
    """ROC curve with its AUC in the legend; returns the AUC (both classes must occur)."""
    fpr, tpr = roc_curve(scores, labels)
    area = roc_auc(scores, labels)
    fig = _figure(1, width=4.5)
    ax = fig.axes[0]
    ax.plot(fpr, tpr, label=f"AUC = {area:.4f}")
    ax.plot([0, 1], [0, 1], ":", color="grey", label="chance")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC (test split)",
           xlim=(0, 1), ylim=(0, 1.01), aspect="equal")
    _save(fig, out)
    return area


def _figure(panels: int, width: float = 4.8) -> Figure:
    fig = Figure(figsize=(width * panels, 3.6), layout="constrained")
    FigureCanvasAgg(fig)
    for i in range(panels):
        ax = fig.add_subplot(1, panels, i + 1)
        ax.grid(alpha=0.3)
    return fig


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


def _save(fig: Figure, out: str | os.PathLike[str]) -> Path:
    """Add the legend (:func:`legend_below`) unless ``fig`` has one, and write ``fig`` to ``out``
    as a PNG of :data:`DPI` (as SVG when ``out`` ends in ``.svg``: the HTML report's figures)."""
    path = Path(out)
    if not fig.legends:
        legend_below(fig)
    try:
        with atomic_path(path) as tmp:
            if path.suffix == ".svg":
                fig.savefig(tmp, format="svg", metadata={"Date": None})
            else:
                fig.savefig(tmp, format="png", dpi=DPI)
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
