"""Figures and ``report.md`` of search runs and evaluations (matplotlib, Agg canvas)."""

from automm.report.build import find_eval_dir, read_jsonl, read_predictions, write_report
from automm.report.figures import entropy_figure, roc_figure, training_figure

__all__ = [
    "entropy_figure",
    "find_eval_dir",
    "read_jsonl",
    "read_predictions",
    "roc_figure",
    "training_figure",
    "write_report",
]
