"""Binary classification metrics on scores (P(fake)) and labels, without sklearn.

Undefined values (e.g. AUC of a split with one class) are ``nan``; :func:`automm.fileio.finite_or_none`
turns them into ``None`` for JSON.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike


def _binary(scores: ArrayLike, labels: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(scores, dtype=np.float64).ravel()
    y = np.asarray(labels).ravel().astype(bool)
    if s.shape != y.shape:
        raise ValueError(f"{s.size} scores for {y.size} labels")
    return s, y


def roc_auc(scores: ArrayLike, labels: ArrayLike) -> float:
    """Area under the ROC curve as the Mann-Whitney rank statistic (ties get average ranks)."""
    s, y = _binary(scores, labels)
    pos, neg = int(y.sum()), int((~y).sum())
    if pos == 0 or neg == 0:
        return math.nan
    _, inverse, counts = np.unique(s, return_inverse=True, return_counts=True)
    average_rank = np.cumsum(counts) - (counts - 1) / 2.0  # 1-based rank of each distinct value
    ranks = average_rank[inverse]
    return float((ranks[y].sum() - pos * (pos + 1) / 2.0) / (pos * neg))


def roc_curve(scores: ArrayLike, labels: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """False and true positive rates at each distinct score threshold, from (0, 0) to (1, 1).

    Raises ``ValueError`` unless both classes occur (the rates are undefined otherwise).
    """
    s, y = _binary(scores, labels)
    pos, neg = int(y.sum()), int((~y).sum())
    if pos == 0 or neg == 0:
        raise ValueError("a ROC curve needs both classes among the labels")
    order = np.argsort(-s, kind="stable")
    s, y = s[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]  # last index of each distinct score
    return np.r_[0, np.cumsum(~y)[last]] / neg, np.r_[0, np.cumsum(y)[last]] / pos


def accuracy(predictions: ArrayLike, labels: ArrayLike) -> float:
    """Fraction of predicted classes equal to the labels."""
    p, y = np.asarray(predictions).ravel(), np.asarray(labels).ravel()
    return float((p == y).mean()) if y.size else math.nan


def equal_error_rate(scores: ArrayLike, labels: ArrayLike) -> float:
    """The rate where false positives equal false negatives, interpolated on the ROC curve."""
    s, y = _binary(scores, labels)
    if y.all() or not y.any():
        return math.nan
    fpr, tpr = roc_curve(s, y)
    gap = (1.0 - tpr) - fpr  # false negative rate - false positive rate: decreasing from 1 to -1
    k = int(np.argmax(gap <= 0))
    t = gap[k - 1] / (gap[k - 1] - gap[k])
    return float(fpr[k - 1] + t * (fpr[k] - fpr[k - 1]))

