"""The BM-NAS strategy (see :mod:`automm_bmnas` for what it does and why)."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from automm_darts.strategy import DartsStrategy
from torch import Tensor, nn

from automm.ir import SearchSpace
from automm.strategy import adam
from automm_bmnas import OPTIONS


class BmnasStrategy(DartsStrategy):
    """Softmax relaxation with BM-NAS's optimiser settings and pair-derivation rule."""

    name = "bmnas"
    options = OPTIONS
    schedule_per_batch = True

    def weight_optimizer(
        self, params: list[nn.Parameter], epochs: int
    ) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
        opt = adam(params, lr=1e-3, weight_decay=3e-4)
        sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=1, T_mult=2, eta_min=1e-6)
        return opt, sched

    def derive_inputs(self, space: SearchSpace, logits: Mapping[str, Tensor]) -> dict[str, str]:
        """Pair rule: the best pair not taken by an earlier node of the same level, else the best."""
        choices: dict[str, str] = {}
        taken: dict[str | None, set[frozenset[str]]] = {}
        for owner, slots in space.input_groups().items():
            level = taken.setdefault(space.graph.nodes[owner].get("cell"), set())
            picked = self.derive_slots(slots, logits, avoid=level)
            level.add(frozenset(picked.values()))
            choices.update(picked)
        return choices
