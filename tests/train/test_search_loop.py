"""The bilevel search loop and the retraining loop on synthetic caches."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from automm import plugins
from automm.data import FeatureCache
from automm.run.binding import space_for_cache
from automm.train import RetrainSettings, SearchSettings, load_splits, resume_search, retrain, search

CONTRACT = {"epoch", "train_loss", "train_acc", "val_loss", "val_acc", "val_auc", "temperature", "entropy",
            "derived_val_acc", "derived_val_auc", "seconds"}


def _search(cache_dir: Path, out: Path, strategy: str, config: dict, **settings):
    cache = FeatureCache.open(cache_dir)
    space = space_for_cache(plugins.spaces.get("bimodal-deepfake"), config, cache)
    settings = SearchSettings(**{"epochs": 4, "batch_size": 32, "seed": 0, **settings})
    return search(space, plugins.strategies.get(strategy)(), cache, settings, out, progress=False)


def _cell_inputs(arch) -> set[str]:
    return {v for k, v in arch.choices.items() if k.startswith("cell/") and "/step/" not in k}


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["stgs", "darts"])
def test_planted_signal_is_found_and_learned(planted_cache: Path, planted: tuple[str, str],
                                             tiny_config: dict, tmp_path: Path, strategy: str) -> None:
    result = _search(planted_cache, tmp_path / "run", strategy, tiny_config)
    assert _cell_inputs(result.architecture) == set(planted)
    evaluation = retrain(result.architecture, FeatureCache.open(planted_cache),
                         RetrainSettings(epochs=10), tmp_path / "eval", progress=False)
    assert evaluation.metrics["test_auc"] > 0.9


@pytest.mark.slow
def test_shuffled_labels_stay_near_chance(shuffled_cache: Path, tiny_config: dict, tmp_path: Path) -> None:
    result = _search(shuffled_cache, tmp_path / "run", "stgs", tiny_config)
    evaluation = retrain(result.architecture, FeatureCache.open(shuffled_cache), RetrainSettings(epochs=10),
                         tmp_path / "eval", progress=False)
    assert abs(evaluation.metrics["test_auc"] - 0.5) < 0.15


def test_run_directory_and_checkpoint(planted_cache: Path, tiny_config: dict, tmp_path: Path) -> None:
    result = _search(planted_cache, tmp_path / "run", "stgs", tiny_config, epochs=2)
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2]
    assert CONTRACT <= set(records[0])
    assert set(records[0]["entropy"]) == {"cell-input", "step-input", "op"}
    assert records[0]["temperature"] == 10.0
    state = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert state["epoch"] == 2 and state["finished"] == "max-epochs"
    assert {"network", "arch", "weight_optimizer", "arch_optimizer", "scheduler", "strategy", "rng",
            "best", "history"} <= set(state)
    m = result.architecture.metrics
    assert m["epochs"] == 2 and m["params"] > 0 and 0 <= m["val_acc"] <= 1
    assert result.architecture.strategy["name"] == "stgs" and result.architecture.strategy["seed"] == 0
    fingerprint = FeatureCache.open(planted_cache).fingerprint
    assert result.architecture.provenance["data"]["fingerprint"] == fingerprint


def test_resume_reproduces_an_uninterrupted_run(planted_cache: Path, tiny_config: dict,
                                                tmp_path: Path) -> None:
    reference = _search(planted_cache, tmp_path / "ref", "stgs", tiny_config, epochs=3)

    def stop_after_first_epoch(record: dict) -> None:
        raise KeyboardInterrupt

    cache = FeatureCache.open(planted_cache)
    space = space_for_cache(plugins.spaces.get("bimodal-deepfake"), tiny_config, cache)
    with pytest.raises(KeyboardInterrupt):
        search(space, plugins.strategies.get("stgs")(), cache,
               SearchSettings(epochs=3, batch_size=32, seed=0), tmp_path / "run", progress=False,
               on_epoch=stop_after_first_epoch)
    assert not (tmp_path / "run" / "arch.json").exists()
    resumed = resume_search(tmp_path / "run", progress=False)

    def strip(history: list[dict]) -> list[dict]:
        return [{k: v for k, v in r.items() if k != "seconds"} for r in history]

    assert strip(resumed.history) == strip(reference.history)
    assert resumed.architecture.choices == reference.architecture.choices
    drop = {"search_seconds"}
    assert ({k: v for k, v in resumed.architecture.metrics.items() if k not in drop}
            == {k: v for k, v in reference.architecture.metrics.items() if k not in drop})


def test_memory_mapped_batches_equal_preloaded_ones(planted_cache: Path) -> None:
    cache = FeatureCache.open(planted_cache)
    taps = ["image/1", "audio/2"]
    cpu = torch.device("cpu")
    loaded = load_splits(cache, ["train"], taps, cpu, preload_bytes=2**40)["train"]
    mapped = load_splits(cache, ["train"], taps, cpu, preload_bytes=0)["train"]
    assert loaded.tensors is not None and mapped.tensors is None
    a = list(loaded.batches(50, torch.Generator().manual_seed(1), train=True))
    b = list(mapped.batches(50, torch.Generator().manual_seed(1), train=True))
    assert len(a) == len(b) == loaded.num_batches(50, train=True)
    for (ta, ya, pa), (tb, yb, pb) in zip(a, b, strict=True):
        assert torch.equal(pa, pb) and torch.equal(ya, yb)
        assert all(torch.equal(ta[t], tb[t]) for t in taps)


def test_evaluation_resume_reproduces_an_uninterrupted_run(planted_cache: Path, tiny_config: dict,
                                                           tmp_path: Path) -> None:
    cache = FeatureCache.open(planted_cache)
    arch = _search(planted_cache, tmp_path / "run", "darts", tiny_config, epochs=1).architecture
    settings = RetrainSettings(epochs=3, batch_size=32)
    reference = retrain(arch, cache, settings, tmp_path / "ref", progress=False)

    def stop(record: dict) -> None:
        if record["epoch"] == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        retrain(arch, cache, settings, tmp_path / "eval", progress=False, on_epoch=stop)
    assert not (tmp_path / "eval" / "metrics.json").exists()
    resumed = retrain(arch, cache, settings, tmp_path / "eval", resume=True, progress=False)
    drop = {"train_seconds"}

    def comparable(metrics: dict) -> dict:
        """Everything but the wall-clock record: seconds and the run's start/finish timestamps."""
        out = {k: v for k, v in metrics.items() if k not in drop}
        out["provenance"] = {k: v for k, v in out["provenance"].items() if k != "run"}
        return out

    assert comparable(resumed.metrics) == comparable(reference.metrics)
    predictions = [(tmp_path / d / "predictions.csv").read_text() for d in ("eval", "ref")]
    assert predictions[0] == predictions[1]
