"""Single-path weight steps: with hard (one-hot) weights the supernet runs each candidate only on
the examples that chose it, and a weight step (loss, gradients, updated weights, batch-norm
statistics, also of a batch-norm op) equals that of the full mixture."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from automm import plugins
from automm.errors import ArchitectureError
from automm.nn import FusionNetwork
from automm.nn.network import routes
from automm.train.steps import weight_update

BATCH = 12
READINGS = [{"ensemble": "split", "samples": 5}, {"ensemble": "split", "samples": 1},
            {"ensemble": "max-soft", "samples": 3}]


class NormedSum(nn.Module):
    """A batch-coupled op: ``BN(x + y)`` (its output for an example depends on the others)."""

    def __init__(self, C: int, L: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm1d(C)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        return self.bn(x + y)


def _factory(name: str):
    return NormedSum if name == "sum" else plugins.fusion_ops.get(name)


def _setup(seed: int, coupled: bool = True) -> tuple:
    definition = plugins.spaces.get("bimodal-deepfake")
    space = definition.build(definition.config_type.from_dict(
        {"C": 8, "L": 3, "cells": 2, "steps": 2, "tap_channels": {"image/3": 5, "audio/2": 7}}))
    torch.manual_seed(seed)
    net = FusionNetwork(space, **({"op_factory": _factory} if coupled else {})).train()
    for p in net.parameters():
        p.data.normal_(0, 0.5)
    taps = {t: torch.randn(BATCH, space.graph.nodes[t]["channels"], 5) for t in space.taps}
    labels = torch.randint(0, 2, (BATCH,))
    return space, net, taps, labels


def _weights(space, reading: dict, seed: int, grad: bool):
    strategy = plugins.strategies.get("stgs")(**reading)
    logits = strategy.init_arch_params(space, torch.Generator().manual_seed(seed))
    for v in logits.values():  # far from uniform, so that choices differ between candidates
        v.data.normal_(0, 1.0, generator=torch.Generator().manual_seed(seed))
    torch.manual_seed(seed)
    with torch.set_grad_enabled(grad):
        weights = strategy.all_weights(space, logits, training=True, batch=BATCH)
    return logits, weights


def _buffers(net: nn.Module) -> dict[str, Tensor]:
    return {k: v for k, v in net.state_dict().items() if "running" in k}


@pytest.mark.parametrize("reading", READINGS, ids=lambda r: f"{r['ensemble']}-M{r['samples']}")
@pytest.mark.parametrize("seed", range(3))
def test_a_hard_weight_step_equals_the_full_mixture(reading: dict, seed: int) -> None:
    space, full, taps, labels = _setup(seed)
    hard = copy.deepcopy(full)
    _, weights = _weights(space, reading, seed, grad=False)
    strategy = plugins.strategies.get("stgs")(**reading)
    results = []
    for net, flag in ((full, False), (hard, True)):
        opt, _ = strategy.weight_optimizer(list(net.parameters()), epochs=1)
        for _ in range(2):  # the second step starts from zeroed, not absent, gradients
            loss, logits = weight_update(net, opt, taps, labels, weights, F.cross_entropy, hard=flag)
        results.append((loss, logits, {k: p.grad for k, p in net.named_parameters()}))
    (loss_f, logits_f, grads_f), (loss_h, logits_h, grads_h) = results
    torch.testing.assert_close(loss_h, loss_f, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(logits_h, logits_f, rtol=1e-5, atol=1e-5)
    assert grads_h.keys() == grads_f.keys()
    for name, g in grads_f.items():
        torch.testing.assert_close(grads_h[name], g, rtol=1e-4, atol=1e-5, msg=name)
    torch.testing.assert_close(dict(hard.named_parameters()), dict(full.named_parameters()),
                               rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(_buffers(hard), _buffers(full), rtol=1e-5, atol=1e-6)


def test_hard_routing_refuses_weights_that_need_a_gradient() -> None:
    """Architecture steps need every candidate's output (the straight-through gradient of the
    weights): hard routing, which skips unchosen candidates, is refused for them."""
    space, net, taps, _ = _setup(0)
    _, weights = _weights(space, READINGS[0], 0, grad=True)
    with pytest.raises(ArchitectureError, match="no gradient"):
        net(taps, weights, hard=True)


def test_each_op_sees_only_the_examples_that_chose_it() -> None:
    space, net, taps, _ = _setup(0, coupled=False)
    _, weights = _weights(space, {"ensemble": "split", "samples": 6}, 0, grad=False)
    seen: dict[str, int] = {}
    for step, ops in net._ops.items():
        for op_name, op in ops.items():
            op.register_forward_hook(
                lambda _m, args, _out, key=f"{step}:{op_name}": seen.__setitem__(
                    key, seen.get(key, 0) + args[0].shape[0]))
    with torch.no_grad():
        net(taps, weights, hard=True)
    chosen = {f"{n.name}:{op}": int(count)
              for n in net.plan.nodes if n.op is not None
              for op, count in zip(space.choices[n.op].candidates, weights[n.op].sum(0), strict=True)}
    assert {k: v for k, v in chosen.items() if v} == seen
    assert sum(1 for v in chosen.values() if v == 0) > 0  # some ops were skipped entirely
    route = routes(weights, BATCH)
    assert any(r.shared is None for r in route.values())  # the per-example path ran
