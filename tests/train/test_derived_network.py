"""The derived network: a hand-counted parameter total, and the supernet with one-hot weights
computing exactly the derived network's function."""

from __future__ import annotations

import random

import pytest
import torch

from automm import plugins
from automm.ir import Architecture
from automm.nn import FusionNetwork, count_parameters
from automm.train.steps import inherit_weights, one_hot_weights


def _space(**config):
    definition = plugins.spaces.get("bimodal-deepfake")
    return definition.build(definition.config_type.from_dict(config))


def test_parameter_count_matches_a_hand_count() -> None:
    C = 4
    space = _space(C=C, L=2, cells=1, steps=2, image_taps=2, audio_taps=1,
                   tap_channels={"image/1": 3, "image/2": 5, "audio/1": 6})
    arch = Architecture(space.name, space.config.to_dict(), {
        "cell/1/in/1": "image/1", "cell/1/in/2": "audio/1",
        "cell/1/step/1/in/1": "cell/1/in/1", "cell/1/step/1/in/2": "cell/1/in/2",
        "cell/1/step/1/op": "linear-glu",
        "cell/1/step/2/in/1": "cell/1/step/1", "cell/1/step/2/in/2": "cell/1/in/1",
        "cell/1/step/2/op": "concat-fc"})
    reducers = (3 * C + 2 * C) + (6 * C + 2 * C)  # 1x1 conv without bias + batch norm; image/2 unused
    glu = 2 * (C * C + C)  # two 1x1 convs with bias
    concat_fc = 2 * C * C + C
    projection = 2 * C * C + 2 * C  # two steps concatenated -> C, batch norm
    head = 1 * C * 2 + 2  # one cell -> 2 classes
    hand = reducers + glu + concat_fc + projection + head
    assert hand == 178
    assert count_parameters(FusionNetwork(space, arch)) == hand


@pytest.mark.parametrize("seed", range(3))
def test_supernet_with_one_hot_weights_is_the_derived_network(seed: int) -> None:
    space = _space(C=8, L=3, cells=2, steps=2, tap_channels={"image/3": 5, "audio/2": 7})
    rng = random.Random(seed)
    arch = Architecture(space.name, space.config.to_dict(),
                        {n: rng.choice(c.candidates) for n, c in space.choices.items()})
    torch.manual_seed(seed)
    supernet = FusionNetwork(space)
    for p in supernet.parameters():  # move batch norm away from the identity, too
        p.data.normal_(0, 0.5)
    for name, buffer in supernet.named_buffers():
        if name.endswith("running_var"):
            buffer.uniform_(0.5, 2.0)
        elif name.endswith("running_mean"):
            buffer.normal_()
    derived = inherit_weights(FusionNetwork(space, arch), supernet)
    assert set(derived.state_dict()) <= set(supernet.state_dict())
    taps = {t: torch.randn(4, space.graph.nodes[t]["channels"], 5) for t in space.taps}
    supernet.eval()
    derived.eval()
    with torch.no_grad():
        expected = derived(taps)
        got = supernet(taps, one_hot_weights(space, arch))
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)


def test_supernet_with_per_example_one_hot_weights_runs_each_example_through_its_architecture() -> None:
    """What the single-path readings search: example b of a batch goes through architecture b, and
    the supernet's output for it is that architecture's derived network's output."""
    space = _space(C=8, L=3, cells=2, steps=2, tap_channels={"image/3": 5, "audio/2": 7})
    torch.manual_seed(0)
    supernet = FusionNetwork(space)
    for p in supernet.parameters():
        p.data.normal_(0, 0.5)
    supernet.eval()
    rng = random.Random(0)
    archs = [Architecture(space.name, space.config.to_dict(),
                          {n: rng.choice(c.candidates) for n, c in space.choices.items()}) for _ in range(4)]
    per_arch = [one_hot_weights(space, a) for a in archs]
    weights = {name: torch.stack([w[name] for w in per_arch]) for name in space.choices}  # (B, K)
    taps = {t: torch.randn(4, space.graph.nodes[t]["channels"], 5) for t in space.taps}
    with torch.no_grad():
        got = supernet(taps, weights)
        for b, arch in enumerate(archs):
            derived = inherit_weights(FusionNetwork(space, arch), supernet).eval()
            one = {t: x[b:b + 1] for t, x in taps.items()}
            torch.testing.assert_close(got[b:b + 1], derived(one), rtol=1e-5, atol=1e-6)
