"""Metrics against brute-force definitions."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from automm.fileio import NonFiniteError, finite_or_none, finite_record
from automm.train.metrics import accuracy, equal_error_rate, roc_auc


def _pairwise_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    pos, neg = scores[labels == 1], scores[labels == 0]
    wins = [1.0 if p > n else 0.5 if p == n else 0.0 for p, n in itertools.product(pos, neg)]
    return float(np.mean(wins))


@pytest.mark.parametrize("seed", range(5))
def test_auc_is_the_pairwise_win_rate_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 6, size=40) / 5.0  # many ties
    labels = rng.integers(0, 2, size=40)
    assert roc_auc(scores, labels) == pytest.approx(_pairwise_auc(scores, labels))


def test_auc_extremes_and_undefined() -> None:
    assert roc_auc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]) == 1.0
    assert roc_auc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]) == 0.0
    assert roc_auc([0.5] * 4, [0, 1, 0, 1]) == 0.5
    assert math.isnan(roc_auc([0.1, 0.2], [1, 1]))


def test_eer() -> None:
    assert equal_error_rate([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]) == 0.0
    assert equal_error_rate([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]) == 1.0
    # the thresholds give (fpr, fnr) = (0, 1), (0, .5), (.5, .5), (.5, 0), (1, 0): equal at 0.5
    assert equal_error_rate([0.9, 0.8, 0.7, 0.1], [1, 0, 1, 0]) == pytest.approx(0.5)
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, size=2000)
    scores = rng.normal(size=2000) + labels * 2.0
    # two unit Gaussians 2 apart: EER = Phi(-1) = 0.1587
    assert equal_error_rate(scores, labels) == pytest.approx(0.1587, abs=0.02)
    assert math.isnan(equal_error_rate([0.1], [0]))


def test_accuracy_and_json_cleaning() -> None:
    assert accuracy([0, 1, 1, 0], [0, 1, 0, 0]) == 0.75
    assert finite_or_none({"a": math.nan, "b": [1.0, math.inf], "c": "x"}) == {"a": None, "b": [1.0, None],
                                                                              "c": "x"}


def test_finite_record_stops_at_a_non_finite_value_but_lets_an_undefined_auc_be_null() -> None:
    record = {"epoch": 3, "val_auc": math.nan, "entropy": {"op": 0.5}, "choices": {"a": "b"}}
    assert finite_record(record, "run: epoch 3") == {**record, "val_auc": None}
    with pytest.raises(NonFiniteError, match=r"^run: epoch 3: entropy\.op is not finite \(nan\)"):
        finite_record({**record, "entropy": {"op": math.nan}}, "run: epoch 3")
    with pytest.raises(NonFiniteError, match="val_loss is not finite"):
        finite_record({"val_loss": math.inf}, "run")
