"""Operations on a network's weights: one optimiser step, one-hot supernet weights, weight
inheritance from the supernet, fresh batch-norm statistics."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
from torch import Tensor, nn

from automm.ir.architecture import Architecture
from automm.ir.space import SearchSpace
from automm.nn.network import FusionNetwork
from automm.train.device import autocast


def one_hot_weights(space: SearchSpace, arch: Architecture, device: torch.device | None = None
                    ) -> dict[str, Tensor]:
    """Supernet weights selecting exactly ``arch``: with them the supernet computes the
    derived network's function."""
    out = {}
    for name, choice in space.choices.items():
        w = torch.zeros(len(choice.candidates), device=device)
        w[choice.candidates.index(arch[name])] = 1.0
        out[name] = w
    return out


def weight_update(network: Callable[..., Tensor], optimizer: torch.optim.Optimizer,
                  taps: Mapping[str, Tensor], labels: Tensor, weights: Mapping[str, Tensor] | None,
                  loss_fn: Callable[[Tensor, Tensor], Tensor], *, hard: bool = False,
                  precision: str = "fp32") -> tuple[Tensor, Tensor]:
    """One optimiser step of the network weights on a batch (forward under ``precision``'s
    :func:`autocast`); returns (loss, class logits).

    ``hard``: the weights are one-hot, so only the chosen candidates run
    (:meth:`FusionNetwork.features`); parameters that took no part get zero gradients, as the full
    mixture gives them, so that the update (weight decay, moments) is the same. (Gradients are set
    to ``None`` first either way: backward then stores them instead of adding them to zeros.)
    """
    with autocast(labels.device, precision):
        logits = network(taps, weights, hard=hard)
        loss = loss_fn(logits, labels)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if hard:
        for group in optimizer.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    p.grad = torch.zeros_like(p)
    optimizer.step()
    return loss, logits


def inherit_weights(derived: FusionNetwork, supernet: FusionNetwork) -> FusionNetwork:
    """Copy the supernet's parameters and buffers into ``derived`` (same names); return it."""
    state = supernet.state_dict()
    derived.load_state_dict({k: state[k] for k in derived.state_dict()})
    return derived


def reset_batch_norm(model: nn.Module) -> None:
    """Forget batch-norm statistics; the next training-mode passes set them to exact averages."""
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None
