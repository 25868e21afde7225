"""Class balance: class-weighted loss, oversampled epochs, and the counts the metrics report."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner

from automm.cli import cli
from automm.data import FeatureCache, write_cache
from automm.errors import AutommError
from automm.ir import load_architecture
from automm.train.balance import Balance
from automm.train.batches import load_splits
from automm.train.settings import RetrainSettings

LABELS = torch.tensor([0] * 10 + [1] * 90)


def test_class_weight_makes_each_class_count_equally():
    balance = Balance("class-weight", LABELS, 2)
    assert torch.allclose(balance.weight, torch.tensor([5.0, 100 / 180]))
    logits = torch.randn(100, 2, generator=torch.Generator().manual_seed(0))
    per_sample = F.cross_entropy(logits, LABELS, reduction="none")
    expected = (per_sample[:10].mean() + per_sample[10:].mean()) / 2
    assert torch.allclose(balance.loss(logits, LABELS), expected)
    assert torch.allclose(Balance("none", LABELS, 2).loss(logits, LABELS), per_sample.mean())
    assert Balance("class-weight", torch.ones(8, dtype=torch.long), 2).weight.tolist() == [0.0, 1.0]


def test_oversample_draws_classes_equally_and_reproducibly():
    balance = Balance("oversample", LABELS, 2)
    draws = balance.permutation(100, torch.Generator().manual_seed(1))
    assert draws.shape == (100,)
    many = torch.cat([balance.permutation(100, torch.Generator().manual_seed(s)) for s in range(50)])
    assert abs(float((LABELS[many] == 0).float().mean()) - 0.5) < 0.03
    again = balance.permutation(100, torch.Generator().manual_seed(1))
    assert torch.equal(draws, again)
    plain = Balance("none", LABELS, 2).permutation(100, torch.Generator().manual_seed(1))
    assert sorted(plain.tolist()) == list(range(100))
    with pytest.raises(AutommError, match="--balance sometimes: unknown"):
        RetrainSettings(balance="sometimes")


def skewed_cache(path):
    """60 samples, one real in ten, in six identities per split."""
    samples = [{"id": f"s{i}", "label": int(i % 10 != 0), "identity": f"p{i % 18}",
                "split": ("train", "val", "test")[i % 3]} for i in range(60)]
    rng = np.random.default_rng(0)
    taps = {t: rng.normal(size=(60, 8, 2)).astype(np.float32) for t in ("image/1", "audio/1")}
    return write_cache(path, taps, samples, classes=("real", "fake"))


def test_splits_balance_training_order_only(tmp_path):
    cache = FeatureCache.open(skewed_cache(tmp_path / "c"))
    data = load_splits(cache, ("train", "val"), ["image/1"], torch.device("cpu"), balance="oversample")
    train = data["train"]
    drawn = torch.cat([torch.cat(train.order(4, torch.Generator().manual_seed(s), train=True))
                       for s in range(40)])
    assert 0.35 < float((train.labels[drawn] == 0).float().mean()) < 0.65  # 10 % without balance
    assert torch.equal(torch.cat(train.order(4, None)), torch.arange(len(train)))  # evaluation order


def test_search_and_evaluate_record_balance_and_class_counts(tmp_path):
    cache = skewed_cache(tmp_path / "c")
    run = tmp_path / "run"
    tiny = ["--C", "8", "--L", "2", "--cells", "1", "--steps", "1", "--ops", "sum,concat-fc",
            "--image-taps", "1", "--audio-taps", "1"]
    res = CliRunner().invoke(cli, ["search", "--data", str(cache), "--out", str(run), "--epochs", "1",
                                   "--batch-size", "4", "--device", "cpu", "--balance", "oversample", *tiny])
    assert res.exit_code == 0, res.output
    metrics = load_architecture(run / "arch.json").metrics
    assert metrics["balance"] == "oversample"
    assert metrics["class_counts"] == {s: {"real": 2, "fake": 18} for s in ("train", "val", "test")}
    res = CliRunner().invoke(cli, ["evaluate", str(run / "arch.json"), "--epochs", "1", "--device", "cpu"])
    assert res.exit_code == 0, res.output
    assert re.search(r"class balance +class-weight\n", res.output)
    assert re.search(r"test real/fake +2/18", res.output)
    saved = json.loads((run / "eval" / "metrics.json").read_text())
    assert saved["balance"] == "class-weight" and saved["class_counts"]["val"] == {"real": 2, "fake": 18}
