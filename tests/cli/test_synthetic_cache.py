"""``automm synthetic-cache``: the one-minute path's cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from click.testing import CliRunner

from automm.cli import cli
from automm.data.cache import FeatureCache


def _xor_agreement(cache: FeatureCache) -> float:
    """Agreement of the labels with "the planted latents' signs differ", read back from the
    planted taps (the latent lies along one channel direction: the first principal component of
    the tap's mean over positions; its sign is arbitrary, hence the max)."""
    batch = cache.batch(np.arange(len(cache)), ["image/3", "audio/2"])

    def latent(x: np.ndarray) -> np.ndarray:
        mean = x.mean(axis=2)
        direction = np.linalg.svd(mean - mean.mean(axis=0), full_matrices=False)[2][0]
        return mean @ direction

    labels = np.array([s["label"] for s in cache.samples])
    agreement = float(((latent(batch["image/3"].numpy()) * latent(batch["audio/2"].numpy()) < 0)
                       == labels).mean())
    return max(agreement, 1 - agreement)


def test_writes_a_cache_whose_labels_follow_the_named_signal(tmp_path: Path) -> None:
    out = tmp_path / "toy"
    result = CliRunner().invoke(cli, ["synthetic-cache", "-o", str(out), "--identities", "10",
                                       "--signal", "xor"])
    assert result.exit_code == 0, result.output
    cache = FeatureCache.open(out)
    assert len(cache) == 80
    assert cache.manifest["source"]["signal_kind"] == "xor"
    assert {s["split"] for s in cache.samples} == {"train", "val", "test"}
    assert _xor_agreement(cache) > 0.9


def test_refuses_an_existing_directory_unless_forced(tmp_path: Path) -> None:
    out = tmp_path / "toy"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    refused = CliRunner().invoke(cli, ["synthetic-cache", "-o", str(out)])
    assert refused.exit_code == 2
    assert "already exists" in refused.output and "--force" in refused.output
    assert (out / "keep.txt").read_text() == "mine"
    forced = CliRunner().invoke(cli, ["synthetic-cache", "-o", str(out), "--force"])
    assert forced.exit_code == 0, forced.output
    assert len(FeatureCache.open(out)) == 96
