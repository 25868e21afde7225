"""The random-search strategy (see :mod:`automm_random` for what it does and why)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

import torch
import torch.nn.functional as F
from automm_darts.strategy import DartsStrategy
from torch import Tensor, nn

from automm.ir import Architecture, SearchSpace

T = TypeVar("T")


class RandomStrategy(DartsStrategy):
    """Uniform single paths in training, uniform random derivations, logits never trained."""

    name = "random"
    options = ()

    @property
    def single_path(self) -> bool:
        return True

    def init_arch_params(self, space: SearchSpace,
                         generator: torch.Generator | None = None) -> dict[str, nn.Parameter]:
        """Zeros: the uniform distribution, for good."""
        return {name: nn.Parameter(torch.zeros(len(c.candidates))) for name, c in space.choices.items()}

    def relax(self, logits: Tensor, training: bool, batch: int | None = None) -> Tensor:
        """Training: a uniform one-hot draw per example (one for all without ``batch``); the
        straight-through term of ``softmax(logits)`` leaves the values one-hot (gradients reach
        the logits, which are never stepped). Evaluation: ``softmax(logits)``, uniform."""
        soft = torch.softmax(logits, dim=-1)
        if not training:
            return soft
        shape = logits.shape if batch is None else (batch, *logits.shape)
        noise = torch.rand(shape, dtype=logits.dtype, device=logits.device)
        hard = F.one_hot((logits.detach() + noise).argmax(dim=-1), logits.shape[-1]).to(logits.dtype)
        return hard + (soft - soft.detach())

    def derive(self, space: SearchSpace, logits: Mapping[str, Tensor]) -> Architecture:
        """A uniformly random architecture: the base derivation of i.i.d. uniform scores."""
        scores = {name: torch.rand(len(c.candidates)) for name, c in space.choices.items()}
        return super().derive(space, scores)

    def step(self, weight_step: Callable[[], T], arch_step: Callable[[], None]) -> T:
        """Weight steps only: the logits are never trained."""
        return weight_step()
