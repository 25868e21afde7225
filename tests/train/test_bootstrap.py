"""Bootstrap intervals (issue 24) against known cases: a perfect scorer and a guessing one."""

from __future__ import annotations

import math

import numpy as np
import pytest

from automm.report.paired import paired, sign_flip_p
from automm.train.bootstrap import Bootstrap, distinguishable_from_chance
from automm.train.breakdown import breakdown
from automm.train.metrics import roc_auc


def test_a_perfect_scorer_has_a_point_interval():
    labels = np.array([0] * 30 + [1] * 20)
    scores = np.where(labels == 1, 0.9, 0.1)
    ci = Bootstrap(200, seed=1).binary(scores, labels, labels)
    assert ci == {"auc": (1.0, 1.0), "acc": (1.0, 1.0), "eer": (0.0, 0.0)}
    assert distinguishable_from_chance(ci["auc"]) is True


def test_a_guessing_scorer_gets_the_textbook_width_and_covers_chance():
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 1000)
    scores = rng.uniform(size=labels.size)  # independent of the labels
    ci = Bootstrap(400, seed=0).binary(scores, scores > 0.5, labels)
    lo, hi = ci["auc"]
    # Hanley & McNeil: the standard error of AUC 0.5 with 1000 + 1000 samples is sqrt(2001 / 12e6)
    half_width = 1.96 * math.sqrt(2001 / 12e6)
    assert (hi - lo) / 2 == pytest.approx(half_width, rel=0.2)
    assert (lo + hi) / 2 == pytest.approx(roc_auc(scores, labels), abs=0.005)
    covered = 0
    for seed in range(20):  # a 95% interval of a guesser includes chance about 19 times in 20
        draw = np.random.default_rng(100 + seed)
        y, s = draw.integers(0, 2, 200), draw.uniform(size=200)
        interval = Bootstrap(200, seed=seed).binary(s, s > 0.5, y)["auc"]
        covered += distinguishable_from_chance(interval) is False
    assert covered >= 16


def test_intervals_are_seeded():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, 60)
    scores = rng.uniform(size=60) + 0.3 * labels
    assert Bootstrap(100, seed=5).binary(scores, labels, labels) == Bootstrap(100, seed=5).binary(
        scores, labels, labels)
    assert Bootstrap(100, seed=5).binary(scores, labels, labels) != Bootstrap(100, seed=6).binary(
        scores, labels, labels)


def test_a_single_class_has_no_interval():
    assert Bootstrap(50).binary([0.2, 0.4, 0.9], [1, 0, 1], [1, 1, 1])["auc"] is None
    assert distinguishable_from_chance(None) is None


def test_breakdown_scores_each_planted_category_against_every_real():
    labels = np.array([0] * 20 + [1] * 20)
    kinds = ["RealVideo-RealAudio"] * 20 + ["FakeVideo-RealAudio", "RealVideo-FakeAudio"] * 10
    rng = np.random.default_rng(0)
    scores = rng.uniform(size=40)
    scores[20::2] += 2.0  # the face swaps are caught, the voice conversions look real
    samples = [{"category": k, "method": "faceswap" if k.startswith("Fake") else ""} for k in kinds]
    out = breakdown(samples, scores, labels, "category", ["real", "fake"], Bootstrap(100))
    assert list(out["groups"]) == ["FakeVideo-RealAudio", "RealVideo-FakeAudio"]
    caught, missed = out["groups"]["FakeVideo-RealAudio"], out["groups"]["RealVideo-FakeAudio"]
    assert out["reals"] == 20 and caught["fakes"] == missed["fakes"] == 10 and out["note"] is None
    assert caught["auc"] == 1.0 and abs(missed["auc"] - 0.5) < 0.25 and missed["auc_ci"][0] < 0.5
    by_method = breakdown(samples, scores, labels, "method", ["real", "fake"], Bootstrap(100))
    assert list(by_method["groups"]) == ["faceswap"] and by_method["unknown_fakes"] == 10


def test_layouts_without_categories_say_so():
    samples = [{"category": "real"}, {"category": "fake"}, {"category": "fake"}, {}]
    out = breakdown(samples, [0.1, 0.8, 0.7, 0.9], [0, 1, 1, 1], "category", ["real", "fake"], Bootstrap(20),
                    ["folder"])
    assert out["groups"] == {} and out["unknown_fakes"] == 3
    assert out["note"] == "the cache records no category of its fake samples (dataset layout folder)"


def test_paired_comparison_on_shared_seeds():
    a = {0: 0.80, 1: 0.82, 2: 0.85, 3: 0.79, 7: 0.5}
    b = {0: 0.70, 1: 0.75, 2: 0.74, 3: 0.71, 9: 0.9}
    p = paired(a, b)
    assert p["seeds"] == [0, 1, 2, 3] and p["a_higher"] == 4 and p["b_higher"] == 0
    assert p["mean_difference"] == pytest.approx(0.09)
    assert p["p"] == pytest.approx(2 / 16)  # all four higher: the two extreme sign patterns of 16
    assert paired({0: 0.8}, {0: 0.7}) is None
    assert sign_flip_p([0.1, -0.1]) == 1.0
