"""What a search returns: the entropy it logs, the architecture step's samples, and the selection
(``best`` by validation AUC, ``final`` from the final logits)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from automm import plugins
from automm.data import FeatureCache
from automm.run.binding import space_for_cache
from automm.train import SearchSettings, bilevel, search
from automm.train.bilevel import better_derived, family_entropy


def _setup(cache_dir: Path, config: dict, strategy: str = "stgs", **params):
    cache = FeatureCache.open(cache_dir)
    space = space_for_cache(plugins.spaces.get("bimodal-deepfake"), config, cache)
    return cache, space, plugins.strategies.get(strategy)(**params)


def _search(cache_dir: Path, config: dict, out: Path, strategy: str = "stgs", **settings):
    cache, space, method = _setup(cache_dir, config, strategy)
    settings = SearchSettings(**{"epochs": 2, "batch_size": 32, "seed": 0, "device": "cpu", **settings})
    return search(space, method, cache, settings, out, progress=False)


def test_family_entropy_is_the_mean_entropy_of_the_softmax_of_each_choice(space):
    strategy = plugins.strategies.get("stgs")()
    logits, expected = {}, {}
    for i, (name, choice) in enumerate(space.choices.items()):
        phi = [0.7 * ((i + k) % 3) - 0.5 * k for k in range(len(choice.candidates))]
        logits[name] = torch.tensor(phi)
        z = sum(math.exp(v) for v in phi)
        p = [math.exp(v) / z for v in phi]
        expected.setdefault(choice.family, []).append(-sum(q * math.log(q) for q in p))
    got = family_entropy(space, strategy, logits)
    assert set(got) == set(expected)
    for family, values in expected.items():
        assert got[family] == pytest.approx(sum(values) / len(values), abs=1e-6), family


def test_selection_is_by_auc_which_a_one_class_predictor_cannot_win():
    one_class = {"acc": 0.8, "auc": 0.5, "loss": 0.5}  # predicts the majority class
    ranking = {"acc": 0.7, "auc": 0.9, "loss": 0.6}
    assert better_derived(ranking, one_class) and not better_derived(one_class, ranking)
    assert better_derived({"acc": 0.5, "auc": 0.9, "loss": 0.4}, ranking), "ties by the lower loss"
    assert better_derived(dict(ranking), ranking), "a full tie goes to the later epoch"
    assert not better_derived({"acc": 1.0, "auc": float("nan"), "loss": 0.1}, ranking)


def test_best_keeps_the_epoch_of_the_highest_auc_not_of_the_highest_accuracy(
        planted_cache, tiny_config, tmp_path, monkeypatch):
    scores = iter([{"acc": 0.9, "auc": 0.6, "loss": 0.5}, {"acc": 0.6, "auc": 0.8, "loss": 0.7},
                   {"acc": 0.7, "auc": 0.7, "loss": 0.6}])
    monkeypatch.setattr(bilevel._Search, "score", lambda self, arch: next(scores))
    result = _search(planted_cache, tiny_config, tmp_path / "run", epochs=3, select="best")
    assert result.architecture.metrics["best_epoch"] == 2
    assert result.architecture.metrics["select"] == "best"
    assert dict(result.architecture.choices) == result.history[1]["choices"]
    assert [r["derived_val_auc"] for r in result.history] == [0.6, 0.8, 0.7]


def test_final_derives_from_the_final_logits_and_scores_once(
        planted_cache, tiny_config, tmp_path, monkeypatch):
    calls = []
    real = bilevel._Search.score
    monkeypatch.setattr(bilevel._Search, "score", lambda self, arch: calls.append(arch) or real(self, arch))
    run = tmp_path / "run"
    result = _search(planted_cache, tiny_config, run, epochs=3, select="final")
    state = torch.load(run / "checkpoint.pt", weights_only=True)
    _, space, strategy = _setup(planted_cache, tiny_config)
    final = strategy.derive(space, state["arch"])
    assert dict(result.architecture.choices) == dict(final.choices)
    assert len(calls) == 1 and dict(calls[0].choices) == dict(final.choices)
    metrics = result.architecture.metrics
    assert metrics["select"] == "final" and metrics["best_epoch"] == 3
    assert metrics["val_auc"] is not None and metrics["val_auc"] == result.history[-1]["derived_val_auc"]
    assert [r["derived_val_auc"] is None for r in result.history] == [True, True, False]
    assert [r["choices"] for r in result.history][-1] == dict(final.choices)


def test_select_defaults_to_the_strategys(planted_cache, tiny_config, tmp_path, monkeypatch):
    monkeypatch.setattr(plugins.strategies.get("bmnas").load(), "default_select", "final")
    for name, select in (("stgs", "best"), ("bmnas", "final")):
        result = _search(planted_cache, tiny_config, tmp_path / name, strategy=name, epochs=1)
        assert result.architecture.metrics["select"] == select


def test_the_architecture_step_runs_m_architectures_split_over_the_batch(
        planted_cache, tiny_config, tmp_path):
    """One arch step's gradient is the straight-through gradient of the batch-mean loss with
    per-example one-hot weights drawn as ``relax(batch=B)`` draws them: M groups, not one
    architecture for the whole batch."""
    samples, batch = 3, 8
    cache, space, strategy = _setup(planted_cache, tiny_config, samples=samples)
    loop = bilevel._Search(space, strategy, cache, SearchSettings(batch_size=batch, device="cpu"),
                           tmp_path / "run", False, None)
    val = loop.data["val"]
    positions = torch.arange(batch)
    taps, labels = val.get(positions)
    names = list(loop.logits)
    torch.manual_seed(5)
    weights = strategy.all_weights(space, loop.logits, training=True, batch=batch)
    expected = torch.autograd.grad(val.loss(loop.network(taps, weights), labels),
                                   [loop.logits[n] for n in names])
    for name, w in weights.items():
        rows = {tuple(r.tolist()) for r in w.detach()}
        assert w.shape == (batch, len(space.choices[name].candidates))
        assert len(rows) <= samples and torch.equal(w.detach().sum(-1), torch.ones(batch))
    assert any(len({tuple(r.tolist()) for r in w.detach()}) > 1 for w in weights.values())
    seen = {}
    loop.arch_opt.step = lambda: seen.update({n: loop.logits[n].grad.clone() for n in names})
    torch.manual_seed(5)
    loop.arch_step(val, positions)
    for name, grad in zip(names, expected, strict=True):
        torch.testing.assert_close(seen[name], grad)
