"""The ``tensorboard`` logger: event files written with torch's ``SummaryWriter``."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import graphviz
from matplotlib.image import imread
from torch.utils.tensorboard import SummaryWriter

from automm.ir.architecture import Architecture
from automm.loggers import Logger, LoggerContext
from automm.render import architecture_graph

DIRECTORY = "tensorboard"
PROBABILITY = "probability"
"""Tag prefix of the per-candidate probabilities: ``probability/CHOICE/CANDIDATE``."""


def log_dir(context: LoggerContext) -> Path:
    """Where the job's event files go: ``RUN/tensorboard/search``, ``EVAL/tensorboard/evaluate``,
    and for a sweep point ``SWEEP/tensorboard/KEY/search`` (``tensorboard --logdir
    SWEEP/tensorboard`` then shows one run per point, named by its grid values)."""
    if context.sweep_dir is not None:
        return context.sweep_dir / DIRECTORY / context.name / context.job
    return context.run_dir / DIRECTORY / context.job


class TensorBoardLogger(Logger):
    """Scalars per epoch, probabilities per candidate, the derived architecture as an image (drawn
    by Graphviz; as text when ``dot`` is missing), the settings and the final status as text."""

    def __init__(self, context: LoggerContext) -> None:
        self.writer = SummaryWriter(str(log_dir(context)))

    def log_hyperparams(self, params: Mapping[str, Any]) -> None:
        self.writer.add_text("settings", _table(params), 0)
        self.writer.flush()

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        for tag, value in metrics.items():
            self.writer.add_scalar(tag, value, step)
        self.writer.flush()

    def log_probabilities(self, probabilities: Mapping[str, Mapping[str, float]], step: int) -> None:
        for choice, candidates in probabilities.items():
            for candidate, p in candidates.items():
                self.writer.add_scalar(f"{PROBABILITY}/{choice}/{candidate}", p, step)
        self.writer.flush()

    def log_architecture(self, architecture: Architecture, step: int) -> None:
        try:
            png = architecture_graph(architecture).pipe(format="png")
        except graphviz.ExecutableNotFound:
            self.writer.add_text("architecture", _table(architecture.choices), step)
        else:
            self.writer.add_image("architecture", imread(io.BytesIO(png), format="png")[..., :3], step,
                                  dataformats="HWC")
        self.writer.flush()

    def finalize(self, status: str) -> None:
        self.writer.add_text("status", status)
        self.writer.close()


def _table(values: Mapping[str, Any]) -> str:
    """A Markdown table (TensorBoard's text panel renders it) of ``values``."""
    def cell(value: Any) -> str:
        text = value if isinstance(value, str) else json.dumps(value)
        return text.replace("|", "\\|").replace("\n", " ")

    return "\n".join(("| name | value |", "| --- | --- |",
                      *(f"| {cell(k)} | {cell(v)} |" for k, v in values.items())))
