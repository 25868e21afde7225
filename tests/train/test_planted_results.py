"""Issue 24 on a planted cache: only the image modality carries the signal, and only for one kind
of fake. The AUC per category tells the kinds apart; removing the image drops the AUC to chance,
removing the audio does not; metrics.json and robustness.json record it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from automm.data.cache import FeatureCache, write_cache
from automm.ir import Architecture
from automm.schema import problem
from automm.train.evaluation_metrics import ROBUSTNESS
from automm.train.retraining import retrain
from automm.train.settings import RetrainSettings

KINDS = (("RealVideo-RealAudio", "real", 0), ("RealVideo-RealAudio", "real", 0),
         ("FakeVideo-RealAudio", "faceswap", 1), ("RealVideo-FakeAudio", "rtvc", 1))
"""Category, method and label of the samples, in turn: half real, a quarter of fakes that the
image shows (their image features are shifted), a quarter that nothing shows."""
CONFIG = {"C": 8, "L": 2, "cells": 1, "steps": 1, "image_taps": 1, "audio_taps": 1,
          "ops": ["concat-fc"], "num_classes": 2, "tap_channels": {"image/1": 4, "audio/1": 4}}
CHOICES = {"cell/1/in/1": "image/1", "cell/1/in/2": "audio/1", "cell/1/step/1/in/1": "cell/1/in/1",
           "cell/1/step/1/in/2": "cell/1/in/2", "cell/1/step/1/op": "concat-fc"}


def planted_cache(path: Path, n: int = 640) -> Path:
    rng = np.random.default_rng(0)
    kinds = [KINDS[i % 4] for i in range(n)]
    image = rng.normal(size=(n, 4, 2))
    image[[i for i, k in enumerate(kinds) if k[1] == "faceswap"]] += 3.0
    samples = [{"id": f"v{i}", "label": label, "identity": f"p{i // 4}", "category": category,
                "method": method, "split": ("train", "train", "train", "val", "test")[(i // 4) % 5]}
               for i, (category, method, label) in enumerate(kinds)]
    return write_cache(path, {"image/1": image, "audio/1": rng.normal(size=(n, 4, 2))}, samples,
                       classes=("real", "fake"))


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("planted-results")
    cache = FeatureCache.open(planted_cache(root / "cache"))
    settings = RetrainSettings(epochs=10, batch_size=16, device="cpu", bootstrap=200, robustness=True)
    result = retrain(Architecture("bimodal-deepfake", CONFIG, CHOICES), cache, settings, root / "eval",
                     progress=False)
    return result, root / "eval"


def test_auc_per_category_and_method_tells_the_planted_kinds_apart(evaluated):
    _, out = evaluated
    metrics = json.loads((out / "metrics.json").read_text())
    category = metrics["by_category"]
    assert category["reals"] == 64 and category["note"] is None
    shown, hidden = category["groups"]["FakeVideo-RealAudio"], category["groups"]["RealVideo-FakeAudio"]
    assert shown["fakes"] == hidden["fakes"] == 32
    assert shown["auc"] > 0.95 and abs(hidden["auc"] - 0.5) < 0.2
    assert shown["auc_ci"][0] > hidden["auc_ci"][1] - 0.2
    assert metrics["by_method"]["groups"]["faceswap"]["auc"] == shown["auc"]
    assert metrics["by_method"]["groups"]["rtvc"]["auc"] == hidden["auc"]
    lo, hi = metrics["test_auc_ci"]
    assert lo <= metrics["test_auc"] <= hi and metrics["distinguishable_from_chance"] is True
    assert metrics["bootstrap"]["resamples"] == 200
    assert metrics["provenance"]["settings"]["robustness"] is True


def test_removing_the_modality_that_carries_the_signal_drops_auc_to_chance(evaluated):
    result, out = evaluated
    record = json.loads((out / "robustness.json").read_text())
    assert record == json.loads(json.dumps(result.robustness))
    assert problem(record, ROBUSTNESS) is None
    auc = {c["condition"]: c["auc"] for c in record["conditions"]}
    assert auc["clean"] == pytest.approx(result.metrics["test_auc"])
    for removal in ("zeroed", "training mean"):
        assert abs(auc[f"image removed ({removal})"] - 0.5) < 0.15
        without_audio = auc[f"audio removed ({removal})"]
        assert without_audio > max(auc["clean"] - 0.1, auc[f"image removed ({removal})"] + 0.1)
    assert auc["image noise 2 sd"] < auc["image noise 0.5 sd"]
    assert record["leans_on"] == ["image"] and record["verdict"].startswith("The detector leans on image")
    for name in ("robustness.png", "robustness.pdf", "robustness-column.png", "robustness-column.pdf"):
        assert (out / name).stat().st_size > 0
