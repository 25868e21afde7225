"""Decision thresholds chosen on validation scores: EER and target false-positive rate."""

from __future__ import annotations

import numpy as np
import pytest

from automm.errors import AutommError
from automm.train.thresholds import (
    choose_thresholds,
    cuts,
    eer_threshold,
    fpr_threshold,
    operating_threshold,
    rates,
)


def test_separable_scores_get_a_threshold_between_the_classes():
    scores, labels = [0.1, 0.2, 0.3, 0.7, 0.8], [0, 0, 0, 1, 1]
    t = eer_threshold(scores, labels)
    assert 0.3 < t < 0.7
    assert rates(scores, labels, t) == {"fpr": 0.0, "tpr": 1.0}


@pytest.mark.parametrize("seed", range(5))
def test_the_eer_threshold_balances_the_error_rates_best(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, 40)
    labels[:2] = (0, 1)
    scores = np.round(rng.random(40) * 0.5 + labels * 0.3, 2)  # ties included
    t = eer_threshold(scores, labels)
    every = [rates(scores, labels, c) for c in cuts(scores, labels)[0]]
    best = min(abs(r["fpr"] - (1 - r["tpr"])) for r in every)
    r = rates(scores, labels, t)
    assert abs(r["fpr"] - (1 - r["tpr"])) == pytest.approx(best)
    assert not np.isclose(scores, t).any()  # midway between scores, never on one


@pytest.mark.parametrize("target", [0.0, 0.1, 0.25, 0.5, 1.0])
def test_the_target_fpr_threshold_is_the_lowest_within_the_target(target):
    rng = np.random.default_rng(1)
    labels = np.r_[np.zeros(20, int), np.ones(20, int)]
    scores = rng.random(40) * 0.6 + labels * 0.3
    t = fpr_threshold(scores, labels, target)
    assert rates(scores, labels, t)["fpr"] <= target
    lower = scores[scores < t]
    if lower.size:  # labelling the next lower score fake too would exceed the target
        assert rates(scores, labels, lower.max())["fpr"] > target


def test_the_record_holds_both_points_with_their_rates():
    val_s, val_y = [0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]
    record = choose_thresholds(val_s, val_y, 0.0, [0.2, 0.9], [0, 1])
    assert record["split"] == "val" and record["videos"] == 4
    assert record["target_fpr"]["target"] == 0.0 and record["target_fpr"]["val"]["fpr"] == 0.0
    assert record["eer"]["val"] == rates(val_s, val_y, record["eer"]["threshold"])
    assert record["eer"]["test"] == {"fpr": 0.0, "tpr": 1.0}
    assert choose_thresholds([0.1, 0.2], [1, 1], 0.05) is None


def test_a_threshold_is_a_recorded_point_or_a_number():
    recorded = choose_thresholds([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1], 0.0)
    assert operating_threshold("eer", recorded, "m.json")["value"] == recorded["eer"]["threshold"]
    fpr = operating_threshold("target-fpr", recorded, "m.json")
    assert (fpr["value"], fpr["target"]) == (recorded["target_fpr"]["threshold"], 0.0)
    assert operating_threshold("0.25", recorded, "m.json") == {"value": 0.25, "point": "given",
                                                                "rule": "fake if p_fake >= threshold"}
    with pytest.raises(AutommError, match=r"m\.json: records no eer threshold"):
        operating_threshold("eer", None, "m.json")
    with pytest.raises(AutommError, match="expected eer, target-fpr or a number in"):
        operating_threshold("1.5", recorded, "m.json")
