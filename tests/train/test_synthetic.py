"""The synthetic cache: shapes, identity-disjoint splits, and a signal only the tap pair carries."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from automm.data import FeatureCache
from automm.data.synthetic import RESNET_LIKE_CHANNELS, RESNET_LIKE_LENGTHS
from automm.train.metrics import roc_auc


def _probe_auc(cache: FeatureCache, features: dict[str, np.ndarray]) -> float:
    """Test AUC of a (slightly ridge-regularised) least-squares linear probe fitted on train."""
    x = np.concatenate([f.reshape(len(cache), -1) for f in features.values()], axis=1)
    x = np.c_[x, np.ones(len(cache))]
    train, test = cache.indices("train"), cache.indices("test")
    a = x[train]
    w = np.linalg.solve(a.T @ a + 1e-3 * np.eye(a.shape[1]), a.T @ (cache.labels[train] * 2.0 - 1.0))
    return roc_auc(x[test] @ w, cache.labels[test])


def test_shapes_and_identity_disjoint_splits(planted_cache: Path) -> None:
    cache = FeatureCache.open(planted_cache)
    for i in range(4):
        for modality in ("image", "audio"):
            assert cache.taps[f"{modality}/{i + 1}"] == (RESNET_LIKE_CHANNELS[i], RESNET_LIKE_LENGTHS[i])
    ids = {split: {s["identity"] for s in cache.samples if s["split"] == split}
           for split in ("train", "val", "test")}
    assert all(ids.values())
    assert not (ids["train"] & ids["val"] or ids["train"] & ids["test"] or ids["val"] & ids["test"])
    assert 0.4 < cache.labels.mean() < 0.6


def test_only_the_planted_pair_predicts_the_label(planted_cache: Path, planted: tuple[str, str]) -> None:
    cache = FeatureCache.open(planted_cache)
    means = {t: np.asarray(a).mean(axis=2) for t, a in cache.arrays.items()}
    for tap, m in means.items():  # no single tap, linearly or by magnitude
        assert abs(_probe_auc(cache, {tap: m}) - 0.5) < 0.15, tap
        assert abs(_probe_auc(cache, {tap: m**2}) - 0.5) < 0.15, tap
    a, b = (means[t] for t in planted)
    pair = {"product": (a[:, :, None] * b[:, None, :])}  # the interaction of the two taps
    assert _probe_auc(cache, pair) > 0.95
    other = (means["image/2"][:, :, None] * means["audio/3"][:, None, :])
    assert abs(_probe_auc(cache, {"product": other}) - 0.5) < 0.15


def test_shuffled_labels_carry_no_signal(planted_cache: Path, shuffled_cache: Path,
                                         planted: tuple[str, str]) -> None:
    original, shuffled = FeatureCache.open(planted_cache), FeatureCache.open(shuffled_cache)
    assert original.labels.sum() == shuffled.labels.sum()
    assert (original.labels != shuffled.labels).mean() > 0.3
    assert shuffled.manifest["source"]["shuffled_labels"] is True
    means = {t: np.asarray(a).mean(axis=2) for t, a in shuffled.arrays.items()}
    a, b = (means[t] for t in planted)
    assert abs(_probe_auc(shuffled, {"product": a[:, :, None] * b[:, None, :]}) - 0.5) < 0.15
