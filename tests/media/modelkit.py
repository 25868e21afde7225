"""Model directories as ``automm evaluate`` writes them, made directly from a feature cache."""

from __future__ import annotations

import random
from pathlib import Path

import torch
from safetensors.torch import save_file

from automm import plugins
from automm.data import FeatureCache
from automm.fileio import write_json
from automm.ir import Architecture, save_architecture
from automm.nn.network import FusionNetwork
from automm.train.thresholds import choose_thresholds


def write_model(cache: FeatureCache, out: Path, source: dict | None = None, *,
                bimodal: bool = False) -> FusionNetwork:
    """What ``automm evaluate`` writes: arch.json (with provenance) and model.safetensors, of a
    random architecture (``bimodal``: one that reads taps of both modalities)."""
    definition = plugins.spaces.get("bimodal-deepfake")
    config = definition.config_type(C=8, L=4, tap_channels={t: c for t, (c, _) in cache.taps.items()})
    space = definition.build(config)
    data = {"path": str(cache.path), "fingerprint": cache.fingerprint,
            "source": source if source is not None else cache.manifest["source"]}
    rng = random.Random(0)
    while True:
        choices = {n: rng.choice(c.candidates) for n, c in space.choices.items()}
        arch = Architecture(space.name, config.to_dict(), choices, provenance={"data": data})
        if not bimodal or len({t.split("/")[0] for t in FusionNetwork(space, arch).taps}) == 2:
            break
    out.mkdir(parents=True)
    save_architecture(arch, out / "arch.json")
    torch.manual_seed(0)
    net = FusionNetwork(space, arch, dropout=0.2).eval()
    save_file(net.state_dict(), str(out / "model.safetensors"))
    return net


def write_evaluation(cache: FeatureCache, out: Path, source: dict | None = None) -> FusionNetwork:
    """:func:`write_model` (bimodal) and a ``metrics.json`` whose thresholds are chosen on every
    cached video."""
    net = write_model(cache, out, source, bimodal=True)
    labels = torch.tensor([s["label"] for s in cache.samples])
    with torch.no_grad():
        scores = torch.softmax(net(cache.batch(range(len(cache)))), dim=-1)[:, 1]
    write_json(out / "metrics.json", {"test_auc": None, "data": {"fingerprint": cache.fingerprint},
                                      "thresholds": choose_thresholds(scores.numpy(), labels.numpy(), 0.05)})
    return net
