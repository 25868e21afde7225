"""A search with the random-search baseline: weight steps only, the logits stay uniform, the
result is one of the epochs' uniform draws."""

from __future__ import annotations

from pathlib import Path

import torch

from automm import plugins
from automm.data import FeatureCache
from automm.run.binding import space_for_cache
from automm.train import SearchSettings, search
from automm.train.bilevel import family_entropy


def test_random_search_never_steps_the_logits_and_stays_uniform(planted_cache: Path, tiny_config: dict,
                                                                tmp_path: Path) -> None:
    config = tiny_config
    cache = FeatureCache.open(planted_cache)
    space = space_for_cache(plugins.spaces.get("bimodal-deepfake"), config, cache)
    strategy = plugins.strategies.get("random")()
    result = search(space, strategy, cache, SearchSettings(epochs=2, batch_size=32, device="cpu"),
                    tmp_path / "run", progress=False)
    state = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert all(torch.equal(v, torch.zeros_like(v)) for v in state["arch"].values())
    assert state["arch_optimizer"]["state"] == {}, "no architecture step was taken"
    uniform = family_entropy(space, strategy, state["arch"])
    assert all(r["entropy"] == uniform for r in result.history)
    assert result.architecture.metrics["select"] == "best"
    assert dict(result.architecture.choices) in [r["choices"] for r in result.history]
