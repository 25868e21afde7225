"""automm_stgs: straight-through Gumbel-softmax relaxation with M samples (STGS-BMNAS).

DARTS with only the relaxation replaced (as GDAS is DARTS with the sampling overridden): the
network, the search loop and the derivation are those of :class:`automm_darts.DartsStrategy`.

Training, per choice with logits ``phi`` (K candidates), temperature ``lambda``, M samples:
``G`` is an ``(M, K)`` matrix of Gumbel(0, 1) noise ``-log(-log U)`` drawn in one tensor op
from torch's global RNG (so seeding and RNG-state checkpoints reproduce a run);
``y_m = softmax((phi + G_m) / lambda)`` are the soft samples and ``h_m = one_hot(argmax y_m)``
the hard ones. Ensembles:

- ``max`` (default, ensemble Gumbel-softmax of Chang et al. 2019): ``h = max_m h_m`` (a multi-hot
  mask), ``y = max_m y_m``, ``w = h - stopgrad(y) + y``;
- ``mean``: ``w = mean_m(h_m - stopgrad(y_m) + y_m)`` (forward weights = sample frequencies).

``w`` is computed as ``h + (y - stopgrad(y))``: the same gradient, and forward values exactly
``h``. Evaluation draws no noise: ``w = softmax(phi / lambda)``.

:meth:`probabilities` (entropy logging, derivation) is ``softmax(phi)``: the categorical
distribution the Gumbel-max samples are drawn from (``argmax(phi + G)`` does not depend on
``lambda``), not the tempered evaluation weights.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from automm_darts import DartsStrategy
from torch import Tensor

import automm
from automm.errors import AutommError
from automm.strategy import StrategyOption

ENSEMBLES = ("max", "mean")


class StgsStrategy(DartsStrategy):
    """Straight-through Gumbel-softmax with an ensemble of M hard samples."""

    name = "stgs"
    options = (
        StrategyOption("temperature", float, 10.0, "Gumbel-softmax temperature lambda (> 0)"),
        StrategyOption("samples", int, 15, "sampling times M: Gumbel samples per choice and step"),
        StrategyOption("ensemble", str, "max",
                       "how the M hard samples combine: max (multi-hot mask) or mean (frequencies)"),
    )

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._check()

    def _check(self) -> None:
        p = self.params
        if not p["temperature"] > 0:
            raise AutommError(f"stgs: temperature must be > 0 (got {p['temperature']})")
        if p["samples"] < 1:
            raise AutommError(f"stgs: samples must be >= 1 (got {p['samples']})")
        if p["ensemble"] not in ENSEMBLES:
            raise AutommError(f"stgs: ensemble must be one of {', '.join(ENSEMBLES)} "
                              f"(got {p['ensemble']!r})")

    def sample(self, logits: Tensor) -> tuple[Tensor, Tensor]:
        """M soft samples ``y`` and their hard one-hot samples ``h``, both ``(M, *logits.shape)``,
        from one draw of uniform noise."""
        u = torch.rand((self.params["samples"], *logits.shape), dtype=logits.dtype,
                       device=logits.device)
        gumbel = -torch.log(-torch.log(u.clamp_min(torch.finfo(u.dtype).tiny)))
        perturbed = logits + gumbel
        soft = torch.softmax(perturbed / self.params["temperature"], dim=-1)
        hard = F.one_hot(perturbed.argmax(dim=-1), logits.shape[-1]).to(logits.dtype)
        return soft, hard

    def relax(self, logits: Tensor, training: bool) -> Tensor:
        if not training:
            return torch.softmax(logits / self.params["temperature"], dim=-1)
        soft, hard = self.sample(logits)
        if self.params["ensemble"] == "max":
            h, y = hard.amax(dim=0), soft.amax(dim=0)
        else:
            h, y = hard.mean(dim=0), soft.mean(dim=0)
        return h + (y - y.detach())

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        super().load_state_dict(state)
        self._check()


@automm.hookimpl
def automm_register_strategies(register) -> None:
    """Register ``stgs``."""
    register("stgs", StgsStrategy)
