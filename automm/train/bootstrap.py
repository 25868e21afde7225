"""Percentile bootstrap intervals over the samples of a split (seeded, stratified by class).

Each resample draws, within each class, as many samples as the class has, with replacement;
the class counts stay those of the split, so every resample has both classes and AUC and EER
are always defined. The interval is the central ``level`` range of the statistic over the
resamples (percentile method).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from automm.train.metrics import accuracy, equal_error_rate, roc_auc

RESAMPLES = 1000
"""Default number of bootstrap resamples."""
LEVEL = 0.95
CHANCE_AUC = 0.5
"""The AUC of a detector that guesses (a score that says nothing about the label)."""
METHOD = "percentile bootstrap; samples resampled with replacement within each class"

Interval = tuple[float, float]
Statistic = Callable[[np.ndarray], float]
"""A statistic of the samples at the given positions (positions may repeat)."""


@dataclass(frozen=True)
class Bootstrap:
    """How intervals are drawn: number of resamples, seed of the generator, coverage."""

    resamples: int = RESAMPLES
    seed: int = 0
    level: float = LEVEL

    def __post_init__(self) -> None:
        if self.resamples < 1:
            raise ValueError("bootstrap resamples must be >= 1")
        if not 0 < self.level < 1:
            raise ValueError("bootstrap level must be between 0 and 1")

    def record(self) -> dict[str, Any]:
        """The settings as metrics.json and robustness.json record them."""
        return {"resamples": self.resamples, "seed": self.seed, "level": self.level, "method": METHOD}

    def intervals(self, statistics: Mapping[str, Statistic], labels: ArrayLike) -> dict[str, Interval | None]:
        """The interval of each statistic over the same resamples of the samples with ``labels``
        (None for a statistic undefined on most resamples)."""
        y = np.asarray(labels).ravel()
        strata = [np.flatnonzero(y == c) for c in np.unique(y)]
        rng = np.random.default_rng(self.seed)
        values: dict[str, list[float]] = {name: [] for name in statistics}
        for _ in range(self.resamples):
            positions = np.concatenate([s[rng.integers(0, s.size, s.size)] for s in strata])
            for name, statistic in statistics.items():
                values[name].append(statistic(positions))
        tail = (1 - self.level) / 2
        out: dict[str, Interval | None] = {}
        for name, found in values.items():
            finite = np.asarray(found, dtype=np.float64)
            finite = finite[np.isfinite(finite)]
            if 2 * finite.size <= self.resamples:
                out[name] = None
            else:
                lo, hi = np.quantile(finite, [tail, 1 - tail])
                out[name] = (float(lo), float(hi))
        return out

    def binary(self, scores: ArrayLike, predicted: ArrayLike, labels: ArrayLike
               ) -> dict[str, Interval | None]:
        """Intervals of ``auc``, ``acc`` and ``eer`` of scores (P(class 1)), predicted classes and
        labels."""
        s, p, y = (np.asarray(a).ravel() for a in (scores, predicted, labels))
        return self.intervals({"auc": lambda i: roc_auc(s[i], y[i]), "acc": lambda i: accuracy(p[i], y[i]),
                               "eer": lambda i: equal_error_rate(s[i], y[i])}, y)


def distinguishable_from_chance(auc_interval: Interval | None) -> bool | None:
    """Whether an AUC interval excludes :data:`CHANCE_AUC` (None without an interval)."""
    if auc_interval is None:
        return None
    lo, hi = auc_interval
    return not lo <= CHANCE_AUC <= hi


def chance_sentence(distinguishable: bool | None) -> str:
    """What :func:`distinguishable_from_chance` says, in words."""
    if distinguishable is None:
        return "No AUC interval: whether the result differs from chance is unknown."
    if distinguishable:
        return "The AUC interval excludes 0.5: the result is distinguishable from chance."
    return "The AUC interval includes 0.5: the result is not distinguishable from chance (guessing)."


def with_interval(value: float | None, interval: Sequence[float] | None, digits: int = 3) -> str:
    """``0.781 [0.610, 0.920]`` (``n/a`` for a missing value; no brackets without an interval)."""
    if value is None:
        return "n/a"
    text = f"{value:.{digits}f}"
    return text if interval is None else f"{text} [{interval[0]:.{digits}f}, {interval[1]:.{digits}f}]"
