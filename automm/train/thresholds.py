"""Decision thresholds on P(fake), chosen on the validation split of an evaluation.

A video is labelled fake when P(fake) >= threshold. Two operating points are chosen: ``eer``,
where the false-positive and false-negative rates are closest (the equal error rate), and
``target_fpr``, the lowest threshold whose false-positive rate stays within a target. Each
threshold lies midway between two consecutive distinct validation scores, so that a score
reproduced to within rounding gets the label it had.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from automm.errors import AutommError
from automm.schema import integer, nullable, number, obj, optional, string

POINTS = ("eer", "target-fpr")
"""Names of the recorded operating points (their keys in ``thresholds``: ``-`` becomes ``_``)."""
RULE = "fake if p_fake >= threshold"

_RATE = optional(nullable(number(0, 1)))
_RATES = optional(obj({"fpr": _RATE, "tpr": _RATE}))
_POINT = optional(nullable(obj({"threshold": nullable(number()), "val": _RATES, "test": _RATES,
                                "target": _RATE})))
SCHEMA = nullable(obj({"split": optional(string()), "videos": optional(integer(0)),
                       "rule": optional(string()), "eer": _POINT, "target_fpr": _POINT}))
"""Schema of the ``thresholds`` record of metrics.json (:func:`choose_thresholds`)."""


def cuts(scores: ArrayLike, labels: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every distinct decision on ``scores`` (P(fake)) with ``labels`` (1 = fake): thresholds
    from above the highest score to below the lowest, and the false/true positive rates of each.

    Raises ``ValueError`` unless both classes occur.
    """
    s = np.asarray(scores, dtype=np.float64).ravel()
    y = np.asarray(labels).ravel().astype(bool)
    if s.shape != y.shape or y.all() or not y.any():
        raise ValueError("thresholds need scores of both classes")
    distinct, inverse = np.unique(-s, return_inverse=True)  # descending scores
    u = -distinct
    edges = np.r_[1.0, u, 0.0]
    thresholds = (edges[:-1] + edges[1:]) / 2
    thresholds[0] = max(thresholds[0], np.nextafter(u[0], np.inf))
    fakes = np.bincount(inverse, weights=y, minlength=u.size)
    reals = np.bincount(inverse, weights=~y, minlength=u.size)
    fpr = np.r_[0.0, np.cumsum(reals)] / reals.sum()
    tpr = np.r_[0.0, np.cumsum(fakes)] / fakes.sum()
    return thresholds, fpr, tpr


def rates(scores: ArrayLike, labels: ArrayLike, threshold: float) -> dict[str, float | None]:
    """False-positive and true-positive rates of the decision at ``threshold`` (None for a
    class that does not occur)."""
    s = np.asarray(scores, dtype=np.float64).ravel()
    y = np.asarray(labels).ravel().astype(bool)
    fake = s >= threshold
    return {"fpr": float(fake[~y].mean()) if (~y).any() else None,
            "tpr": float(fake[y].mean()) if y.any() else None}


def eer_threshold(scores: ArrayLike, labels: ArrayLike) -> float:
    """The threshold whose false-positive and false-negative rates are closest (ties: the one
    with the lower of the two larger rates, then the higher threshold)."""
    t, fpr, tpr = cuts(scores, labels)
    fnr = 1.0 - tpr
    k = np.lexsort((np.arange(t.size), np.maximum(fpr, fnr), np.abs(fpr - fnr)))[0]
    return float(t[k])


def fpr_threshold(scores: ArrayLike, labels: ArrayLike, target: float) -> float:
    """The lowest threshold whose false-positive rate is at most ``target``."""
    t, fpr, _ = cuts(scores, labels)
    return float(t[np.flatnonzero(fpr <= target + 1e-12)[-1]])


def choose_thresholds(val_scores: ArrayLike, val_labels: ArrayLike, target_fpr: float,
                      test_scores: ArrayLike = (), test_labels: ArrayLike = ()) -> dict[str, Any] | None:
    """The ``thresholds`` record of an evaluation: the points chosen on the validation scores
    with their validation (and test) rates; None when the validation split lacks a class."""
    try:
        chosen = {"eer": eer_threshold(val_scores, val_labels),
                  "target_fpr": fpr_threshold(val_scores, val_labels, target_fpr)}
    except ValueError:
        return None
    record: dict[str, Any] = {"split": "val", "videos": int(np.size(val_labels)), "rule": RULE}
    for name, value in chosen.items():
        point = {"threshold": value, "val": rates(val_scores, val_labels, value)}
        if name == "target_fpr":
            point["target"] = target_fpr
        if np.size(test_labels):
            point["test"] = rates(test_scores, test_labels, value)
        record[name] = point
    return record


def operating_threshold(spec: str, thresholds: Mapping[str, Any] | None, where: str) -> dict[str, Any]:
    """The threshold that ``spec`` names: a recorded point (``eer``, ``target-fpr``) of
    ``thresholds`` (recorded in ``where``), or a number in [0, 1] given by the user."""
    if spec in POINTS:
        point = thresholds.get(spec.replace("-", "_")) if isinstance(thresholds, Mapping) else None
        if not isinstance(point, Mapping) or not isinstance(point.get("threshold"), float | int):
            raise AutommError(f"{where}: records no {spec} threshold (an evaluation made before "
                              f"thresholds were recorded, or a validation split with one class); "
                              f"re-run automm evaluate, or give --threshold NUMBER")
        return {"value": float(point["threshold"]), "point": spec, "split": thresholds.get("split"),
                "rule": RULE, **{k: point[k] for k in ("target", "val", "test") if k in point}}
    try:
        value = float(spec)
    except ValueError:
        value = float("nan")
    if not 0.0 <= value <= 1.0:
        raise AutommError(f"--threshold {spec}: expected {', '.join(POINTS)} or a number in [0, 1]")
    return {"value": value, "point": "given", "rule": RULE}
